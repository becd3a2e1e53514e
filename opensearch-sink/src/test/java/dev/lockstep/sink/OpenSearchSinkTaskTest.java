package dev.lockstep.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** How records become operations; sending them is tested against a real node in the integration tests. */
class OpenSearchSinkTaskTest {
    private final OpenSearchSinkTask task = new OpenSearchSinkTask();

    @BeforeEach
    void start() {
        Map<String, String> props = Map.of("connection.url", "http://127.0.0.1:1", "index.name.pattern", "${table}");
        task.initialize(new FixedTaskContext(props));
        task.start(props);
    }

    @org.junit.jupiter.api.AfterEach
    void stop() {
        task.stop();
    }

    @Test
    void documentIsIndexedAndNullIsDeleted() {
        DocumentOperation index = task.toOperation(new SinkRecord("db.public.products", 0, null, "42", null, Map.of("a", 1), 3));
        assertThat(index.index()).isEqualTo("products");
        assertThat(index.id()).isEqualTo("42");
        @SuppressWarnings("unchecked")
        Map<String, Object> document = (Map<String, Object>) index.document();
        assertThat(document).containsEntry("a", 1).containsKey("lockstep");
        @SuppressWarnings("unchecked")
        Map<String, Object> lineage = (Map<String, Object>) document.get("lockstep");
        assertThat(lineage).containsEntry("id", "42").containsKey("indexed_at");
        assertThat(index.isDelete()).isFalse();

        DocumentOperation delete = task.toOperation(new SinkRecord("db.public.products", 0, null, "42", null, null, 4));
        assertThat(delete.isDelete()).isTrue();
        assertThat(delete.documentKey()).isEqualTo(index.documentKey());
    }

    @Test
    void structValueIsConvertedAndNumericKeyAccepted() {
        Schema schema = SchemaBuilder.struct().field("name", Schema.STRING_SCHEMA).build();
        DocumentOperation op = task.toOperation(new SinkRecord("t", 0, Schema.INT64_SCHEMA, 7L, schema,
                new Struct(schema).put("name", "x"), 1));
        assertThat(op.id()).isEqualTo("7");
        assertThat(op.document()).isEqualTo(Map.of("name", "x", "lockstep", ((Map<?, ?>) op.document()).get("lockstep")));
    }

    @Test
    void structKeyPointsToTheTransform() {
        Schema key = SchemaBuilder.struct().field("id", Schema.INT64_SCHEMA).build();
        assertThatThrownBy(() -> task.toOperation(new SinkRecord("t", 0, key, new Struct(key).put("id", 1L), null, Map.of(), 1)))
                .isInstanceOf(DataException.class).hasMessageContaining("ToSearchDocument");
        assertThatThrownBy(() -> task.toOperation(new SinkRecord("t", 0, null, null, null, Map.of(), 1)))
                .isInstanceOf(DataException.class).hasMessageContaining("no key");
        assertThatThrownBy(() -> task.toOperation(new SinkRecord("t", 0, null, "1", null, "text", 1)))
                .isInstanceOf(DataException.class).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> task.toOperation(new SinkRecord("t", 0, null, "1", null, 12, 1)))
                .isInstanceOf(DataException.class).hasMessageContaining("Integer");
    }

    @Test
    void jsonTextIsSentAsItIsWithTheLineageSplicedIn() throws Exception {
        byte[] json = "{\"name\":\"caf\u00e9 \\\"x\\\"\",\"n\":[1,{\"a\":null}],\"lockstep\":{\"hash\":\"ab\",\"version\":7}}"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        DocumentOperation op = task.toOperation(new SinkRecord("t", 0, null, "k|1", null, json, 1));
        // What the sink writes into the bulk body for this document (the line after the action): parse it and compare.
        String[] lines = new String(BulkBody.write(java.util.List.of(op)), java.nio.charset.StandardCharsets.UTF_8).split("\n");
        com.fasterxml.jackson.databind.ObjectMapper plain = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.JsonNode document = plain.readTree(lines[1]);
        assertThat(document.path("name").asText()).isEqualTo("caf\u00e9 \"x\"");
        assertThat(document.path("n").toString()).isEqualTo("[1,{\"a\":null}]");
        assertThat(document.path("lockstep").path("hash").asText()).isEqualTo("ab");
        assertThat(document.path("lockstep").path("version").asLong()).isEqualTo(7);
        assertThat(document.path("lockstep").path("id").asText()).isEqualTo("k|1");
        assertThat(document.path("lockstep").path("indexed_at").asLong()).isPositive();

        // No lineage object yet: one is added. An empty object: filled.
        DocumentOperation bare = task.toOperation(new SinkRecord("t", 0, null, "2", null, "{\"a\":1}", 1));
        com.fasterxml.jackson.databind.JsonNode bareDoc = plain.readTree(((JsonDocument) bare.document()).text());
        assertThat(bareDoc.path("a").asInt()).isEqualTo(1);
        assertThat(bareDoc.path("lockstep").path("id").asText()).isEqualTo("2");
        DocumentOperation empty = task.toOperation(new SinkRecord("t", 0, null, "3", null, "{}", 1));
        assertThat(plain.readTree(((JsonDocument) empty.document()).text())
                .path("lockstep").path("id").asText()).isEqualTo("3");
    }

    @Test
    void prettyPrintedJsonTextStaysOneLineOfTheBulkBody() throws Exception {
        String pretty = "{\r\n  \"name\": \"two\\nlines \u00e9\",\n  \"lockstep\": {\n    \"hash\": \"ab\"\n  }\n}\n";
        DocumentOperation op = task.toOperation(new SinkRecord("t", 0, null, "p1", null, pretty, 1));
        DocumentOperation next = task.toOperation(new SinkRecord("t", 0, null, "p2", null, "{\"a\":1}", 2));
        String[] lines = new String(BulkBody.write(java.util.List.of(op, next)), java.nio.charset.StandardCharsets.UTF_8).split("\n", -1);
        assertThat(lines).hasSize(5); // action, document, action, document, and the final newline's empty rest
        com.fasterxml.jackson.databind.JsonNode document = new com.fasterxml.jackson.databind.ObjectMapper().readTree(lines[1]);
        assertThat(document.path("name").asText()).as("the escaped line break inside the string stays").isEqualTo("two\nlines \u00e9");
        assertThat(document.path("lockstep").path("id").asText()).isEqualTo("p1");
        assertThat(document.path("lockstep").path("hash").asText()).isEqualTo("ab");
        assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(lines[3]).path("a").asInt()).isEqualTo(1);
    }

    @Test
    void jsonTextThatIsNoSingleObjectIsMalformed() {
        for (String bad : new String[] {"[1]", "{\"a\":", "{\"a\":1} {\"b\":2}", "{\"lockstep\":5}", "{\"lockstep\":null}", "nope"}) {
            assertThatThrownBy(() -> task.toOperation(new SinkRecord("t", 0, null, "1", null, bad, 1)))
                    .as(bad).isInstanceOf(DataException.class);
        }
    }
}
