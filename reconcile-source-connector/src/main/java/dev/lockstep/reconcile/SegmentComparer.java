package dev.lockstep.reconcile;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Compares one table's rows with its documents without moving either: per key-range segment, count and hash sums
 * on both servers; equal segments are done, unequal ones are split ({@code bisect.factor}) until they are small
 * enough ({@code bisect.threshold}) to fetch {@code (id, hash, version)} from both sides and diff id by id. The
 * top-level segments are worked off on {@code database.max.connections} connections at once. Memory is bounded
 * by the leaf size, and by {@link #MAX_CANDIDATES} ids kept for the settle re-check.
 */
final class SegmentComparer {
    /** The most differing ids one table's run keeps (the rest are counted, and found again by the next run). */
    static final int MAX_CANDIDATES = 50_000;

    /** An id that differed when its leaf was diffed: the row and the document as they were then. */
    record Candidate(String id, Observed.Row row, Observed.Doc doc, boolean deepOnly) {
    }

    /** What the comparison saw. */
    static final class Result {
        final AtomicLong sourceRows = new AtomicLong();
        final AtomicLong destinationDocs = new AtomicLong();
        final AtomicLong segmentsCompared = new AtomicLong();
        /** Top-level segments whose PostgreSQL checksum was reused: their row versions had not changed. */
        final AtomicLong segmentsReused = new AtomicLong();
        /**
         * Top-level segments with fewer documents than half their rows (a new table or pipeline, where the stream has
         * indexed a few changed rows already; a lost index), in key order: loaded whole ({@link SegmentLoad}), not bisected.
         */
        final List<Segment> unindexed = java.util.Collections.synchronizedList(new ArrayList<>());
        final AtomicLong unindexedRows = new AtomicLong();
        final AtomicLong leafRows = new AtomicLong();
        final AtomicLong candidatesDropped = new AtomicLong();
        /** Time spent waiting for each server, summed over the connections (it can exceed the wall-clock time). */
        final AtomicLong postgresNanos = new AtomicLong();
        final AtomicLong openSearchNanos = new AtomicLong();
        volatile long wallNanos;
        final Map<String, Candidate> candidates = new LinkedHashMap<>();
        volatile long firstSnapshotAt;

        synchronized void add(Candidate c) {
            if (candidates.size() < MAX_CANDIDATES) {
                candidates.put(c.id(), c);
            } else {
                candidatesDropped.incrementAndGet();
            }
        }
    }

    private final TableSpec table;
    private final StreamRecords records;
    private final SearchSide search;
    private final SearchSide.View view;
    private final int factor;
    private final int threshold;
    private final int segmentRows;
    private final boolean deep;
    private final double deepSample;
    private final String lineageField;
    private final RowVersionCache cache;
    private final boolean loadUnindexed;
    private final String hashExpression;
    private Result result;

    SegmentComparer(TableSpec table, StreamRecords records, SearchSide search, SearchSide.View view, ReconcileConfig config,
            RowVersionCache cache) {
        this.cache = cache;
        this.loadUnindexed = config.getBoolean(ReconcileConfig.LOAD_UNINDEXED_SEGMENTS);
        this.hashExpression = dev.lockstep.smt.hash.HashSql.digest(table.hashColumns(), table.mapping, "t");
        this.table = table;
        this.records = records;
        this.search = search;
        this.view = view;
        this.factor = config.getInt(ReconcileConfig.BISECT_FACTOR);
        this.threshold = config.getInt(ReconcileConfig.BISECT_THRESHOLD);
        this.segmentRows = config.getInt(ReconcileConfig.SEGMENT_ROWS);
        this.deep = config.compareMode() == ReconcileConfig.CompareMode.DEEP;
        this.deepSample = config.getDouble(ReconcileConfig.DEEP_SAMPLE_PERCENT);
        String field = config.getString(dev.lockstep.smt.ToSearchDocument.METADATA_FIELD_CONFIG);
        this.lineageField = field == null || field.isBlank() ? "lockstep" : field;
    }

    /** Compares the table's assigned key range (the whole table, or a share), on the given connections (one worker thread each). */
    Result compare(List<PostgresSide> connections, Assignment assignment) throws Exception {
        Segment span = assignment.span();
        long started = System.nanoTime();
        Result result = new Result();
        this.result = result;
        PostgresSide first = connections.get(0);
        PostgresSide.Extent extent = first.extent(table, span, assignment.shares());
        List<Segment> top = topLevel(first, extent, span);
        // Each top-level segment's documents side is asked for while its rows are hashed. One request per segment, not
        // one for all: a filters aggregation costs documents x filters, 25 s for 101 segments of 10M documents.
        java.util.concurrent.ExecutorService beside = java.util.concurrent.Executors.newFixedThreadPool(connections.size(), r -> {
            Thread t = new Thread(r, "lockstep-reconcile-search-" + table);
            t.setDaemon(true);
            return t;
        });
        ConcurrentLinkedQueue<Segment> queue = new ConcurrentLinkedQueue<>(top);
        List<Thread> workers = new ArrayList<>();
        List<Exception> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (PostgresSide pg : connections) {
            Thread t = new Thread(() -> {
                try {
                    for (Segment next; (next = queue.poll()) != null;) {
                        Segment s = next;
                        boolean deepHere = deep && java.util.concurrent.ThreadLocalRandom.current().nextDouble() * 100 < deepSample;
                        java.util.concurrent.Future<List<Observed.Checksum>> docs = beside.submit(
                                () -> timed(result.openSearchNanos, () -> search.checksums(view, List.of(s))));
                        Observed.Checksum p = timed(result.postgresNanos, () -> rowsChecksum(pg, s, result));
                        Observed.Checksum o = docs.get().get(0);
                        result.sourceRows.addAndGet(p.count());
                        result.destinationDocs.addAndGet(o.count());
                        if (loadUnindexed && p.count() > 0 && o.count() <= p.count() / 2) {
                            result.segmentsCompared.incrementAndGet();
                            result.unindexed.add(s);
                            result.unindexedRows.addAndGet(p.count() - o.count()); // the missing, about
                            continue;
                        }
                        compare(pg, s, p, o, deepHere, result, extent);
                    }
                } catch (Exception e) {
                    failures.add(e instanceof java.util.concurrent.ExecutionException x && x.getCause() instanceof Exception cause ? cause : e);
                    queue.clear();
                }
            }, "lockstep-reconcile-" + table);
            workers.add(t);
            t.start();
        }
        for (Thread t : workers) {
            t.join();
        }
        beside.shutdownNow();
        if (!failures.isEmpty()) {
            throw failures.get(0);
        }
        if (cache != null) {
            cache.retainOnly(top, result.sourceRows.get());
        }
        result.unindexed.sort(java.util.Comparator.comparingInt(top::indexOf));
        result.wallNanos = System.nanoTime() - started;
        result.firstSnapshotAt = connections.stream().mapToLong(PostgresSide::firstSnapshotAt).filter(t -> t > 0).min().orElse(0);
        // Documents whose key field is missing lie in no key range: they have no row.
        if (assignment.ownsKeylessDocuments()) {
            for (Observed.Doc doc : search.docsWithoutKey(view, threshold)) {
                result.destinationDocs.incrementAndGet();
                result.add(new Candidate(doc.id(), null, doc, false));
            }
        }
        return result;
    }

    /** A top-level segment's PostgreSQL checksum now (in the connection's current snapshot), reusing it when unchanged. */
    Observed.Checksum rowsChecksumNow(PostgresSide pg, Segment s) throws Exception {
        return rowsChecksum(pg, s, new Result());
    }

    /** A top-level segment's PostgreSQL checksum: reused when its row versions are unchanged, else hashed. */
    private Observed.Checksum rowsChecksum(PostgresSide pg, Segment s, Result result) throws Exception {
        if (cache == null) {
            return pg.checksums(table, s, List.of()).get(0);
        }
        if (cache.has(s, hashExpression)) {
            Observed.Checksum reused = cache.lookup(s, hashExpression, pg.versions(table, s));
            if (reused != null) {
                result.segmentsReused.incrementAndGet();
                return reused;
            }
        }
        PostgresSide.Measured m = pg.measure(table, s);
        cache.put(s, hashExpression, m.versions(), m.checksum());
        return m.checksum();
    }

    /**
     * The top-level segments. Their bounds stay put from run to run while the table grows or shrinks by less than
     * half, so a segment's checksum can be reused ({@link RowVersionCache}): integer keys are cut on a grid of a
     * power-of-two width, text and uuid keys at the previous run's cut points.
     */
    private List<Segment> topLevel(PostgresSide pg, PostgresSide.Extent extent, Segment span) throws Exception {
        long rows = Math.max(cache == null ? extent.estimatedRows() : cache.plannedRows(extent.estimatedRows()), 1);
        int parts = (int) Math.min(10_000, Math.max(1, (rows + segmentRows - 1) / segmentRows));
        if (parts == 1) {
            return List.of(span);
        }
        if (table.keyKind == TableSpec.KeyKind.INTEGER) {
            return extent.min() == null ? List.of(span) : span.splitOnGrid(extent.min(), extent.max(), parts);
        }
        List<Object> cuts = cache == null ? null : cache.textCuts(rows);
        if (cuts == null) {
            cuts = pg.cuts(table, span, rows, parts);
            if (cache != null) {
                cache.textCuts(cuts, rows);
            }
        }
        return span.splitAt(cuts);
    }

    private void compare(PostgresSide pg, Segment segment, Observed.Checksum p, Observed.Checksum o, boolean deepHere, Result result,
            PostgresSide.Extent extent) throws Exception {
        result.segmentsCompared.incrementAndGet();
        if (p.equals(o) && !deepHere) {
            return;
        }
        long size = Math.max(p.count(), o.count());
        if (size <= threshold) {
            diff(pg, segment, o.count(), deepHere, result);
            return;
        }
        List<Segment> children = split(pg, segment, p.count(), extent);
        if (children.size() < 2) {
            diff(pg, segment, o.count(), deepHere, result);
            return;
        }
        List<Object> cuts = new ArrayList<>();
        for (int i = 1; i < children.size(); i++) {
            cuts.add(children.get(i).lo());
        }
        List<Observed.Checksum> ps = timed(result.postgresNanos, () -> pg.checksums(table, segment, cuts));
        List<Observed.Checksum> os = timed(result.openSearchNanos, () -> search.checksums(view, children));
        for (int i = 0; i < children.size(); i++) {
            compare(pg, children.get(i), ps.get(i), os.get(i), deepHere, result, extent);
        }
    }

    private List<Segment> split(PostgresSide pg, Segment segment, long rows, PostgresSide.Extent extent) throws Exception {
        if (table.keyKind == TableSpec.KeyKind.INTEGER) {
            if (extent.min() == null) {
                return List.of(segment);
            }
            // Keys beyond the table's rows (documents without rows) stay in the outermost children.
            long lo = segment.lo() == null ? extent.min() : (Long) segment.lo();
            long hi = segment.hi() == null ? extent.max() : (Long) segment.hi() - 1;
            if (hi < lo) {
                return List.of(segment);
            }
            return segment.splitIntegers(lo, hi, factor);
        }
        return segment.splitAt(pg.cuts(table, segment, rows, factor));
    }

    private interface Call<T> {
        T call() throws Exception;
    }

    private static <T> T timed(AtomicLong nanos, Call<T> call) throws Exception {
        long start = System.nanoTime();
        try {
            return call.call();
        } finally {
            nanos.addAndGet(System.nanoTime() - start);
        }
    }

    /** Diffs a small segment id by id. */
    private void diff(PostgresSide pg, Segment segment, long documents, boolean deepHere, Result result) throws Exception {
        List<Observed.Row> rows = timed(result.postgresNanos, () -> pg.rows(table, records, segment, deepHere));
        Map<String, Observed.Doc> docs = new HashMap<>();
        for (Observed.Doc d : timed(result.openSearchNanos, () -> search.docs(view, segment, documents, deepHere))) {
            docs.put(d.id(), d);
        }
        result.leafRows.addAndGet(rows.size());
        for (Observed.Row row : rows) {
            Observed.Doc doc = docs.remove(row.id());
            if (doc == null || !doc.matches(row)) {
                result.add(new Candidate(row.id(), row, doc, false));
            } else if (deepHere && !FieldDiff.between(records.document(row.values(), 0, row.xmin()), doc.source(), lineageField).isEmpty()) {
                result.add(new Candidate(row.id(), row, doc, true));
            }
        }
        for (Observed.Doc doc : docs.values()) {
            result.add(new Candidate(doc.id(), null, doc, false));
        }
    }
}
