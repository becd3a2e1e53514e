package dev.lockstep.reconcile;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * PostgreSQL's checksums of a table's top-level segments from the previous run, each with the fingerprint of the
 * row versions it was computed on: the count and the sum of a hash of {@code (key, xmin)} over the segment's rows.
 * An update, insert or delete changes a row version's {@code xmin} or the set of keys, so an equal fingerprint means
 * the very same row versions, hence the same content and the same checksum: the next run reads the fingerprint
 * (about a sixth of the cost of hashing the content, docs/benchmarks.md) and hashes only the segments whose rows
 * changed. The OpenSearch side is always computed afresh, so every run still verifies every document.
 *
 * <p>An entry also holds the table's hash expression: a column added, dropped, renamed or retyped, or another field
 * mapping, changes the canonical text without touching {@code xmin}, and invalidates every entry. Held in memory
 * by the task: a restarted task hashes everything once.
 */
final class RowVersionCache {
    /** The row versions of a segment: how many rows, and the sum of {@code hash(key, xmin)} over them. */
    record Versions(long count, BigInteger sum) {
    }

    private record Entry(String hashExpression, Versions versions, Observed.Checksum checksum) {
    }

    private final Map<Segment, Entry> entries = new ConcurrentHashMap<>();
    private volatile long previousRows = -1;
    private volatile List<Object> textCuts;
    private volatile long textCutsRows;

    /** The cached checksum of a segment, if it was computed on exactly these row versions with this expression. */
    Observed.Checksum lookup(Segment segment, String hashExpression, Versions now) {
        Entry e = entries.get(segment);
        return e != null && e.hashExpression.equals(hashExpression) && e.versions.equals(now) ? e.checksum : null;
    }

    /** Whether a segment has an entry for this expression (worth reading its fingerprint). */
    boolean has(Segment segment, String hashExpression) {
        Entry e = entries.get(segment);
        return e != null && e.hashExpression.equals(hashExpression);
    }

    void put(Segment segment, String hashExpression, Versions versions, Observed.Checksum checksum) {
        entries.put(segment, new Entry(hashExpression, versions, checksum));
    }

    /** Drops the entries of segments this run did not use (a new segmentation), and remembers the rows counted. */
    void retainOnly(List<Segment> segments, long rowsCounted) {
        entries.keySet().retainAll(new java.util.HashSet<>(segments));
        previousRows = rowsCounted;
    }

    /**
     * The rows to plan segments for: the previous run's exact count when there was one (the planner's estimate moves
     * with every ANALYZE, and with it the segments), else the estimate.
     */
    long plannedRows(long estimatedRows) {
        return previousRows >= 0 ? previousRows : estimatedRows;
    }

    /**
     * The previous cut points of a text or uuid key, if they were made on a similar row count (within a factor of
     * two): reusing them keeps the segments, hence the entries, from one run to the next.
     */
    List<Object> textCuts(long estimatedRows) {
        List<Object> cuts = textCuts;
        long rows = textCutsRows;
        return cuts != null && estimatedRows <= 2 * rows && 2 * estimatedRows >= rows ? cuts : null;
    }

    void textCuts(List<Object> cuts, long estimatedRows) {
        textCuts = List.copyOf(cuts);
        textCutsRows = Math.max(estimatedRows, 1);
    }
}
