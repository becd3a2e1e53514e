package dev.lockstep.sink;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;

class FirstLoadTest {

    private static JsonNode json(String text) throws Exception {
        return IndexDefinition.JSON.readTree(text);
    }

    @Test
    void settingsKeysAreReadTheWayOpenSearchReadsThem() throws Exception {
        assertThat(FirstLoad.flatten(json("{\"index\": {\"refresh_interval\": \"5s\", \"translog\": {\"durability\": \"async\"}}}")).keySet())
                .containsExactly("index.refresh_interval", "index.translog.durability");
        assertThat(FirstLoad.flatten(json("{\"refresh_interval\": \"5s\", \"index.number_of_shards\": 2}")).keySet())
                .containsExactly("index.refresh_interval", "index.number_of_shards");
    }

    @Test
    void aNewIndexGetsTheLoadSettingsTheUserLeftUnsetAndANoteNamingThem() throws Exception {
        try (FirstLoad load = new FirstLoad(null, json("{\"index.refresh_interval\": \"30s\", \"translog\": {\"durability\": \"async\"}}"),
                json("{\"index\": {\"translog.durability\": \"request\"}}"), 2_000, new Object(), "c", "0", "test-first-load")) {
            ObjectNode body = (ObjectNode) json("{\"settings\": {\"index\": {\"translog.durability\": \"request\"}}, "
                    + "\"mappings\": {\"_meta\": {\"lockstep\": {\"column_types\": {\"id\": \"int8\"}}}}}");
            List<String> keys = load.prepareCreate(body);
            assertThat(keys).containsExactly("index.refresh_interval");
            assertThat(body.at("/settings/index.refresh_interval").asText()).isEqualTo("30s");
            assertThat(body.at("/settings/index/translog.durability").asText()).as("the user's own setting").isEqualTo("request");
            assertThat(body.at("/mappings/_meta/lockstep/first_load/settings").toString()).isEqualTo("[\"index.refresh_interval\"]");
            assertThat(body.at("/mappings/_meta/lockstep/column_types/id").asText()).isEqualTo("int8");
            assertThat(body.at("/mappings/_meta/lockstep/first_load/connector").asText()).as("the creator, who looks for it when restarted")
                    .isEqualTo("c");
            assertThat(body.at("/mappings/_meta/lockstep/first_load/task").asText()).isEqualTo("0");

            load.started("items", "items_v1", keys);
            assertThat(load.loadingIndices()).containsExactly("items_v1");
            load.queued("items", 0L); // a snapshot read: still loading
            assertThat(load.idle()).isFalse();
        }
    }

    @Test
    void theUsersSettingsCanLeaveNothingToChange() throws Exception {
        try (FirstLoad load = new FirstLoad(null, json("{\"index.refresh_interval\": \"30s\"}"), json("{\"refresh_interval\": \"1s\"}"),
                2_000, new Object(), "c", "0", "test-first-load")) {
            ObjectNode body = IndexDefinition.JSON.createObjectNode();
            assertThat(load.prepareCreate(body)).isEmpty();
            assertThat(body.isEmpty()).as("no settings, no note").isTrue();
            load.started("items", "items_v1", List.of());
            assertThat(load.idle()).isTrue();
        }
    }
}
