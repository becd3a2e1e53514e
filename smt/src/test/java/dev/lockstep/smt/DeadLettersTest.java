package dev.lockstep.smt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;

/** Records the transforms cannot turn into documents, in a source chain: to the dead-letter topic, counted, never thrown. */
class DeadLettersTest {
    static final Schema ROW = SchemaBuilder.struct().name("db.s.history.Value").optional()
            .field("aid", Schema.INT32_SCHEMA)
            .field("at", SchemaBuilder.int64().name("io.debezium.time.MicroTime").optional().build())
            .field("grid", SchemaBuilder.array(SchemaBuilder.array(Schema.INT32_SCHEMA).build()).optional().build())
            .build();
    static final Schema SOURCE = SchemaBuilder.struct().name("io.debezium.connector.postgresql.Source")
            .field("ts_ms", Schema.INT64_SCHEMA).field("lsn", Schema.OPTIONAL_INT64_SCHEMA)
            .field("sequence", Schema.OPTIONAL_STRING_SCHEMA).field("snapshot", Schema.OPTIONAL_STRING_SCHEMA)
            .field("schema", Schema.STRING_SCHEMA).field("table", Schema.STRING_SCHEMA).build();
    static final Schema ENVELOPE = SchemaBuilder.struct().name("db.s.history.Envelope")
            .field("before", ROW).field("after", ROW).field("source", SOURCE)
            .field("op", Schema.STRING_SCHEMA).field("ts_ms", Schema.OPTIONAL_INT64_SCHEMA).build();
    static final Map<String, ?> PARTITION = Map.of("server", "db");
    static final Map<String, ?> OFFSET = Map.of("lsn", 1234L);

    static Struct envelope(String table, String op, Struct after) {
        Struct source = new Struct(SOURCE).put("ts_ms", 1L).put("lsn", 1234L).put("sequence", "[\"1000\",\"1234\"]")
                .put("snapshot", "false").put("schema", "s").put("table", table);
        return new Struct(ENVELOPE).put("op", op).put("after", after).put("source", source).put("ts_ms", 2L);
    }

    static Struct row(int aid) {
        return new Struct(ROW).put("aid", aid).put("at", 3_600_000_000L);
    }

    static SourceRecord sourceRecord(String table, Schema keySchema, Object key, Struct value) {
        return new SourceRecord(PARTITION, OFFSET, "db.s." + table, null, keySchema, key, ENVELOPE, value);
    }

    /** The shipped chain: SyncHeaders, ContentHash, ToSearchDocument, with the given options on each. */
    static SourceRecord chain(SourceRecord in, Map<String, String> options) {
        SyncHeaders<SourceRecord> sync = new SyncHeaders<>();
        sync.configure(options);
        ContentHash<SourceRecord> hash = new ContentHash<>();
        hash.configure(options);
        ToSearchDocument<SourceRecord> document = new ToSearchDocument<>();
        document.configure(options);
        return document.apply(hash.apply(sync.apply(in)));
    }

    static long count(String transform, String table, FailureReason reason, String handling) {
        return RejectedRecordCounts.count(new RejectedRecordCounts.Key(transform, table, reason.code(), handling));
    }

    static String header(SourceRecord record, String name) {
        Header h = record.headers().lastWithName(name);
        return h == null ? null : String.valueOf(h.value());
    }

    @Test
    void aRecordWithoutKeyGoesUnchangedToTheDeadLetterTopicWithItsReasonAndIsCounted() {
        long before = count("ToSearchDocument", "s.keyless1", FailureReason.NO_KEY, RejectedRecordCounts.ERRORS_TOPIC);
        Struct value = envelope("keyless1", "c", row(7));
        SourceRecord out = chain(sourceRecord("keyless1", null, null, value), Map.of());

        assertThat(out.topic()).isEqualTo("lockstep-dlq");
        assertThat(out.kafkaPartition()).isNull();
        assertThat(out.key()).isNull();
        assertThat(out.valueSchema()).isSameAs(ENVELOPE);
        assertThat(out.value()).isSameAs(value);
        assertThat(out.sourcePartition()).isEqualTo(PARTITION);
        assertThat(out.sourceOffset()).as("Connect commits the offset past it as usual").isEqualTo(OFFSET);
        assertThat(header(out, DeadLetters.REASON)).isEqualTo("no_key");
        assertThat(header(out, DeadLetters.TABLE)).isEqualTo("s.keyless1");
        assertThat(header(out, DeadLetters.TRANSFORM)).isEqualTo("ToSearchDocument");
        assertThat(header(out, DeadLetters.TOPIC)).isEqualTo("db.s.keyless1");
        assertThat(header(out, DeadLetters.MESSAGE)).contains("record has no key").contains("topic=db.s.keyless1");
        assertThat(header(out, Lineage.VERSION)).as("the lineage headers stay").isEqualTo("1000");
        assertThat(count("ToSearchDocument", "s.keyless1", FailureReason.NO_KEY, RejectedRecordCounts.ERRORS_TOPIC)).isEqualTo(before + 1);
    }

    @Test
    void aKeyThatCannotFormAnIdIsABadKey() {
        Schema key = SchemaBuilder.struct().field("tags", SchemaBuilder.array(Schema.STRING_SCHEMA).build()).build();
        SourceRecord out = chain(sourceRecord("tagged1", key, new Struct(key).put("tags", List.of("a", "b")),
                envelope("tagged1", "c", row(1))), Map.of());
        assertThat(out.topic()).isEqualTo("lockstep-dlq");
        assertThat(header(out, DeadLetters.REASON)).isEqualTo("bad_key");
        assertThat(header(out, DeadLetters.MESSAGE)).contains("only scalar key columns");
        assertThat(count("ToSearchDocument", "s.tagged1", FailureReason.BAD_KEY, RejectedRecordCounts.ERRORS_TOPIC)).isEqualTo(1);
    }

