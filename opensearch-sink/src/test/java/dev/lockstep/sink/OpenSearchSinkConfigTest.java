package dev.lockstep.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OpenSearchSinkConfigTest {

    static Map<String, String> minimal() {
        Map<String, String> props = new HashMap<>();
        props.put("connection.url", "http://localhost:9200");
        return props;
    }

    @Test
    void defaults() {
        OpenSearchSinkConfig config = new OpenSearchSinkConfig(minimal());
        assertThat(config.urls()).hasSize(1);
        assertThat(config.username()).isNull();
        assertThat(config.getString(OpenSearchSinkConfig.INDEX_NAME_PATTERN)).isEqualTo("${topic}");
        assertThat(config.malformedDocumentBehavior()).isEqualTo(OpenSearchSinkConfig.MalformedDocumentBehavior.FAIL);
    }

    @Test
    void severalUrls() {
        Map<String, String> props = minimal();
        props.put("connection.url", "https://a:9200, http://b");
        assertThat(new OpenSearchSinkConfig(props).urls()).extracting(u -> OpenSearchClients.host(u).toURI())
                .containsExactly("https://a:9200", "http://b:80");
    }

    @ParameterizedTest
    @ValueSource(strings = {"ftp://a:9200", "localhost:9200", "http://", "http://a:9200/x", "http://a b", ""})
    void badUrlsNameTheField(String url) {
        Map<String, String> props = minimal();
        props.put("connection.url", url);
        assertThatThrownBy(() -> new OpenSearchSinkConfig(props)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("connection.url");
    }

    @Test
    void missingUrlNamesTheField() {
        assertThatThrownBy(() -> new OpenSearchSinkConfig(Map.of())).isInstanceOf(ConfigException.class)
                .hasMessageContaining("connection.url");
    }

    @Test
    void unknownPlaceholderInIndexPattern() {
        Map<String, String> props = minimal();
        props.put("index.name.pattern", "${schema}-x");
        assertThatThrownBy(() -> new OpenSearchSinkConfig(props)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("index.name.pattern").hasMessageContaining("${schema}");
    }

    @Test
    void malformedBehaviorIsAnEnum() {
        Map<String, String> props = minimal();
        props.put("behavior.on.malformed.documents", "REPORT");
        assertThat(new OpenSearchSinkConfig(props).malformedDocumentBehavior())
                .isEqualTo(OpenSearchSinkConfig.MalformedDocumentBehavior.REPORT);
        props.put("behavior.on.malformed.documents", "ignore");
        assertThatThrownBy(() -> new OpenSearchSinkConfig(props)).hasMessageContaining("behavior.on.malformed.documents");
    }

    @Test
    void indexSettingsAndMappingsMustBeJsonObjects() {
        Map<String, String> props = minimal();
        props.put("index.mappings", "{\"properties\": ");
        assertThatThrownBy(() -> new OpenSearchSinkConfig(props)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("index.mappings").hasMessageContaining("not valid JSON");
        props.put("index.mappings", "[1]");
        assertThatThrownBy(() -> new OpenSearchSinkConfig(props)).hasMessageContaining("must be a JSON object");
        props.remove("index.mappings");
        props.put("index.settings", "3");
        assertThatThrownBy(() -> new OpenSearchSinkConfig(props)).hasMessageContaining("index.settings");
    }

    @Test
    void lineageMappingIsAddedToTheUsersMappings() throws Exception {
        var merged = IndexDefinition.JSON.readTree(IndexDefinition.mappings(
                "{\"properties\": {\"price\": {\"type\": \"scaled_float\", \"scaling_factor\": 100}}}", "lockstep"));
        assertThat(merged.at("/properties/price/type").asText()).isEqualTo("scaled_float");
        assertThat(merged.at("/properties/lockstep/properties/hash_hi/type").asText()).isEqualTo("long");
        assertThat(merged.at("/properties/lockstep/properties/source_ts_ms/type").asText()).isEqualTo("date");
        assertThat(IndexDefinition.mappings("", "")).isNull();
        // A user's own mapping of the lineage field wins.
        var own = IndexDefinition.JSON.readTree(IndexDefinition.mappings("{\"properties\": {\"lockstep\": {\"type\": \"object\", \"enabled\": false}}}", "lockstep"));
        assertThat(own.at("/properties/lockstep/enabled").asBoolean(true)).isFalse();
    }

    @Test
    void indexNamesFromTopic() {
        assertThat(new IndexNames("${table}").forTopic("Lockstep.public.Products")).isEqualTo("products");
        assertThat(new IndexNames("${topic}").forTopic("Lockstep.public.Products")).isEqualTo("lockstep.public.products");
        assertThat(new IndexNames("search-${table}-v1").forTopic("db.s.orders")).isEqualTo("search-orders-v1");
        assertThat(new IndexNames("plain").forTopic("db.s.orders")).isEqualTo("plain");
    }

    @Test
    void validateChecksUserAndPasswordTogether() {
        OpenSearchSinkConnector connector = new OpenSearchSinkConnector();
        Map<String, String> props = minimal();
        props.put("connection.username", "admin");
        assertThat(errors(connector, props, "connection.password")).singleElement().asString().contains("connection.username");
        props.remove("connection.username");
        props.put("connection.password", "secret");
        assertThat(errors(connector, props, "connection.username")).singleElement().asString().contains("connection.password");
        props.put("connection.username", "admin");
        props.put("validate.connection", "false");
        assertThat(connector.validate(props).configValues()).allSatisfy(v -> assertThat(v.errorMessages()).isEmpty());
    }

    @Test
    void validateReportsAnUnreachableNodeOnTheUrl() {
        Map<String, String> props = minimal();
        props.put("connection.url", "http://127.0.0.1:1"); // nothing listens on port 1
        props.put("connection.timeout.ms", "2000");
        List<String> errors = errors(new OpenSearchSinkConnector(), props, "connection.url");
        assertThat(errors).singleElement().asString().contains("cannot reach OpenSearch at http://127.0.0.1:1")
                .containsIgnoringCase("refused");
    }

    private static List<String> errors(OpenSearchSinkConnector connector, Map<String, String> props, String field) {
        return connector.validate(props).configValues().stream().filter(v -> v.name().equals(field))
                .map(ConfigValue::errorMessages).findFirst().orElseThrow();
    }
}
