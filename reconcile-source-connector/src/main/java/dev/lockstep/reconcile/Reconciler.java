package dev.lockstep.reconcile;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockstep.smt.hash.FieldMapping;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run over some tables: per table, compare ({@link SegmentComparer}), settle, classify, explain, repair and
 * validate ({@link TableRun}), score, then record the outcome in the audit trail (topic and index), the metrics and
 * the connector's offsets. A table that fails (unreachable, dropped, a column type that cannot be compared) is
 * reported with its error; the other tables go on.
 */
final class Reconciler {
    private static final Logger LOG = LoggerFactory.getLogger(Reconciler.class);

    /** A table's schedule state, as kept in the connector's offsets. */
    record TableState(long lastRunStartMs, long lastSuccessMs, long verifiedThroughMs, String lastRunId) {
        static final TableState NEVER = new TableState(0, 0, 0, null);

        Map<String, Object> offset() {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("last_run_start_ms", lastRunStartMs);
            o.put("last_success_ms", lastSuccessMs);
            o.put("verified_through_ms", verifiedThroughMs);
            o.put("last_run_id", lastRunId == null ? "" : lastRunId);
            return o;
        }

        static TableState of(Map<String, Object> offset) {
            if (offset == null) {
                return NEVER;
            }
            return new TableState(number(offset.get("last_run_start_ms")), number(offset.get("last_success_ms")),
                    number(offset.get("verified_through_ms")), String.valueOf(offset.getOrDefault("last_run_id", "")));
        }

        private static long number(Object o) {
            return o instanceof Number n ? n.longValue() : 0;
        }
    }

    private final ReconcileConfig config;
    private final String connectorName;
    private final SearchSide search;
    private final ReconcileMetrics metrics;
    /** Per table, the previous run's PostgreSQL checksums by segment (null when segment.reuse.unchanged is off). */
    private final Map<String, RowVersionCache> caches = new java.util.concurrent.ConcurrentHashMap<>();
    /** The signal channel's producer, with repair.mode=debezium-signal. */
    private final DebeziumSignals signals;

    Reconciler(ReconcileConfig config, String connectorName, SearchSide search, ReconcileMetrics metrics) {
        this.config = config;
        this.connectorName = connectorName;
        this.search = search;
        this.metrics = metrics;
        this.signals = config.repairMode() == ReconcileConfig.RepairMode.DEBEZIUM_SIGNAL ? new DebeziumSignals(config) : null;
    }

    void close() {
        if (signals != null) {
            signals.close();
        }
    }

    /**
     * Reconciles one table: returns its new schedule state. The report goes to the audit index and, through the
     * outlet, to the audit topic (the record that also carries the new state as its offset).
     */
    TableState run(String runId, String trigger, Assignment assignment, TableState previous, TableRun.RepairOutlet outlet)
            throws InterruptedException {
        return run(runId, trigger, assignment, previous, outlet, null);
    }

