package dev.lockstep.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BulkBodyTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static DocumentOperation op(String id, Object document, Long version) {
        return new DocumentOperation(null, "idx", id, document, version);
    }

    @Test
    void writesOneActionLinePerOperationAndCopiesJsonTextUnchanged() throws IOException {
        String text = "{\"name\":\"caf\u00e9 \\\"x\\\" \uD83D\uDE00\",\"price\":12.50,\"tags\":[\"a\"]}";
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("n", new BigDecimal("1.10"));
        map.put("list", List.of(1L, "two"));
        map.put("none", null);
        byte[] body = BulkBody.write(List.of(op("a\"1", new JsonDocument(text.getBytes(StandardCharsets.UTF_8)), 7L), op("b", map, null), op("c", null, 9L)));
        String[] lines = new String(body, StandardCharsets.UTF_8).split("\n", -1);
        assertThat(lines).hasSize(6); // 2 + 2 + 1 lines, each ending in a newline
        assertThat(lines[5]).isEmpty();
        JsonNode first = JSON.readTree(lines[0]).path("index");
        assertThat(first.path("_index").asText()).isEqualTo("idx");
        assertThat(first.path("_id").asText()).isEqualTo("a\"1");
        assertThat(first.path("version").asLong()).isEqualTo(7);
        assertThat(first.path("version_type").asText()).isEqualTo("external_gte");
        assertThat(lines[1]).isEqualTo(text); // byte for byte, 12.50 not 12.5
        JsonNode second = JSON.readTree(lines[2]).path("index");
        assertThat(second.has("version")).isFalse();
        assertThat(lines[3]).isEqualTo("{\"n\":1.10,\"list\":[1,\"two\"],\"none\":null}");
        JsonNode third = JSON.readTree(lines[4]).path("delete");
        assertThat(third.path("_id").asText()).isEqualTo("c");
        assertThat(third.path("version").asLong()).isEqualTo(9);
    }

    @Test
    void aResponseWithoutErrorsIsNotReadFurther() throws IOException {
        String response = "{\"errors\":false,\"items\":[{\"index\":{\"status\":201}},{\"index\":{\"status\":200}}]}";
        assertThat(BulkBody.read(stream(response), 2)).isEmpty();
    }

    @Test
    void itemsOfAResponseWithErrorsKeepTheirOrderStatusAndReason() throws IOException {
        String response = "{\"took\":3,\"errors\":true,\"items\":["
                + "{\"index\":{\"status\":201}},"
                + "{\"index\":{\"status\":400,\"error\":{\"type\":\"mapper_parsing_exception\",\"reason\":\"failed to parse field [n]\","
                + "\"caused_by\":{\"type\":\"x\",\"reason\":\"y\"}}}},"
                + "{\"delete\":{\"status\":404}},"
                + "{\"index\":{\"status\":409,\"error\":{\"type\":\"version_conflict_engine_exception\",\"reason\":\"v\"}}},"
                + "{\"index\":{\"status\":429,\"error\":{\"type\":\"es_rejected_execution_exception\"}}}]}";
        List<BulkBody.Item> items = BulkBody.read(stream(response), 5);
        assertThat(items).containsExactly(
                new BulkBody.Item(201, null, null),
                new BulkBody.Item(400, "mapper_parsing_exception", "failed to parse field [n]"),
                new BulkBody.Item(404, null, null),
                new BulkBody.Item(409, "version_conflict_engine_exception", "v"),
                new BulkBody.Item(429, "es_rejected_execution_exception", null));
        assertThat(items.get(2).failed()).isFalse();
        assertThat(items.get(1).failed()).isTrue();
    }

    @Test
    void aResponseThatDoesNotMatchTheRequestIsAnError() {
        String response = "{\"errors\":true,\"items\":[{\"index\":{\"status\":201}}]}";
        assertThatThrownBy(() -> BulkBody.read(stream(response), 2)).isInstanceOf(IOException.class)
                .hasMessageContaining("expected 2 items, got 1");
        assertThatThrownBy(() -> BulkBody.read(stream("[]"), 1)).isInstanceOf(IOException.class);
    }

    @Test
    void errorResponsesAreDescribedByTypeAndReasonOrTheirText() {
        assertThat(BulkBody.describeError(("{\"error\":{\"root_cause\":[],\"type\":\"security_exception\",\"reason\":\"no permissions\"},"
                + "\"status\":403}").getBytes(StandardCharsets.UTF_8))).isEqualTo("security_exception: no permissions");
        assertThat(BulkBody.describeError("Unauthorized".getBytes(StandardCharsets.UTF_8))).isEqualTo("Unauthorized");
    }

    private static ByteArrayInputStream stream(String text) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
    }
}