    @Test
    void aRowThatCannotBeConvertedIsABadValueEvenWhenTheConversionThrowsNoDataException() {
        // time '24:00:00' is valid in PostgreSQL; java.time's LocalTime throws a DateTimeException for it.
        Schema key = SchemaBuilder.struct().field("aid", Schema.INT32_SCHEMA).build();
        Struct after = row(3).put("at", 86_400_000_000L);
        SourceRecord out = chain(sourceRecord("times1", key, new Struct(key).put("aid", 3), envelope("times1", "u", after)), Map.of());
        assertThat(out.topic()).isEqualTo("lockstep-dlq");
        assertThat(header(out, DeadLetters.REASON)).isEqualTo("bad_value");
        assertThat(header(out, DeadLetters.TRANSFORM)).isEqualTo("ToSearchDocument");
    }

    @Test
    void aRowContentHashCannotHashIsRoutedByItAndPassedOnUnchangedByToSearchDocument() {
        Schema key = SchemaBuilder.struct().field("aid", Schema.INT32_SCHEMA).build();
        Struct after = row(4).put("grid", List.of(List.of(1, 2), List.of(3, 4)));
        SourceRecord out = chain(sourceRecord("grids1", key, new Struct(key).put("aid", 4), envelope("grids1", "c", after)), Map.of());
        assertThat(out.topic()).isEqualTo("lockstep-dlq");
        assertThat(out.key()).as("the original key, not a document id").isInstanceOf(Struct.class);
        assertThat(header(out, DeadLetters.TRANSFORM)).isEqualTo("ContentHash");
        assertThat(header(out, DeadLetters.MESSAGE)).contains("multi-dimensional");
        assertThat(out.headers().allWithName(DeadLetters.REASON)).toIterable().hasSize(1);
        assertThat(count("ToSearchDocument", "s.grids1", FailureReason.BAD_VALUE, RejectedRecordCounts.ERRORS_TOPIC)).isZero();
        assertThat(count("ContentHash", "s.grids1", FailureReason.BAD_VALUE, RejectedRecordCounts.ERRORS_TOPIC)).isEqualTo(1);
    }

    @Test
    void anUnknownOpIsABadEvent() {
        Schema key = SchemaBuilder.struct().field("aid", Schema.INT32_SCHEMA).build();
        SourceRecord out = chain(sourceRecord("ops1", key, new Struct(key).put("aid", 5), envelope("ops1", "x", row(5))), Map.of());
        assertThat(header(out, DeadLetters.REASON)).isEqualTo("bad_event");
    }

    @Test
    void aKeyedRecordOfTheSameChainStillBecomesADocument() {
        Schema key = SchemaBuilder.struct().field("aid", Schema.INT32_SCHEMA).build();
        SourceRecord out = chain(sourceRecord("keyed1", key, new Struct(key).put("aid", 9), envelope("keyed1", "c", row(9))), Map.of());
        assertThat(out.topic()).isEqualTo("db.s.keyed1");
        assertThat(out.key()).isEqualTo("9");
        assertThat(header(out, DeadLetters.REASON)).isNull();
    }

    @Test
    void theTopicIsConfigurableAndEmptyMeansThrow() {
        SourceRecord in = sourceRecord("keyless2", null, null, envelope("keyless2", "c", row(1)));
        assertThat(chain(in, Map.of("errors.topic", "my-dlq")).topic()).isEqualTo("my-dlq");
        assertThatThrownBy(() -> chain(in, Map.of("errors.topic", ""))).isInstanceOf(DataException.class)
                .hasMessageContaining("record has no key");
        assertThatThrownBy(() -> chain(in, Map.of("errors.topic", "no spaces allowed"))).isInstanceOf(ConfigException.class)
                .hasMessageContaining("errors.topic");
    }

    @Test
    void inASinkChainTheTransformThrowsForTheSinksErrorsTolerance() {
        ToSearchDocument<SinkRecord> document = new ToSearchDocument<>();
        document.configure(Map.of());
        SinkRecord in = new SinkRecord("db.s.keyless3", 0, null, null, ENVELOPE, envelope("keyless3", "c", row(1)), 5L);
        assertThatThrownBy(() -> document.apply(in)).isInstanceOf(DataException.class).hasMessageContaining("no key");
        assertThat(count("ToSearchDocument", "s.keyless3", FailureReason.NO_KEY, RejectedRecordCounts.THROWN)).as("counted, though Connect handles it").isEqualTo(1);
    }

    @Test
    void theConverterWritesADeadLetterAsPlainJsonEvenWhenItsValueCannotBeConverted() {
        Schema key = SchemaBuilder.struct().field("aid", Schema.INT32_SCHEMA).build();
        Struct after = row(3).put("at", 86_400_000_000L);
        SourceRecord out = chain(sourceRecord("times2", key, new Struct(key).put("aid", 3), envelope("times2", "u", after)), Map.of());
        RecordHeaders headers = new RecordHeaders();
        headers.add(DeadLetters.REASON, "bad_value".getBytes(StandardCharsets.UTF_8));
        String json = new String(new DocumentConverter().fromConnectData(out.topic(), headers, out.valueSchema(), out.value()),
                StandardCharsets.UTF_8);
        assertThat(json).startsWith("{\"before\":null,\"after\":{\"aid\":3,\"at\":86400000000,\"grid\":null},\"source\":{")
                .contains("\"table\":\"times2\"").endsWith("\"op\":\"u\",\"ts_ms\":2}");
    }
}
