package dev.lockstep.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockstep.sink.IndexVersions;
import java.util.List;
import org.junit.jupiter.api.Test;

class IndexRebuildTest {

    private static JsonNode json(String text) throws Exception {
        return SearchSide.JSON.readTree(text);
    }

    @Test
    void theNextMappingTakesTheSinksRequestedFieldsThenTheRequestsOwnAndKeepsTheColumnTypes() throws Exception {
        JsonNode current = json("""
                {"dynamic": "true",
                 "_meta": {"owner": "search team", "lockstep": {"column_types": {"code": "integer", "name": "text"},
                           "rebuild": {"requested_at": 1, "fields": {"code": {"column_type": "text",
                                       "mapping": {"type": "text", "fields": {"keyword": {"type": "keyword"}}}}}}}},
                 "properties": {"code": {"type": "long", "ignore_malformed": true}, "name": {"type": "text"}, "price": {"type": "double"}}}
                """);
        JsonNode next = IndexRebuild.nextMappings(current, json("{\"properties\": {\"name\": {\"type\": \"keyword\"}}, \"dynamic\": \"strict\"}"),
                "products_v1");
        assertThat(next.at("/properties/code/type").asText()).isEqualTo("text");
        assertThat(next.at("/properties/code/ignore_malformed").isMissingNode()).isTrue();
        assertThat(next.at("/properties/name/type").asText()).isEqualTo("keyword");
        assertThat(next.at("/properties/price/type").asText()).isEqualTo("double");
        assertThat(next.at("/dynamic").asText()).isEqualTo("strict");
        assertThat(next.at("/_meta/owner").asText()).isEqualTo("search team");
        assertThat(next.at("/_meta/lockstep/rebuild").isMissingNode()).as("the request is done").isTrue();
        assertThat(next.at("/_meta/lockstep/rebuilt_from").asText()).isEqualTo("products_v1");
        assertThat(next.at("/_meta/lockstep/column_types/code").asText()).isEqualTo("text");
        assertThat(next.at("/_meta/lockstep/column_types/name").asText()).as("a chosen mapping keeps the column type").isEqualTo("text");
        assertThat(current.at("/properties/code/type").asText()).as("the current mapping is not changed").isEqualTo("long");
    }

    @Test
    void theNextSettingsLeaveOutWhatBelongsToTheCurrentIndex() throws Exception {
        JsonNode flat = json("""
                {"index.number_of_shards": "2", "index.number_of_replicas": "1", "index.uuid": "x", "index.creation_date": "1",
                 "index.provided_name": "products_v1", "index.version.created": "136", "index.blocks.write": "true",
                 "index.analysis.analyzer.folding.tokenizer": "standard", "index.refresh_interval": "5s"}
                """);
        JsonNode next = IndexRebuild.nextSettings(flat, json("{\"number_of_replicas\": 0, \"index\": {\"max_result_window\": 50000}}"));
        assertThat(next.path("index.number_of_shards").asText()).isEqualTo("2");
        assertThat(next.path("index.number_of_replicas").asInt()).isZero();
        assertThat(next.path("index.max_result_window").asInt()).isEqualTo(50_000);
        assertThat(next.path("index.analysis.analyzer.folding.tokenizer").asText()).isEqualTo("standard");
        assertThat(next.path("index.refresh_interval").asText()).isEqualTo("5s");
        for (String own : List.of("index.uuid", "index.creation_date", "index.provided_name", "index.version.created", "index.blocks.write")) {
            assertThat(next.has(own)).as(own).isFalse();
        }
    }

    @Test
    void aRebuildDuringTheSinksFirstLoadDoesNotKeepItsSettings() throws Exception {
        JsonNode flat = json("{\"index.number_of_shards\": \"2\", \"index.refresh_interval\": \"30s\"}");
        JsonNode loading = json("{\"_meta\": {\"lockstep\": {\"first_load\": {\"settings\": [\"index.refresh_interval\"]}}}}");
        JsonNode next = IndexRebuild.nextSettings(IndexRebuild.withoutFirstLoad(flat, loading), null);
        assertThat(next.has("index.refresh_interval")).isFalse();
        assertThat(next.path("index.number_of_shards").asText()).isEqualTo("2");
        assertThat(IndexRebuild.withoutFirstLoad(flat, json("{}"))).isSameAs(flat);
    }

    @Test
    void versionsAreNumberedAfterTheHighestThatExists() {
        assertThat(IndexVersions.next("products", "products", List.of())).isEqualTo("products_v1");
        assertThat(IndexVersions.next("products", "products_v1", List.of("products_v1"))).isEqualTo("products_v2");
        assertThat(IndexVersions.next("products", "products_v2", List.of("products_v9", "products_vintage", "products_v10x")))
                .isEqualTo("products_v10");
        assertThat(IndexVersions.isVersionOf("products", "products_v12")).isTrue();
        assertThat(IndexVersions.isVersionOf("products", "products_archive_v1")).isFalse();
        assertThat(IndexVersions.isVersionOf("products", "products_v")).isFalse();
        assertThat(IndexVersions.writeAlias("products")).isEqualTo("products.writes");
    }
}