    /**
     * Reconciles one table against {@code index} (null: the table's own), as a rebuild verifies the next version of
     * its index before the alias moves to it. The run counts as verified when its state's last success is its start.
     */
    TableState run(String runId, String trigger, Assignment assignment, TableState previous, TableRun.RepairOutlet outlet, String index)
            throws InterruptedException {
        ReconcileConfig.TableName name = assignment.table();
        long started = System.currentTimeMillis();
        ObjectNode report = SearchSide.JSON.createObjectNode();
        report.put("run_id", runId).put("connector", connectorName).put("trigger", trigger)
                .put("started_at", Instant.ofEpochMilli(started).toString());
        TableState next = new TableState(started, previous.lastSuccessMs(), previous.verifiedThroughMs(), runId);
        ReconcileMetrics.Table gauges = metrics.table(assignment);
        List<PostgresSide> connections = new ArrayList<>();
        SearchSide.View view = null;
        try {
            // One rate budget per table and run, shared by its connections (an idle task saves up no allowance).
            Throttle throttle = new Throttle(config.getLong(ReconcileConfig.MAX_ROWS_PER_SECOND));
            int n = config.getInt(ReconcileConfig.DATABASE_MAX_CONNECTIONS);
            for (int i = 0; i < n; i++) {
                connections.add(new PostgresSide(config, throttle));
            }
            PostgresSide pg = connections.get(0);
            FieldMapping mapping = FieldMapping.from(new AbstractConfig(dev.lockstep.smt.ToSearchDocument.CONFIG_DEF, config.documentOptions()));
            TableSpec read = TableSpec.read(pg.connection(), name, mapping, config.getString(ReconcileConfig.TOPIC_PREFIX),
                    config.getString(ReconcileConfig.INDEX_NAME_PATTERN));
            TableSpec table = index == null ? read : read.withIndex(index);
            if (index != null) {
                report.put("index", index);
            }
            // before the commit: PgJDBC answers it with a query, which would otherwise open the comparison's snapshot
            String database = pg.connection().getCatalog();
            pg.connection().commit();
            StreamRecords records = new StreamRecords(table, config.topicLayout(), config.documentOptions(), connectorName, database);
            view = search.open(table);
            SegmentComparer comparer = new SegmentComparer(table, records, search, view, config,
                    config.getBoolean(ReconcileConfig.SEGMENT_REUSE_UNCHANGED) ? caches.computeIfAbsent(assignment.toString(), k -> new RowVersionCache()) : null);
            SegmentComparer.Result compared = comparer.compare(connections, assignment);
            gauges.rowsCompared.increment(compared.sourceRows.get());
            TableRun tableRun = new TableRun(table, records, search, config, signals);
            tableRun.settle(pg, compared.candidates);
            boolean repairs = config.repairMode() != ReconcileConfig.RepairMode.REPORT_ONLY;
            SegmentLoad load = null;
            if (repairs && !compared.unindexed.isEmpty()) {
                load = new SegmentLoad(table, () -> new StreamRecords(table, config.topicLayout(), config.documentOptions(), connectorName,
                        database), search, config, signals, compared.unindexed);
                load.load(connections, outlet, assignment.partition(), previous.offset());
            }
            if (repairs && tableRun.confirmedCount() > 0) {
                Map<String, long[]> repaired = tableRun.repair(pg, outlet, assignment.partition(), previous.offset());
                tableRun.validate(pg, repaired, outlet);
            }
            if (load != null) {
                load.validate(pg, comparer, outlet);
            }
            tableRun.unindexed(compared.unindexedRows.get(), load);
            pg.freshSnapshot();
            ObjectNode tableReport = tableRun.report(pg, compared);
            if (!assignment.isWhole()) {
                tableReport.putObject("key_range").put("share", assignment.keyRange()).put("from", String.valueOf(assignment.span().lo()))
                        .put("to", String.valueOf(assignment.span().hi()));
            }
            report.set("table", tableReport);
            boolean verified = (tableRun.confirmedCount() == 0 && compared.unindexed.isEmpty()) || (repairs && tableRun.repairsDeferred == 0
                    && tableRun.count(TableRun.Outcome.STILL_WRONG) == 0 && (load == null || load.unconfirmed() == 0));
            long ended = System.currentTimeMillis();
            if (verified) {
                next = new TableState(started, ended, compared.firstSnapshotAt, runId);
            }
            report.put("verified", verified);
            ObjectNode t = (ObjectNode) report.get("table");
            gauges.sourceRows.set(compared.sourceRows.get());
            gauges.destinationDocs.set(compared.destinationDocs.get());
            gauges.matched.set(t.get("matched").asLong());
            gauges.scorePpm.set(Math.round(t.get("consistency_score").asDouble() * 10_000));
            gauges.unsettled.set(tableRun.unsettled);
            for (DriftClass c : DriftClass.values()) {
                gauges.mismatches.get(c).set(tableRun.count(c));
            }
            gauges.stillWrong.set(tableRun.count(TableRun.Outcome.STILL_WRONG));
            gauges.repairs("emitted", tableRun.repairsEmitted + (load == null ? 0 : load.rows.get()));
            gauges.repairs("repaired", tableRun.count(TableRun.Outcome.REPAIRED) + (load == null ? 0 : load.confirmedRows.get()));
            gauges.repairs("superseded", tableRun.count(TableRun.Outcome.SUPERSEDED));
            gauges.repairs("still_wrong", tableRun.count(TableRun.Outcome.STILL_WRONG));
            LOG.info("Reconciler {} run {}: {} score {} ({} source rows, {} documents), mismatches {}, repairs {}", connectorName, runId,
                    assignment, t.get("consistency_score"), compared.sourceRows.get(), compared.destinationDocs.get(), counts(tableRun),
                    t.get("repairs"));
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            LOG.error("Reconciler {} run {}: table {} failed: {}", connectorName, runId, assignment, e.toString(), e);
            ObjectNode t = report.putObject("table");
            t.put("table", name.toString()).put("error", String.valueOf(e.getMessage()));
            report.put("verified", false);
        } finally {
            search.close(view);
            connections.forEach(PostgresSide::close);
        }
        long ended = System.currentTimeMillis();
        report.put("ended_at", Instant.ofEpochMilli(ended).toString()).put("duration_ms", ended - started);
        if (next.verifiedThroughMs() > 0) {
            report.put("verified_through", Instant.ofEpochMilli(next.verifiedThroughMs()).toString());
        }
        if (next.lastSuccessMs() > 0) {
            report.put("last_successful_validation", Instant.ofEpochMilli(next.lastSuccessMs()).toString());
        }
        gauges.durationMs.set(ended - started);
        gauges.lastSuccessMs.set(next.lastSuccessMs());
        gauges.verifiedThroughMs.set(next.verifiedThroughMs());
        audit(runId, assignment, report, next, outlet);
        return next;
    }

    private static ObjectNode counts(TableRun run) {
        ObjectNode o = SearchSide.JSON.createObjectNode();
        run.confirmed.forEach((c, list) -> o.put(c.label(), list.size()));
        return o;
    }

    private void audit(String runId, Assignment assignment, ObjectNode report, TableState next, TableRun.RepairOutlet outlet)
            throws InterruptedException {
        String id = runId + ":" + assignment.table() + (assignment.isWhole() ? "" : "#" + assignment.keyRange());
        String index = config.getString(ReconcileConfig.AUDIT_INDEX);
        if (index != null && !index.isBlank()) {
            try {
                search.ensureAuditIndex(index);
                search.put(index, id, report);
            } catch (Exception e) {
                LOG.warn("Reconciler {}: cannot write run {} of {} to the audit index {}: {}", connectorName, runId, assignment, index, e.toString());
            }
        }
        String topic = config.getString(ReconcileConfig.AUDIT_TOPIC);
        @SuppressWarnings("unchecked")
        Map<String, Object> value = SearchSide.JSON.convertValue(report, Map.class);
        // The audit record carries the table's new schedule state as its offset: committed with it.
        SourceRecord record = new SourceRecord(assignment.partition(), next.offset(), topic, null, Schema.STRING_SCHEMA, id, null,
                value);
        outlet.emit(List.of(record));
    }
}
