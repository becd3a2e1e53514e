package dev.lockstep.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FieldDiffTest {
    @Test
    void listsEachDifferingFieldWithBothValuesAndIgnoresTheLineage() throws Exception {
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("id", 20);
        expected.put("name", "product 20");
        expected.put("price", "20.90");
        expected.put("tags", List.of("a", "b"));
        expected.put("lockstep", Map.of("hash", "00"));
        JsonNode actual = SearchSide.JSON.readTree(
                "{\"id\": 20.0, \"name\": \"tampered\", \"tags\": [\"a\", \"b\"], \"extra\": true, \"lockstep\": {\"hash\": \"ff\"}}");
        ArrayNode diffs = FieldDiff.between(expected, actual, "lockstep");
        assertThat(diffs).hasSize(3);
        assertThat(diffs.get(0).path("field").asText()).isEqualTo("name");
        assertThat(diffs.get(0).path("postgresql").asText()).isEqualTo("product 20");
        assertThat(diffs.get(0).path("opensearch").asText()).isEqualTo("tampered");
        assertThat(diffs.get(1).path("field").asText()).isEqualTo("price");
        assertThat(diffs.get(1).path("absent_in").asText()).isEqualTo("opensearch");
        assertThat(diffs.get(2).path("field").asText()).isEqualTo("extra");
        assertThat(diffs.get(2).path("absent_in").asText()).isEqualTo("postgresql");
    }

    @Test
    void aMissingDocumentShowsEveryFieldAsAbsentInOpenSearch() {
        ArrayNode diffs = FieldDiff.between(Map.of("id", 1), null, "lockstep");
        assertThat(diffs).hasSize(1);
        assertThat(diffs.get(0).path("absent_in").asText()).isEqualTo("opensearch");
    }
}
