package dev.lockstep.reconcile;

import java.util.ArrayList;
import java.util.List;

/**
 * A half-open range {@code [lo, hi)} of a table's first key column; {@code null} bounds are unbounded, so the
 * top-level segments together cover the whole key space (documents whose key lies beyond every row are found too).
 * Bounds are {@link Long} for integer keys and {@link String} for text and uuid keys (bytewise order, as
 * PostgreSQL's {@code COLLATE "C"} and OpenSearch's keyword fields sort).
 */
record Segment(Object lo, Object hi) {
    static final Segment ALL = new Segment(null, null);

    /** Splits an integer segment into at most {@code parts} ranges of equal width within {@code [min, max]}. */
    List<Segment> splitIntegers(long min, long max, int parts) {
        long from = lo == null ? min : Math.max(min, (Long) lo);
        long to = hi == null ? max + 1 : Math.min(max + 1, (Long) hi);
        List<Object> cuts = new ArrayList<>();
        if (to - from > 1) {
            long width = Math.max(1, ceilDiv(to - from, parts));
            for (long c = from + width; c < to; c += width) {
                cuts.add(c);
            }
        }
        return splitAt(cuts);
    }

    /**
     * Splits the key space into about {@code parts} ranges within {@code [min, max]} at multiples of a power of two:
     * the cut points only move when the span doubles or halves, not with every row added at the end.
     */
    List<Segment> splitOnGrid(long min, long max, int parts) {
        long span = max - min + 1;
        if (span <= 0 || parts < 2) { // the whole long range (overflow), or nothing to split
            return splitIntegers(min, max, parts);
        }
        long width = Long.highestOneBit(Math.max(1, ceilDiv(span, parts)));
        List<Object> cuts = new ArrayList<>();
        for (long c = Math.floorDiv(min, width) * width + width; c <= max && c > min; c += width) {
            cuts.add(c);
            if (c > Long.MAX_VALUE - width) {
                break;
            }
        }
        return splitAt(cuts);
    }

    /** The segments between this one's bounds and the given cut points (ascending, strictly inside). */
    List<Segment> splitAt(List<Object> cuts) {
        List<Segment> out = new ArrayList<>(cuts.size() + 1);
        Object from = lo;
        for (Object cut : cuts) {
            out.add(new Segment(from, cut));
            from = cut;
        }
        out.add(new Segment(from, hi));
        return out;
    }

    private static long ceilDiv(long a, long b) {
        return -Math.floorDiv(-a, b);
    }

    @Override
    public String toString() {
        return "[" + (lo == null ? "-inf" : lo) + ", " + (hi == null ? "+inf" : hi) + ")";
    }
}
