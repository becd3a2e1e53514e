package dev.lockstep.it;

import static dev.lockstep.it.ReconcileIT.awaitCount;
import static dev.lockstep.it.ReconcileIT.createAndFill;
import static dev.lockstep.it.ReconcileIT.index;
import static dev.lockstep.it.ReconcileIT.reconciler;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The fast first load: Debezium streams from a slot created first ({@code snapshot.mode=no_data}), and the
 * reconciler's first run finds the segments without documents (or with the few the stream indexed meanwhile), loads them whole through the table's topic on all its
 * connections, and validates them by checksum, while rows keep changing. The next run finds nothing.
 */
@ExtendWith(StackExtension.class)
class FirstLoadIT {

    @Test
    void segmentsWithoutDocumentsAreLoadedWholeAndValidatedWhileRowsChange(LocalStack stack) throws Exception {
        try (Pipeline p = new Pipeline(stack, "fl")) {
            createAndFill(p, 5_000);
            p.start(Map.of(), Map.of("snapshot.mode", "no_data"), "products");
            String products = index(p, "products");
            p.sql("ANALYZE ${schema}.products");
            // Changes streamed while the load runs: they and the loaded rows meet in the index at safe versions.
            Thread writer = new Thread(() -> {
                try {
                    for (int i = 0; i < 40; i++) {
                        p.sql("UPDATE ${schema}.products SET name = 'changed " + i + "' WHERE id = " + (1 + i * 97),
                                "DELETE FROM ${schema}.products WHERE id = " + (4_000 + i));
                        Thread.sleep(50);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            String name = p.name + "-reconciler";
            p.connectors.create(name, reconciler(p, Map.of("tables", p.name + ".products", "segment.rows", "500", "compare.mode", "hash",
                    "schedule.interval.ms", "3600000")));
            // The load creates the index (nothing else wrote to the topic yet): mapped from the column types too.
            Awaitility.await("the index").atMost(Duration.ofSeconds(60)).until(() -> Http.get(stack.openSearchUrl() + "/" + products).status() == 200);
            writer.start();
            try {
                String first = ReconcileIT.awaitRun(stack, name, null);
                writer.join();
                JsonNode report = Http.get(stack.connectUrl() + "/lockstep/reconcile/" + name + "/runs/" + first).body().path("tables").get(0);
                JsonNode t = report.path("table");
                JsonNode loaded = t.path("repairs").path("loaded");
                assertThat(loaded.path("segments").asInt()).as(t.toString()).isGreaterThanOrEqualTo(8);
                assertThat(loaded.path("rows").asLong()).isBetween(4_960L, 5_000L);
                assertThat(loaded.path("unconfirmed_segments").asInt()).as(t.toString()).isZero();
                // Segments where the stream had indexed a few changed rows already are loaded whole too.
                assertThat(t.path("mismatches").path("missing").path("in_segments_loaded_whole").asLong()).isBetween(4_800L, 5_000L);
                assertThat(t.path("rows_diffed").asLong()).as("no bisection down to single ids").isZero();
                assertThat(report.path("verified").asBoolean()).isTrue();

                awaitCount(stack, products, 4_960);
                JsonNode mapping = Http.mappings(stack.openSearchUrl(), products);
                assertThat(mapping.path("properties").path("price").path("type").asText()).as(mapping.toString()).isEqualTo("double");
                // The next run: every row matched, nothing to repair.
                JsonNode second = ReconcileIT.runNow(stack, name, p, first);
                assertThat(second.path("matched").asLong()).as(second.toString()).isEqualTo(4_960);
                assertThat(second.path("consistency_score").asDouble()).isEqualTo(100.0);
                List<String> drift = new ArrayList<>();
                second.path("mismatches").fields().forEachRemaining(e -> {
                    if (e.getValue().path("count").asInt() > 0) {
                        drift.add(e.getKey());
                    }
                });
                assertThat(drift).isEmpty();
                assertThat(Http.get(stack.openSearchUrl() + "/" + products + "/_doc/98").body().path("_source").path("name").asText())
                        .isEqualTo("changed 1");
                assertThat(Http.get(stack.openSearchUrl() + "/" + products + "/_doc/4001").body().path("found").asBoolean()).isFalse();
            } finally {
                writer.join();
                p.connectors.deleteQuietly(name);
                Http.delete(stack.openSearchUrl() + "/" + p.name + "-audit");
            }
        }
    }
}
