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
        assertThat(index.document()).containsEntry("a", 1).containsKey("lockstep");
        @SuppressWarnings("unchecked")
        Map<String, Object> lineage = (Map<String, Object>) index.document().get("lockstep");
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
        assertThat(op.document()).containsEntry("name", "x");
    }

    @Test
    void structKeyPointsToTheTransform() {
        Schema key = SchemaBuilder.struct().field("id", Schema.INT64_SCHEMA).build();
        assertThatThrownBy(() -> task.toOperation(new SinkRecord("t", 0, key, new Struct(key).put("id", 1L), null, Map.of(), 1)))
                .isInstanceOf(DataException.class).hasMessageContaining("ToSearchDocument");
        assertThatThrownBy(() -> task.toOperation(new SinkRecord("t", 0, null, null, null, Map.of(), 1)))
                .isInstanceOf(DataException.class).hasMessageContaining("no key");
        assertThatThrownBy(() -> task.toOperation(new SinkRecord("t", 0, null, "1", null, "text", 1)))
                .isInstanceOf(DataException.class).hasMessageContaining("String");
    }
}
