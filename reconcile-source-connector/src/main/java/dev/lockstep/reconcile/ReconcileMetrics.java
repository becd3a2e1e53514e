package dev.lockstep.reconcile;

import dev.lockstep.sink.metrics.LockstepMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The reconciler's meters, in the bundle's one registry (served at the worker's {@code /metrics} next to the
 * sink's): per table the consistency score and the counts behind it, mismatches per class, the last successful
 * validation, verified_through, run duration, rows compared, repairs by outcome. The global score is
 * {@code sum(matched) / sum(source_rows)} over the tables (docs/reconciliation.md gives the query). Every meter has a
 * {@code key_range} label: {@code "all"} for a whole table, {@code "2/4"} for a share of one cut over several tasks,
 * so a table's figures are sums (counts) or minimums (timestamps) over its key ranges.
 */
final class ReconcileMetrics implements AutoCloseable {
    private final String connector;
    private final MeterRegistry registry = LockstepMetrics.registry();
    private final Map<Assignment, Table> tables = new ConcurrentHashMap<>();
    private final List<Meter> meters = new ArrayList<>();

    ReconcileMetrics(String connector) {
        this.connector = connector;
    }

    /** One table's gauges: values held here (strongly, so a GC never turns them into NaN). */
    final class Table {
        final AtomicLong scorePpm = new AtomicLong(-1);
        final AtomicLong sourceRows = new AtomicLong();
        final AtomicLong destinationDocs = new AtomicLong();
        final AtomicLong matched = new AtomicLong();
        final AtomicLong unsettled = new AtomicLong();
        final Map<DriftClass, AtomicLong> mismatches = new EnumMap<>(DriftClass.class);
        final AtomicLong lastSuccessMs = new AtomicLong();
        final AtomicLong verifiedThroughMs = new AtomicLong();
        final AtomicLong durationMs = new AtomicLong();
        final AtomicLong stillWrong = new AtomicLong();
        final Counter rowsCompared;
        final Map<String, Counter> repairs = new ConcurrentHashMap<>();
        private final Tags tags;

        Table(Assignment assignment) {
            tags = Tags.of("connector", connector, "table", assignment.table().toString(), "key_range", assignment.keyRange());
            gauge("lockstep_reconcile_consistency_score", "matched / source rows x 100 at the last run (-1: never run)", tags,
                    () -> scorePpm.get() < 0 ? -1 : scorePpm.get() / 10_000.0);
            gauge("lockstep_reconcile_source_rows", "rows in PostgreSQL at the last run", tags, sourceRows::get);
            gauge("lockstep_reconcile_destination_documents", "documents in OpenSearch at the last run", tags, destinationDocs::get);
            gauge("lockstep_reconcile_matched_rows", "rows whose document matched at the last run", tags, matched::get);
            gauge("lockstep_reconcile_unsettled", "ids still changing after the settle rounds at the last run (not drift)", tags, unsettled::get);
            for (DriftClass c : DriftClass.values()) {
                AtomicLong v = new AtomicLong();
                mismatches.put(c, v);
                gauge("lockstep_reconcile_mismatches", "confirmed mismatches at the last run, by class", tags.and("class", c.label()), v::get);
            }
            gauge("lockstep_reconcile_last_success_timestamp_seconds", "end of the last run that validated the table (epoch s)", tags,
                    () -> lastSuccessMs.get() / 1000.0);
            gauge("lockstep_reconcile_verified_through_timestamp_seconds",
                    "commit time up to which the table is known good (epoch s)", tags, () -> verifiedThroughMs.get() / 1000.0);
            gauge("lockstep_reconcile_run_duration_seconds", "duration of the table's last run", tags, () -> durationMs.get() / 1000.0);
            gauge("lockstep_reconcile_still_wrong", "repaired ids not confirmed by the last run's validation (retried next run)", tags,
                    stillWrong::get);
            rowsCompared = counter("lockstep_reconcile_rows_compared_total", "rows compared (hashed) by runs", tags);
        }

        void repairs(String outcome, long count) {
            repairs.computeIfAbsent(outcome, o -> counter("lockstep_reconcile_repairs_total",
                    "repair records by outcome: emitted, repaired, superseded, still_wrong", tags.and("outcome", o))).increment(count);
        }
    }

    Table table(Assignment assignment) {
        return tables.computeIfAbsent(assignment, Table::new);
    }

    private final Map<String, Counter> rebuilds = new ConcurrentHashMap<>();
    private final Map<String, java.util.concurrent.atomic.AtomicLong> lastRebuildMs = new ConcurrentHashMap<>();

    /** A rebuild of the table's index ended: {@code done} (the alias moved) or {@code failed}. */
    void rebuilt(ReconcileConfig.TableName table, String result) {
        Tags tags = Tags.of("connector", connector, "table", table.toString());
        rebuilds.computeIfAbsent(table + "/" + result, k -> counter("lockstep_reconcile_rebuilds_total",
                "index rebuilds behind the alias, by result: done (the alias moved to the new version) or failed", tags.and("result", result)))
                .increment();
        if (result.equals("done")) {
            lastRebuildMs.computeIfAbsent(table.toString(), k -> {
                java.util.concurrent.atomic.AtomicLong v = new java.util.concurrent.atomic.AtomicLong();
                gauge("lockstep_reconcile_last_rebuild_timestamp_seconds", "when the alias last moved to a rebuilt version (epoch s)", tags,
                        () -> v.get() / 1000.0);
                return v;
            }).set(System.currentTimeMillis());
        }
    }

    private void gauge(String name, String help, Tags tags, java.util.function.Supplier<Number> value) {
        synchronized (meters) {
            meters.add(Gauge.builder(name, value).description(help).tags(tags).strongReference(true).register(registry));
        }
    }

    private Counter counter(String name, String help, Tags tags) {
        Counter c = Counter.builder(name).description(help).tags(tags).register(registry);
        synchronized (meters) {
            meters.add(c);
        }
        return c;
    }

    @Override
    public void close() {
        synchronized (meters) {
            meters.forEach(registry::remove);
            meters.clear();
        }
    }
}
