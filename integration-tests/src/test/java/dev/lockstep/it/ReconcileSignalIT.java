package dev.lockstep.it;

import static dev.lockstep.it.ReconcileIT.awaitCount;
import static dev.lockstep.it.ReconcileIT.awaitReports;
import static dev.lockstep.it.ReconcileIT.createAndFill;
import static dev.lockstep.it.ReconcileIT.ids;
import static dev.lockstep.it.ReconcileIT.index;
import static dev.lockstep.it.ReconcileIT.reconciler;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code repair.mode=debezium-signal}: the reconciler asks the Debezium source for an incremental snapshot of the
 * drifted ids through its Kafka signal channel (Debezium keeps its watermarks in its signal table), the
 * source streams them again through its own chain, extra documents get tombstones, and the validation confirms it.
 */
@ExtendWith(StackExtension.class)
class ReconcileSignalIT {

    @Test
    void driftIsRepairedByDebeziumsIncrementalSnapshotAndValidated(LocalStack stack) throws Exception {
        try (Pipeline p = new Pipeline(stack, "sg")) {
            String signals = p.name + "-signals";
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrap()))) {
                admin.createTopics(List.of(new NewTopic(signals, 1, (short) 1))).all().get();
            }
            createAndFill(p, 2_000);
            // Debezium's own signal table for the snapshot's watermarks (its role writes to it; the reconciler's only SELECTs).
            p.sql("CREATE TABLE ${schema}.debezium_signal (id varchar(64) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048))");
            p.start(Map.of(), Map.of("signal.enabled.channels", "source,kafka", "signal.kafka.topic", signals, "signal.kafka.bootstrap.servers",
                    stack.kafkaBootstrap(), "signal.kafka.groupId", p.name + "-signals", "signal.data.collection", p.name + ".debezium_signal"),
                    "products", "order_lines", "debezium_signal");
            String products = index(p, "products");
            String orderLines = index(p, "order_lines");
            awaitCount(stack, products, 2_000);
            awaitCount(stack, orderLines, 30);

            // Stale: row 30 changes, and once indexed its document is set back to its earlier content at the same version.
            JsonNode before = Http.get(stack.openSearchUrl() + "/" + products + "/_doc/30").body();
            p.sql("UPDATE ${schema}.products SET name = 'renamed 30' WHERE id = 30");
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> Http.get(stack.openSearchUrl() + "/" + products + "/_doc/30")
                    .body().path("_source").path("name").asText().equals("renamed 30"));
            long stale = Http.get(stack.openSearchUrl() + "/" + products + "/_doc/30").body().path("_version").asLong();
            assertThat(Http.put(stack.openSearchUrl() + "/" + products + "/_doc/30?version_type=external_gte&version=" + stale,
                    before.path("_source")).status()).isEqualTo(200);
            assertThat(Http.delete(stack.openSearchUrl() + "/" + products + "/_doc/10").status()).isEqualTo(200);
            assertThat(Http.post(stack.openSearchUrl() + "/" + products + "/_update/20", Map.of("doc", Map.of("name", "tampered")))
                    .status()).isEqualTo(200);
            assertThat(Http.put(stack.openSearchUrl() + "/" + products + "/_doc/999999", Map.of("id", 999_999, "name", "ghost")).status())
                    .isEqualTo(201);
            String line = URLEncoder.encode("3|B", StandardCharsets.UTF_8);
            assertThat(Http.delete(stack.openSearchUrl() + "/" + orderLines + "/_doc/" + line).status()).isEqualTo(200);
            Http.post(stack.openSearchUrl() + "/" + products + "," + orderLines + "/_refresh", null);

            String name = p.name + "-reconciler";
            p.connectors.create(name, reconciler(p, Map.of("compare.mode", "deep", "repair.mode", "debezium-signal", "signal.kafka.topic",
                    signals, "signal.kafka.bootstrap.servers", stack.kafkaBootstrap(), "validation.timeout.ms", "90000")));
            try {
                Map<String, JsonNode> reports = awaitReports(stack, p, 2);
                JsonNode t = reports.get(p.name + ".products").path("table");
                assertThat(t.path("error").isMissingNode()).as(t.toString()).isTrue();
                assertThat(ids(t, "missing")).containsExactly("10");
                assertThat(ids(t, "different")).containsExactly("20");
                assertThat(ids(t, "stale")).containsExactly("30");
                assertThat(ids(t, "extra")).containsExactly("999999");
                assertThat(t.path("repairs").path("mode").asText()).isEqualTo("debezium-signal");
                assertThat(t.path("repairs").path("emitted").asInt()).isEqualTo(4);
                assertThat(t.path("repairs").path("repaired").asInt()).as(t.path("repairs").toString()).isEqualTo(4);
                assertThat(t.path("repairs").path("still_wrong").asInt()).isZero();
                assertThat(reports.get(p.name + ".products").path("verified").asBoolean()).isTrue();
                JsonNode lines = reports.get(p.name + ".order_lines").path("table");
                assertThat(ids(lines, "missing")).containsExactly("3|B");
                assertThat(lines.path("repairs").path("repaired").asInt()).isEqualTo(1);

                // Debezium re-read the rows: the documents are the rows again, at versions above the ones they replaced.
                JsonNode doc30 = Http.get(stack.openSearchUrl() + "/" + products + "/_doc/30").body();
                assertThat(doc30.path("_source").path("name").asText()).isEqualTo("renamed 30");
                assertThat(doc30.path("_version").asLong()).isGreaterThan(stale);
                assertThat(Http.get(stack.openSearchUrl() + "/" + products + "/_doc/10").body().path("_source").path("name").asText())
                        .isEqualTo("product 10");
                assertThat(Http.get(stack.openSearchUrl() + "/" + products + "/_doc/20").body().path("_source").path("name").asText())
                        .isEqualTo("product 20");
                assertThat(Http.get(stack.openSearchUrl() + "/" + products + "/_doc/999999").body().path("found").asBoolean()).isFalse();
                assertThat(Http.get(stack.openSearchUrl() + "/" + orderLines + "/_doc/" + line).body().path("found").asBoolean()).isTrue();
                // A later change of a re-read row still wins over the re-read.
                p.sql("UPDATE ${schema}.products SET name = 'after repair' WHERE id = 10");
                Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> Http.get(stack.openSearchUrl() + "/" + products + "/_doc/10")
                        .body().path("_source").path("name").asText().equals("after repair"));
            } finally {
                p.connectors.deleteQuietly(name);
                Http.delete(stack.openSearchUrl() + "/" + p.name + "-audit");
                try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrap()))) {
                    admin.deleteTopics(List.of(signals)).all().get();
                }
            }
        }
    }
}
