package dev.lockstep.smt;

import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.header.Headers;
import org.apache.kafka.connect.transforms.Transformation;

/**
 * Adds lineage and lag headers ({@link Lineage}) to every Debezium change event: source commit time, capture
 * time, commit-order LSN, event LSN, transaction id, schema.table, and the document version the sink must use
 * ({@link CommitLsnVersion}). Records that are not Debezium events (no {@code source} block) pass unchanged.
 * Put it first in the chain, before {@link ToSearchDocument} replaces the envelope. An event whose source block
 * cannot be read goes to the dead-letter topic ({@link DeadLetters}).
 */
public class SyncHeaders<R extends ConnectRecord<R>> implements Transformation<R> {
    public static final String OVERVIEW_DOC = "Adds lineage and lag headers (commit time, LSNs, txId, table, document "
            + "version) from Debezium's source block.";

    public static final ConfigDef CONFIG_DEF = DeadLetters.addTo(new ConfigDef());

    private DeadLetters deadLetters;

    @Override
    public void configure(Map<String, ?> props) {
        deadLetters = DeadLetters.from(new AbstractConfig(CONFIG_DEF, props), "SyncHeaders");
    }

    @Override
    public R apply(R record) {
        if (record.value() == null || DeadLetters.isDeadLetter(record)) {
            return record;
        }
        try {
            return withHeaders(record);
        } catch (RuntimeException e) {
            // An unreadable source block: no version can be derived, so no document can be versioned.
            return deadLetters.route(record, new RecordFailure(FailureReason.BAD_EVENT,
                    "cannot read Debezium's source block at " + RecordLocation.of(record) + ": " + e.getMessage(), e));
        }
    }

    private R withHeaders(R record) {
        Object value = record.value();
        ChangeEvent event = ChangeEvent.of(value);
        if (event.source() == null) {
            return record;
        }
        Source s = Source.of(event.source());
        Headers headers = record.headers().duplicate();
        put(headers, Lineage.SOURCE_TS_MS, s.tsMs());
        put(headers, Lineage.CAPTURE_TS_MS, captureTs(value));
        put(headers, Lineage.EVENT_LSN, s.lsn());
        Long commitOrder = s.snapshot() ? s.lsn() : CommitLsnVersion.firstOfSequence(s.sequence());
        put(headers, Lineage.COMMIT_LSN, commitOrder != null ? commitOrder : s.lsn());
        put(headers, Lineage.TX_ID, s.txId());
        if (s.schema() != null && s.table() != null) {
            headers.remove(Lineage.TABLE).addString(Lineage.TABLE, s.schema() + "." + s.table());
        }
        put(headers, Lineage.VERSION, CommitLsnVersion.of(s.sequence(), s.lsn(), s.snapshot()));
        return record.newRecord(record.topic(), record.kafkaPartition(), record.keySchema(), record.key(),
                record.valueSchema(), value, record.timestamp(), headers);
    }

    private static void put(Headers headers, String name, Long value) {
        headers.remove(name);
        if (value != null) {
            headers.addLong(name, value);
        }
    }

    private static Long captureTs(Object value) {
        if (value instanceof Struct struct) {
            return struct.schema().field("ts_ms") == null ? null : struct.getInt64("ts_ms");
        }
        Object ts = ((Map<?, ?>) value).get("ts_ms");
        return ts instanceof Number n ? n.longValue() : null;
    }

    /** The fields of Debezium's PostgreSQL source block that lineage needs. */
    record Source(Long tsMs, Long lsn, String sequence, Long txId, String schema, String table, boolean snapshot) {
        static Source of(Object source) {
            if (source instanceof Struct s) {
                return new Source(longField(s, "ts_ms"), longField(s, "lsn"), stringField(s, "sequence"), longField(s, "txId"),
                        stringField(s, "schema"), stringField(s, "table"), isSnapshot(stringField(s, "snapshot")));
            }
            Map<?, ?> m = (Map<?, ?>) source;
            return new Source(number(m.get("ts_ms")), number(m.get("lsn")), string(m.get("sequence")), number(m.get("txId")),
                    string(m.get("schema")), string(m.get("table")), isSnapshot(string(m.get("snapshot"))));
        }

        /**
         * An initial (or blocking) snapshot read. An incremental snapshot's read ({@code "incremental"}) is not: Debezium
         * emits it where the stream stands when the chunk's window closes, so it is versioned by that position like a
         * streamed change (CommitLsnVersion).
         */
        private static boolean isSnapshot(String snapshot) {
            return snapshot != null && !snapshot.equals("false") && !snapshot.equals("incremental");
        }

        private static Long longField(Struct s, String name) {
            return s.schema().field(name) == null ? null : number(s.get(name));
        }

        private static String stringField(Struct s, String name) {
            return s.schema().field(name) == null ? null : string(s.get(name));
        }

        private static Long number(Object o) {
            return o instanceof Number n ? n.longValue() : o == null ? null : Long.parseLong(o.toString());
        }

        private static String string(Object o) {
            return o == null ? null : o.toString();
        }
    }

    @Override
    public ConfigDef config() {
        return CONFIG_DEF;
    }

    @Override
    public void close() {
    }
}
