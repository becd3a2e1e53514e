package dev.lockstep.smt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.json.JsonConverter;
import org.junit.jupiter.api.Test;

/** Every record must read exactly as Kafka's JsonConverter reads it, and repeated schemas must skip it. */
class CachedSchemaJsonConverterTest {

    private static final Schema ROW = SchemaBuilder.struct().name("bench.public.products.Value").optional()
            .field("id", Schema.INT64_SCHEMA)
            .field("small", Schema.OPTIONAL_INT16_SCHEMA)
            .field("tiny", Schema.OPTIONAL_INT8_SCHEMA)
            .field("qty", Schema.OPTIONAL_INT32_SCHEMA)
            .field("ratio", Schema.OPTIONAL_FLOAT32_SCHEMA)
            .field("score", Schema.OPTIONAL_FLOAT64_SCHEMA)
            .field("name", Schema.STRING_SCHEMA)
            .field("price", SchemaBuilder.string().optional().parameter("__debezium.source.column.type", "NUMERIC")
                    .parameter("__debezium.source.column.length", "12").build())
            .field("exact", Decimal.builder(3).optional().build())
            .field("blob", Schema.OPTIONAL_BYTES_SCHEMA)
            .field("active", Schema.BOOLEAN_SCHEMA)
            .field("tags", SchemaBuilder.array(Schema.OPTIONAL_STRING_SCHEMA).optional().build())
            .field("attrs", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.OPTIONAL_INT32_SCHEMA).optional().build())
            .field("codes", SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.STRING_SCHEMA).optional().build())
            .field("born", Date.builder().optional().build())
            .field("opens", Time.builder().optional().build())
            .field("seen", Timestamp.builder().optional().build())
            .field("micros", SchemaBuilder.int64().name("io.debezium.time.MicroTimestamp").optional().build())
            .field("status", SchemaBuilder.string().defaultValue("new").build())
            .build();
    private static final Schema SOURCE = SchemaBuilder.struct().name("io.debezium.connector.postgresql.Source")
            .field("lsn", Schema.OPTIONAL_INT64_SCHEMA).field("table", Schema.STRING_SCHEMA).build();
    private static final Schema ENVELOPE = SchemaBuilder.struct().name("bench.public.products.Envelope")
            .field("before", ROW).field("after", ROW).field("source", SOURCE).field("op", Schema.STRING_SCHEMA)
            .field("ts_ms", Schema.OPTIONAL_INT64_SCHEMA).build();

    @Test
    void readsChangeEventsAsTheJsonConverterDoesAndReadsEachSchemaOnlyOnce() {
        JsonConverter json = converter(new JsonConverter(), Map.of());
        CachedSchemaJsonConverter cached = converter(new CachedSchemaJsonConverter(), Map.of());
        List<byte[]> records = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            records.add(json.fromConnectData("t", ENVELOPE, event(i)));
        }
        for (byte[] record : records) {
            assertSame(json.toConnectData("t", record), cached.toConnectData("t", record));
        }
        assertThat(cached.readByJsonConverter()).as("only the first record of the schema").isEqualTo(1);
    }

    @Test
    void manySchemasInterleavedStayExactAndCached() {
        JsonConverter json = converter(new JsonConverter(), Map.of());
        CachedSchemaJsonConverter cached = converter(new CachedSchemaJsonConverter(), Map.of());
        // twelve schemas, more than the recent ones compared byte for byte: the rest come from the map
        List<Schema> schemas = new ArrayList<>();
        for (int s = 0; s < 12; s++) {
            schemas.add(SchemaBuilder.struct().name("table" + s).field("id", Schema.INT64_SCHEMA)
                    .field("v" + s, Schema.OPTIONAL_STRING_SCHEMA).build());
        }
        for (int round = 0; round < 5; round++) {
            for (int s = 0; s < schemas.size(); s++) {
                Struct row = new Struct(schemas.get(s)).put("id", (long) round).put("v" + s, "value " + round);
                byte[] record = json.fromConnectData("t", schemas.get(s), row);
                assertSame(json.toConnectData("t", record), cached.toConnectData("t", record));
            }
        }
        assertThat(cached.readByJsonConverter()).isEqualTo(12);
    }

    @Test
    void otherLayoutsAndIrregularTokensGetTheJsonConvertersResult() {
        JsonConverter json = converter(new JsonConverter(), Map.of());
        CachedSchemaJsonConverter cached = converter(new CachedSchemaJsonConverter(), Map.of());
        String schema = "{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"n\"},"
                + "{\"type\":\"string\",\"optional\":true,\"field\":\"s\"},{\"type\":\"double\",\"optional\":true,\"field\":\"d\"},"
                + "{\"type\":\"float\",\"optional\":true,\"field\":\"f\"},{\"type\":\"int64\",\"optional\":true,\"field\":\"l\"}],"
                + "\"optional\":false}";
        List<String> records = List.of(
                "{\"schema\":" + schema + ",\"payload\":{\"n\":1,\"s\":\"a\",\"d\":0.1,\"f\":0.1,\"l\":9007199254740993}}",
                "{\"schema\":" + schema + ",\"payload\":{\"n\":2,\"s\":\"b\",\"d\":1e308,\"f\":3.4028236e38,\"l\":-1}}",
                "{\"schema\":" + schema + ",\"payload\":{\"n\":3,\"d\":7,\"f\":16777217,\"unknown\":{\"x\":[1,2]}}}",
                "{\"schema\":" + schema + ",\"payload\":{\"s\":\"reordered\",\"n\":4}}",
                "{ \"schema\" : " + schema + " ,\n \"payload\" : { \"n\" : 5 } }",
                "{\"payload\":{\"n\":6},\"schema\":" + schema + "}",
                "{\"schema\":" + schema + ",\"payload\":{\"n\":\"7\"}}", // a string for an int32
                "{\"schema\":" + schema + ",\"payload\":{\"n\":2147483648}}", // out of int32's range
                "{\"schema\":" + schema + ",\"payload\":{\"n\":8,\"s\":9}}", // a number for a string
                "{\"schema\":" + schema + ",\"payload\":{\"n\":9,\"l\":1.5}}", // a fraction for an int64
                "{\"schema\":" + schema + ",\"payload\":{\"n\":010}}", // leading zeros, allowed by the JsonConverter
                "{\"schema\":" + schema + ",\"payload\":{\"n\":11}}",
                "{\"schema\":null,\"payload\":{\"n\":12}}");
        for (String record : records) {
            byte[] bytes = record.getBytes(StandardCharsets.UTF_8);
            assertSame(json.toConnectData("t", bytes), cached.toConnectData("t", bytes));
        }
        assertThat(cached.readByJsonConverter()).as("the irregular ones and the first of the schema").isBetween(6L, 8L);
    }

    @Test
    void errorsAreTheJsonConverters() {
        JsonConverter json = converter(new JsonConverter(), Map.of());
        CachedSchemaJsonConverter cached = converter(new CachedSchemaJsonConverter(), Map.of());
        String schema = "{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"n\"}],\"optional\":false}";
        byte[] good = ("{\"schema\":" + schema + ",\"payload\":{\"n\":1}}").getBytes(StandardCharsets.UTF_8);
        cached.toConnectData("t", good);
        cached.toConnectData("t", good);
        for (String bad : List.of("{\"schema\":" + schema + ",\"payload\":{}}", "{\"schema\":" + schema + ",\"payload\":{\"n\":1}",
                "{\"schema\":" + schema + ",\"payload\":{\"n\":1},\"extra\":1}", "not json")) {
            byte[] bytes = bad.getBytes(StandardCharsets.UTF_8);
            String expected = message(() -> json.toConnectData("t", bytes));
            assertThatThrownBy(() -> cached.toConnectData("t", bytes)).as(bad).isInstanceOf(DataException.class).hasMessage(expected);
        }
        assertThat(cached.toConnectData("t", null)).isEqualTo(json.toConnectData("t", null));
    }

    @Test
    void withoutSchemasOrWithoutNullDefaultsItFollowsTheConfiguration() {
        Map<String, Object> plain = Map.of("schemas.enable", "false");
        byte[] bytes = "{\"a\":1.5,\"b\":[1,2]}".getBytes(StandardCharsets.UTF_8);
        assertSame(converter(new JsonConverter(), plain).toConnectData("t", bytes),
                converter(new CachedSchemaJsonConverter(), plain).toConnectData("t", bytes));

        Map<String, Object> keepNulls = Map.of("replace.null.with.default", "false");
        JsonConverter json = converter(new JsonConverter(), keepNulls);
        CachedSchemaJsonConverter cached = converter(new CachedSchemaJsonConverter(), keepNulls);
        Schema schema = SchemaBuilder.struct().field("status", SchemaBuilder.string().optional().defaultValue("new").build()).build();
        byte[] record = json.fromConnectData("t", schema, new Struct(schema).put("status", "old"));
        byte[] nulled = new String(record, StandardCharsets.UTF_8).replace("\"old\"", "null").getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 3; i++) {
            assertSame(json.toConnectData("t", nulled), cached.toConnectData("t", nulled));
        }
        assertThat(((Struct) cached.toConnectData("t", nulled).value()).getWithoutDefault("status")).isNull();
        assertThat(cached.readByJsonConverter()).isEqualTo(1);
    }

    private static Struct event(int i) {
        Struct row = new Struct(ROW).put("id", (long) i).put("name", "Kettle " + i + " \u00e9\u20ac\"quoted\"").put("active", i % 2 == 0)
                .put("price", (i % 100) + ".90").put("exact", new BigDecimal("12.345").add(BigDecimal.valueOf(i)))
                .put("tags", i % 3 == 0 ? null : java.util.Arrays.asList("kitchen", null, "tag-" + i))
                .put("attrs", Map.of("watts", 1000 + i)).put("seen", new java.util.Date(1_700_000_000_000L + i))
                .put("born", new java.util.Date(86_400_000L * (19_000 + i))).put("opens", new java.util.Date(3_600_000L + i))
                .put("micros", 1_700_000_000_000_000L + i).put("status", i % 2 == 0 ? "open" : "new");
        if (i % 4 != 0) {
            row.put("small", (short) -i).put("tiny", (byte) i).put("qty", i * 1000).put("ratio", i / 3f).put("score", i / 7d)
                    .put("blob", new byte[] {1, 2, (byte) i});
            Map<Integer, String> codes = new HashMap<>();
            codes.put(i, "code " + i);
            row.put("codes", codes);
        }
        Struct before = i % 5 == 0 ? null : row;
        return new Struct(ENVELOPE).put("before", before).put("after", row)
                .put("source", new Struct(SOURCE).put("lsn", 1000L + i).put("table", "products")).put("op", i % 5 == 0 ? "c" : "u")
                .put("ts_ms", 1_700_000_000_000L);
    }

    private static void assertSame(SchemaAndValue expected, SchemaAndValue actual) {
        assertThat(actual.schema()).isEqualTo(expected.schema());
        assertThat(actual.value()).isEqualTo(expected.value());
    }

    private static String message(Runnable call) {
        try {
            call.run();
        } catch (DataException e) {
            return e.getMessage();
        }
        throw new AssertionError("the JsonConverter accepted it");
    }

    private static <C extends org.apache.kafka.connect.storage.Converter> C converter(C converter, Map<String, Object> configs) {
        converter.configure(configs, false);
        return converter;
    }
}
