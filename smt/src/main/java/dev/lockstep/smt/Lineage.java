package dev.lockstep.smt;

import dev.lockstep.smt.hash.RowHash;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.header.Headers;

/**
 * Lockstep's lineage headers, named once: set by {@link SyncHeaders} and {@link ContentHash}, read by
 * {@link ToSearchDocument} (the document's lineage object) and the sink (versions, lag).
 */
public final class Lineage {
    /** Content hash of the after-image, 16 hex digits (docs/canonical-hash.md). */
    public static final String HASH = "lockstep.hash";
    /** The document version: see {@link CommitLsnVersion}. */
    public static final String VERSION = "lockstep.version";
    /** Debezium's last committed LSN when the event was read (advances in commit order). */
    public static final String COMMIT_LSN = "lockstep.commit.lsn";
    /** The event's own LSN. */
    public static final String EVENT_LSN = "lockstep.event.lsn";
    /** PostgreSQL transaction id. */
    public static final String TX_ID = "lockstep.txid";
    /** schema.table of the row. */
    public static final String TABLE = "lockstep.table";
    /** Commit time of the source transaction (snapshot reads: when the row was read), epoch milliseconds. */
    public static final String SOURCE_TS_MS = "lockstep.source.ts.ms";
    /** When Debezium captured the event, epoch milliseconds. */
    public static final String CAPTURE_TS_MS = "lockstep.capture.ts.ms";
    /** Each document field's column type ({@link FieldTypes}), so the sink maps fields without a PostgreSQL connection. */
    public static final String FIELD_TYPES = "lockstep.field.types";

    private Lineage() {
    }

    /** The lineage object a document carries: whatever of the headers above the record has. */
    static Map<String, Object> fromHeaders(Headers headers) {
        Map<String, Object> lineage = new LinkedHashMap<>();
        Header hash = headers.lastWithName(HASH);
        if (hash != null && hash.value() != null) {
            RowHash h = RowHash.fromHex(hash.value().toString());
            lineage.put("hash", h.hex());
            lineage.put("hash_hi", h.hi());
            lineage.put("hash_lo", h.lo());
        }
        copy(headers, VERSION, "version", lineage);
        copy(headers, COMMIT_LSN, "commit_lsn", lineage);
        // The writing transaction: the reconciler tells a stale document (another transaction than the row's
        // last writer, xmin) from one changed behind the pipeline's back (the same transaction, other content).
        copy(headers, TX_ID, "txid", lineage);
        copy(headers, SOURCE_TS_MS, "source_ts_ms", lineage);
        return lineage;
    }

    private static void copy(Headers headers, String header, String field, Map<String, Object> into) {
        Header h = headers.lastWithName(header);
        if (h != null && h.value() != null) {
            into.put(field, h.value());
        }
    }

    /** A header's value as a long, or null when absent. */
    public static Long longHeader(Headers headers, String name) {
        Header h = headers.lastWithName(name);
        if (h == null || h.value() == null) {
            return null;
        }
        return h.value() instanceof Number n ? n.longValue() : Long.parseLong(h.value().toString());
    }
}
