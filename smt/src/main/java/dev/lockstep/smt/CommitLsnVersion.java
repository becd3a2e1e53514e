package dev.lockstep.smt;

/**
 * The external version a document gets from a change event, so that per document a later committed change
 * never carries a lower version than an earlier one.
 *
 * <p>Raw event LSNs interleave across concurrent transactions: a transaction that wrote a row before a
 * snapshot (or before another transaction's commit) but committed after it has a smaller event LSN than the
 * state it replaces. Debezium's PostgreSQL connector streams whole transactions in commit order and stamps every
 * event with {@code source.sequence = [lastCommittedLsn, lsn]}; the first element only grows from one transaction
 * to the next in that order. So the version is:
 * <ul>
 *   <li>streamed change: {@code lastCommittedLsn} (the transaction's place in commit order); every change of one
 *       transaction shares it, and Kafka's order within a partition orders them (the sink indexes with
 *       {@code external_gte}, which accepts an equal version);</li>
 *   <li>the first transaction after the connector started has no {@code lastCommittedLsn}: its event LSN. That is
 *       safe per document: a row's earlier writer had to commit before this transaction could write the row, so
 *       the earlier version is below this event's LSN;</li>
 *   <li>incremental snapshot read (Debezium's {@code execute-snapshot} signal, which the reconciler's
 *       {@code repair.mode=debezium-signal} sends): like a streamed change, by the stream's position when the read is
 *       emitted. Debezium reads a chunk between two watermarks and emits it once the stream passes the high one,
 *       dropping the rows that changed in between; so every change of the row before it is at or below that
 *       position, and every later one above or equal to it and after it in Kafka;</li>
 *   <li>initial snapshot read: {@value #SNAPSHOT}, below every streamed change. A snapshot read shows the row as committed
 *       before the snapshot; every streamed change of the row committed after it, even one whose event LSN lies
 *       before the snapshot's LSN (a transaction open while the snapshot ran). The snapshot's LSN stays in the
 *       commit-LSN header for lineage.</li>
 * </ul>
 * An LSN is an unsigned 64-bit WAL position; real ones stay far below 2^63, so the version is a positive long.
 */
public final class CommitLsnVersion {
    /** The version of snapshot reads. */
    public static final long SNAPSHOT = 0L;

    private CommitLsnVersion() {
    }

    /**
     * @param sequence Debezium's {@code source.sequence} (a JSON array of two quoted LSNs, either may be null), or null
     * @param lsn      Debezium's {@code source.lsn}, or null
     * @param snapshot whether the event is a snapshot read
     * @return the version, or null when a streamed event carries no position at all
     */
    public static Long of(String sequence, Long lsn, boolean snapshot) {
        if (snapshot) {
            return SNAPSHOT;
        }
        Long lastCommitted = firstOfSequence(sequence);
        return lastCommitted != null ? lastCommitted : lsn;
    }

    /** The first element of {@code ["123","456"]} or {@code [null,"456"]}. */
    static Long firstOfSequence(String sequence) {
        if (sequence == null) {
            return null;
        }
        int open = sequence.indexOf('[');
        int comma = sequence.indexOf(',', open + 1);
        if (open < 0 || comma < 0) {
            throw new IllegalArgumentException("source.sequence '" + sequence + "' is not a two-element JSON array");
        }
        String first = sequence.substring(open + 1, comma).trim();
        if (first.equals("null")) {
            return null;
        }
        if (first.startsWith("\"") && first.endsWith("\"")) {
            first = first.substring(1, first.length() - 1);
        }
        return Long.parseLong(first);
    }
}
