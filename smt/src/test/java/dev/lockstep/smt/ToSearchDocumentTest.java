package dev.lockstep.smt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class ToSearchDocumentTest {

    static final Schema KEY = SchemaBuilder.struct().name("db.public.products.Key")
            .field("id", Schema.INT64_SCHEMA).build();
    static final Schema COMPOSITE_KEY = SchemaBuilder.struct().name("db.public.order_lines.Key")
            .field("order_id", Schema.INT64_SCHEMA).field("line_no", Schema.STRING_SCHEMA).build();
    static final Schema ROW = SchemaBuilder.struct().name("db.public.products.Value").optional()
            .field("id", Schema.INT64_SCHEMA)
            .field("name", Schema.OPTIONAL_STRING_SCHEMA)
            .field("price", Decimal.builder(2).optional().build())
            .field("tags", SchemaBuilder.array(Schema.OPTIONAL_STRING_SCHEMA).optional().build())
            .field("attrs", SchemaBuilder.string().name("io.debezium.data.Json").optional().build())
            .field("updated_at", SchemaBuilder.string().name("io.debezium.time.ZonedTimestamp").optional().build())
            .field("created", SchemaBuilder.int64().name("io.debezium.time.MicroTimestamp").optional().build())
            .field("day", SchemaBuilder.int32().name("io.debezium.time.Date").optional().build())
            .field("blob", Schema.OPTIONAL_BYTES_SCHEMA)
            .field("active", Schema.OPTIONAL_BOOLEAN_SCHEMA)
            .build();
    static final Schema ENVELOPE = SchemaBuilder.struct().name("db.public.products.Envelope")
            .field("before", ROW).field("after", ROW)
            .field("op", Schema.STRING_SCHEMA).field("ts_ms", Schema.OPTIONAL_INT64_SCHEMA).build();

    private final ToSearchDocument<SinkRecord> smt = configured(Map.of());

    static ToSearchDocument<SinkRecord> configured(Map<String, String> props) {
        ToSearchDocument<SinkRecord> t = new ToSearchDocument<>();
        t.configure(props);
        return t;
    }

    static Struct row() {
        return new Struct(ROW).put("id", 42L).put("name", "Kettle").put("price", new BigDecimal("19.90"))
                .put("tags", List.of("kitchen", "steel")).put("attrs", "{\"watts\": 2200, \"ratio\": 0.10000000000000000001}")
                .put("updated_at", "2024-03-01T13:34:56.123456+01:00").put("created", 1_709_296_496_000_001L)
                .put("day", 19783).put("blob", "hi".getBytes(StandardCharsets.UTF_8)).put("active", true);
    }

    static SinkRecord event(String op, Struct before, Struct after, Struct key) {
        Struct value = new Struct(ENVELOPE).put("op", op).put("before", before).put("after", after);
        return new SinkRecord("db.public.products", 3, key.schema(), key, ENVELOPE, value, 17L);
    }

    @Test
    void createBecomesDocumentWithSearchTypes() {
        SinkRecord out = smt.apply(event("c", null, row(), new Struct(KEY).put("id", 42L)));
        assertThat(out.key()).isEqualTo("42");
        assertThat(out.valueSchema()).isNull();
        @SuppressWarnings("unchecked")
        Map<String, Object> doc = (Map<String, Object>) out.value();
        assertThat(doc).containsEntry("id", 42L).containsEntry("name", "Kettle").containsEntry("price", "19.90")
                .containsEntry("tags", List.of("kitchen", "steel"))
                .containsEntry("updated_at", "2024-03-01T12:34:56.123456Z")
                .containsEntry("created", "2024-03-01T12:34:56.000001Z")
                .containsEntry("day", "2024-03-01")
                .containsEntry("blob", "aGk=")
                .containsEntry("active", true);
        assertThat(doc.get("attrs")).isEqualTo(Map.of("watts", new java.math.BigInteger("2200"),
                "ratio", new BigDecimal("0.10000000000000000001")));
        assertThat(out.kafkaOffset()).isEqualTo(17L);
    }

    @Test
    void fieldTypesHeaderNamesEachDocumentFieldsColumnType() {
        SinkRecord out = configured(Map.of("fields.rename", "name:title", "fields.exclude", "blob"))
                .apply(event("c", null, row(), new Struct(KEY).put("id", 42L)));
        assertThat(out.headers().lastWithName(Lineage.FIELD_TYPES).value()).isEqualTo("id:bigint,title:text,price:numeric,"
                + "tags:text[],attrs:json,updated_at:timestamptz(6),created:timestamp(6),day:date,active:boolean");
        // A delete has no fields, so no header.
        SinkRecord delete = smt.apply(event("d", row(), null, new Struct(KEY).put("id", 42L)));
        assertThat(delete.headers().lastWithName(Lineage.FIELD_TYPES)).isNull();
    }

    @Test
    void numbersOnRequest() {
        SinkRecord out = configured(Map.of("numeric.format", "number")).apply(event("u", null, row(), new Struct(KEY).put("id", 42L)));
        assertThat(((Map<?, ?>) out.value()).get("price")).isEqualTo(new BigDecimal("19.90"));
    }

    @Test
    void deleteBecomesTombstoneForTheId() {
        SinkRecord out = smt.apply(event("d", row(), null, new Struct(KEY).put("id", 42L)));
        assertThat(out.key()).isEqualTo("42");
        assertThat(out.value()).isNull();
    }

    @Test
    void debeziumTombstoneDroppedByDefaultOrDeletedOnRequest() {
        Struct key = new Struct(KEY).put("id", 7L);
        SinkRecord tombstone = new SinkRecord("db.public.products", 0, KEY, key, null, null, 5L);
        assertThat(smt.apply(tombstone)).isNull();
        SinkRecord kept = configured(Map.of("debezium.tombstones", "delete")).apply(tombstone);
        assertThat(kept.key()).isEqualTo("7");
        assertThat(kept.value()).isNull();
    }

    @Test
    void compositeKeyIsEscapedAndDecodable() {
        Struct key = new Struct(COMPOSITE_KEY).put("order_id", 9L).put("line_no", "a|b\\c");
        SinkRecord out = smt.apply(event("c", null, row(), key));
        assertThat(out.key()).isEqualTo("9|a\\|b\\\\c");
        assertThat(new DocumentId("|", List.of()).decode((String) out.key(), 2)).containsExactly("9", "a|b\\c");
    }

    @Test
    void multiCharacterSeparatorRoundTrips() {
        DocumentId ids = new DocumentId("::", List.of());
        Struct key = new Struct(COMPOSITE_KEY).put("order_id", 1L).put("line_no", "x::::y:");
        String id = ids.encode(key, COMPOSITE_KEY);
        assertThat(ids.decode(id, 2)).containsExactly("1", "x::::y:");
        Struct other = new Struct(COMPOSITE_KEY).put("order_id", 1L).put("line_no", "x:");
        assertThat(ids.encode(other, COMPOSITE_KEY)).isNotEqualTo(id);
    }

    @Test
    void idFieldsChooseAndOrderKeyColumns() {
        Struct key = new Struct(COMPOSITE_KEY).put("order_id", 9L).put("line_no", "3");
        SinkRecord out = configured(Map.of("id.fields", "line_no,order_id")).apply(event("c", null, row(), key));
        assertThat(out.key()).isEqualTo("3|9");
    }

    @Test
    void schemalessEnvelopeAndKey() {
        Map<String, Object> after = new LinkedHashMap<>();
        after.put("id", 5);
        after.put("name", "x");
        Map<String, Object> value = Map.of("op", "r", "after", after);
        SinkRecord in = new SinkRecord("t", 0, null, Map.of("id", 5), null, value, 1L);
        SinkRecord out = smt.apply(in);
        assertThat(out.key()).isEqualTo("5");
        assertThat(out.value()).isEqualTo(after);
    }

    @Test
    void schemalessCompositeKeyNeedsIdFields() {
        Map<String, Object> key = new LinkedHashMap<>();
        key.put("a", 1);
        key.put("b", 2);
        SinkRecord in = new SinkRecord("t", 2, null, key, null, Map.of("op", "c", "after", Map.of("a", 1)), 99L);
        assertThatThrownBy(() -> smt.apply(in)).isInstanceOf(DataException.class)
                .hasMessageContaining("id.fields").hasMessageContaining("topic=t partition=2 offset=99");
        assertThat(configured(Map.of("id.fields", "b,a")).apply(in).key()).isEqualTo("2|1");
    }

    @Test
    void recordWithoutKeyNamesTheRecord() {
        SinkRecord in = new SinkRecord("db.public.products", 1, null, null, ENVELOPE,
                new Struct(ENVELOPE).put("op", "c").put("after", row()), 12L);
        assertThatThrownBy(() -> smt.apply(in)).isInstanceOf(DataException.class)
                .hasMessageContaining("no key").hasMessageContaining("topic=db.public.products partition=1 offset=12");
    }

    @Test
    void nullKeyFieldIsRejected() {
        Schema optionalKey = SchemaBuilder.struct().field("id", Schema.OPTIONAL_INT64_SCHEMA).build();
        SinkRecord in = new SinkRecord("t", 0, optionalKey, new Struct(optionalKey), ENVELOPE,
                new Struct(ENVELOPE).put("op", "c").put("after", row()), 4L);
        assertThatThrownBy(() -> smt.apply(in)).isInstanceOf(DataException.class)
                .hasMessageContaining("key field 'id' is null").hasMessageContaining("offset=4");
    }

    @Test
    void unknownOpIsRejected() {
        SinkRecord in = event("x", null, row(), new Struct(KEY).put("id", 1L));
        assertThatThrownBy(() -> smt.apply(in)).isInstanceOf(DataException.class).hasMessageContaining("op 'x'");
    }

    @Test
    void truncateIsDropped() {
        assertThat(smt.apply(event("t", null, null, new Struct(KEY).put("id", 1L)))).isNull();
    }

    @Test
    void plainRowWithoutEnvelopeIsTheDocument() {
        SinkRecord in = new SinkRecord("t", 0, KEY, new Struct(KEY).put("id", 42L), ROW, row(), 1L);
        assertThat(((Map<?, ?>) smt.apply(in).value()).get("name")).isEqualTo("Kettle");
    }

    @Test
    void badConfigsNameTheField() {
        assertThatThrownBy(() -> configured(Map.of("id.separator", ""))).isInstanceOf(ConfigException.class)
                .hasMessageContaining("id.separator");
        assertThatThrownBy(() -> configured(Map.of("id.separator", "\\"))).isInstanceOf(ConfigException.class)
                .hasMessageContaining("id.separator");
        assertThatThrownBy(() -> configured(Map.of("numeric.format", "float"))).isInstanceOf(ConfigException.class)
                .hasMessageContaining("numeric.format");
    }
}
