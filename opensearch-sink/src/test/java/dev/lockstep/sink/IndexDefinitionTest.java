package dev.lockstep.sink;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A new index's mappings: the user's win per field, derived ones fill the rest, the lineage object is added. */
class IndexDefinitionTest {

    @Test
    void usersMappingsWinOverDerivedOnesPerField() throws Exception {
        OpenSearchSinkConfig config = new OpenSearchSinkConfig(Map.of("connection.url", "http://localhost:9200",
                "index.mappings", "{\"properties\": {\"price\": {\"type\": \"scaled_float\", \"scaling_factor\": 100}}}"));
        IndexDefinition definition = new IndexDefinition(config);
        Map<String, String> types = new LinkedHashMap<>();
        types.put("price", "numeric(12,2)");
        types.put("name", "text");
        var derived = FieldMappings.properties(types, config.fieldMappingOptions());

        var body = IndexDefinition.JSON.readTree(definition.createBody(derived, types, java.util.List.of("products", "products.writes")));
        assertThat(body.at("/aliases/products").isObject()).isTrue();
        assertThat(body.at("/mappings/_meta/lockstep/column_types/price").asText()).isEqualTo("numeric(12,2)");
        assertThat(body.at("/aliases/products.writes").isObject()).isTrue();
        assertThat(body.at("/mappings/properties/price/type").asText()).isEqualTo("scaled_float");
        assertThat(body.at("/mappings/properties/name/type").asText()).isEqualTo("text");
        assertThat(body.at("/mappings/properties/lockstep/properties/hash_hi/type").asText()).isEqualTo("long");
        // Unique per document and never searched: kept in _source only (see docs/benchmarks.md for their cost).
        for (String kept : new String[] {"hash", "id"}) {
            assertThat(body.at("/mappings/properties/lockstep/properties/" + kept + "/index").asBoolean(true)).as(kept).isFalse();
            assertThat(body.at("/mappings/properties/lockstep/properties/" + kept + "/doc_values").asBoolean(true)).as(kept).isFalse();
        }
        assertThat(definition.userProperty("price").path("scaling_factor").asInt()).isEqualTo(100);
        assertThat(definition.userProperty("name")).isNull();
        // The definition itself is not changed by a request.
        assertThat(IndexDefinition.JSON.readTree(definition.createBody(Map.of(), Map.of(), java.util.List.of())).at("/mappings/properties/name").isMissingNode()).isTrue();
    }

    @Test
    void optionsShapeDerivedMappings() {
        OpenSearchSinkConfig config = new OpenSearchSinkConfig(Map.of("connection.url", "http://localhost:9200",
                "index.mappings.json", "disabled", "index.mappings.timestamps", "date"));
        assertThat(FieldMappings.of("json", config.fieldMappingOptions()).path("enabled").asBoolean(true)).isFalse();
        assertThat(FieldMappings.of("timestamptz(6)", config.fieldMappingOptions()).path("type").asText()).isEqualTo("date");
    }
}
