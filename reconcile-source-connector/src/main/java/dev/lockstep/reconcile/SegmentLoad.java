package dev.lockstep.reconcile;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the top-level segments that have fewer documents than half their rows (a new table or pipeline, where the
 * stream has already indexed a few changed rows; a lost index): instead of bisecting them down to single ids, all
 * their rows are read once, in key-range order, on all connections at
 * once, and written into the table's topic as the repair path writes them (the same documents, keys and headers,
 * at the same safe versions: one above the highest version the index held before the rows were read). With
 * {@code repair.mode=debezium-signal}, Debezium is asked for an incremental snapshot of the segment's key range
 * instead. Validation compares each loaded segment's checksums again once the sink has indexed as many documents as
 * rows were written; a segment that does not match in time is left to the next run, which bisects it.
 */
final class SegmentLoad {
    private static final Logger LOG = LoggerFactory.getLogger(SegmentLoad.class);
    private static final int BATCH = 1_000;

    private final TableSpec table;
    private final Supplier<StreamRecords> records;
    private final SearchSide search;
    private final ReconcileConfig config;
    private final DebeziumSignals signals;
    private final List<Segment> segments;
    final Map<Segment, Long> written = Collections.synchronizedMap(new java.util.LinkedHashMap<>());
    final AtomicLong rows = new AtomicLong();
    final List<Segment> confirmed = Collections.synchronizedList(new ArrayList<>());
    final AtomicLong confirmedRows = new AtomicLong();
    volatile long writeMs;
    volatile long validateMs;

    SegmentLoad(TableSpec table, Supplier<StreamRecords> records, SearchSide search, ReconcileConfig config, DebeziumSignals signals,
            List<Segment> segments) {
        this.table = table;
        this.records = records;
        this.search = search;
        this.config = config;
        this.signals = signals;
        this.segments = segments;
    }

    /** Writes every row of the segments (or asks Debezium for them), the segments worked off on all connections at once. */
    void load(List<PostgresSide> connections, TableRun.RepairOutlet outlet, Map<String, ?> partition, Map<String, ?> offset)
            throws Exception {
        long started = System.currentTimeMillis();
        ConcurrentLinkedQueue<Segment> queue = new ConcurrentLinkedQueue<>(segments);
        List<Thread> workers = new ArrayList<>();
        List<Exception> failures = Collections.synchronizedList(new ArrayList<>());
        for (PostgresSide pg : connections) {
            Thread t = new Thread(() -> {
                StreamRecords mine = records.get();
                try {
                    for (Segment s; (s = queue.poll()) != null;) {
                        written.put(s, loadOne(pg, mine, s, outlet, partition, offset));
                    }
                } catch (InterruptedException e) {
                    failures.add(e);
                    queue.clear();
                } catch (Exception e) {
                    failures.add(e);
                    queue.clear();
                }
            }, "lockstep-reconcile-load-" + table);
            workers.add(t);
            t.start();
        }
        for (Thread t : workers) {
            t.join();
        }
        writeMs = System.currentTimeMillis() - started;
        if (!failures.isEmpty()) {
            throw failures.get(0);
        }
    }

    private long loadOne(PostgresSide pg, StreamRecords mine, Segment s, TableRun.RepairOutlet outlet, Map<String, ?> partition,
            Map<String, ?> offset) throws Exception {
        if (signals != null) {
            pg.freshSnapshot();
            long n = pg.versions(table, s).count();
            signals.requestSnapshot(table, DebeziumSignals.rangeFilter(table, s));
            rows.addAndGet(n);
            return n;
        }
        // The floor is read before the rows' snapshot: docs/lineage-and-versions.md, versions of repairs.
        long floor = search.maxVersion(table.index);
        pg.freshSnapshot();
        List<SourceRecord> batch = new ArrayList<>(BATCH);
        long n = pg.forEachRow(table, mine, s, BATCH, (row, xmin) -> {
            batch.add(mine.upsert(row, floor, floor + 1, xmin, partition, offset));
            if (batch.size() >= BATCH) {
                outlet.emit(new ArrayList<>(batch));
                batch.clear();
            }
        });
        outlet.emit(batch);
        rows.addAndGet(n);
        return n;
    }

    /**
     * Waits until Kafka has the records and the sink has indexed as many documents as rows were written in each
     * segment (or its count stopped growing: rows may have been deleted meanwhile), then compares the segment's
     * checksums on both sides; until {@code validation.timeout.ms}.
     */
    void validate(PostgresSide pg, SegmentComparer comparer, TableRun.RepairOutlet outlet) throws Exception {
        long started = System.currentTimeMillis();
        long deadline = started + config.getLong(ReconcileConfig.VALIDATION_TIMEOUT_MS);
        outlet.awaitAcknowledged(Math.max(0, deadline - System.currentTimeMillis()));
        List<Segment> open = new ArrayList<>(written.keySet());
        Map<Segment, Long> lastCount = new java.util.HashMap<>();
        while (!open.isEmpty()) {
            SearchSide.View view = search.open(table);
            try {
                pg.freshSnapshot();
                for (java.util.Iterator<Segment> it = open.iterator(); it.hasNext();) {
                    Segment s = it.next();
                    Observed.Checksum o = search.checksums(view, List.of(s)).get(0);
                    Long before = lastCount.put(s, o.count());
                    if (o.count() < written.get(s) && (before == null || before != o.count())) {
                        continue; // the sink is still indexing it (rows deleted meanwhile may keep it below what was written)
                    }
                    if (comparer.rowsChecksumNow(pg, s).equals(o)) {
                        confirmed.add(s);
                        confirmedRows.addAndGet(written.get(s));
                        it.remove();
                    }
                }
            } finally {
                search.close(view);
            }
            if (open.isEmpty() || System.currentTimeMillis() >= deadline) {
                break;
            }
            Thread.sleep(500);
        }
        validateMs = System.currentTimeMillis() - started;
        if (!open.isEmpty()) {
            LOG.warn("Reconciler: {} loaded segments of {} did not match within {} ms; the next run compares them again", open.size(),
                    table, config.getLong(ReconcileConfig.VALIDATION_TIMEOUT_MS));
        }
    }

    int unconfirmed() {
        return written.size() - confirmed.size();
    }
}
