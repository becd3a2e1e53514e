package dev.lockstep.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Bad sink configs are refused by the worker's validate endpoint, with the error on the offending field. */
@ExtendWith(StackExtension.class)
class SinkConfigValidationIT {
    private static final String SINK = "OpenSearchSinkConnector";

    private static Map<String, String> validConfig() {
        Map<String, String> config = new HashMap<>();
        config.put("connector.class", "dev.lockstep.sink.OpenSearchSinkConnector");
        config.put("name", "validation-probe");
        config.put("topics", "t");
        // As a user would write it: the worker resolves the local OpenSearch's URL from its environment.
        config.put("connection.url", "${env:LOCKSTEP_OPENSEARCH_URL}");
        return config;
    }

    @Test
    void unreachableOpenSearchIsAnErrorOnTheUrl(LocalStack stack) {
        Map<String, String> config = validConfig();
        config.put("connection.url", "http://127.0.0.1:1");
        JsonNode result = new Connectors(stack).validate(SINK, config).body();
        assertThat(errorsOf(result, "connection.url")).singleElement().asString().contains("cannot reach OpenSearch at http://127.0.0.1:1");
    }

    @Test
    void validConfigHasNoErrors(LocalStack stack) {
        JsonNode result = new Connectors(stack).validate(SINK, validConfig()).body();
        assertThat(result.path("error_count").asInt()).as(result.toString()).isZero();
    }

    @Test
    void missingConnectionUrlIsAnErrorOnThatField(LocalStack stack) {
        Map<String, String> config = validConfig();
        config.remove("connection.url");
        JsonNode result = new Connectors(stack).validate(SINK, config).body();
        assertThat(result.path("error_count").asInt()).isPositive();
        assertThat(errorsOf(result, "connection.url")).anySatisfy(e -> assertThat(e).contains("connection.url"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"ftp://127.0.0.1:9200", "localhost:9200", "http://", "http://host:9200/some/path", "http://a b"})
    void malformedConnectionUrlIsAnErrorOnThatField(String url, LocalStack stack) {
        Map<String, String> config = validConfig();
        config.put("connection.url", url);
        JsonNode result = new Connectors(stack).validate(SINK, config).body();
        assertThat(errorsOf(result, "connection.url")).as(result.toString()).isNotEmpty()
                .allSatisfy(e -> assertThat(e).contains("connection.url"));
        assertThat(result.path("error_count").asInt()).isEqualTo(1);
    }

    @Test
    void usernameWithoutPasswordIsAnErrorOnThePassword(LocalStack stack) {
        Map<String, String> config = validConfig();
        config.put("connection.username", "admin");
        JsonNode result = new Connectors(stack).validate(SINK, config).body();
        assertThat(errorsOf(result, "connection.password")).singleElement().asString().contains("connection.username");
    }

    @Test
    void passwordIsMaskedInValidation(LocalStack stack) {
        Map<String, String> config = validConfig();
        config.put("connection.username", "admin");
        config.put("connection.password", "s3cret-Value");
        Http.Response r = new Connectors(stack).validate(SINK, config);
        assertThat(r.text()).doesNotContain("s3cret-Value");
        assertThat(r.body().path("error_count").asInt()).isZero();
    }

    @Test
    void lockstepPluginsAreDiscoveredByTheWorker(LocalStack stack) {
        JsonNode plugins = Http.get(stack.connectUrl() + "/connector-plugins?connectorsOnly=false").body();
        List<String> classes = new ArrayList<>();
        plugins.forEach(p -> classes.add(p.path("class").asText()));
        assertThat(classes).contains("dev.lockstep.sink.OpenSearchSinkConnector", "dev.lockstep.reconcile.ReconcileSourceConnector",
                "dev.lockstep.smt.ToSearchDocument", "io.debezium.connector.postgresql.PostgresConnector");
    }

    static List<String> errorsOf(JsonNode validation, String field) {
        List<String> errors = new ArrayList<>();
        for (JsonNode config : validation.path("configs")) {
            if (config.path("value").path("name").asText().equals(field)) {
                config.path("value").path("errors").forEach(e -> errors.add(e.asText()));
            }
        }
        return errors;
    }
}
