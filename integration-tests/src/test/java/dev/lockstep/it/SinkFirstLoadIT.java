package dev.lockstep.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An index the sink creates for a snapshot refreshes every 30 s while the snapshot fills it
 * ({@code index.first.load.settings}), and gets the node's default back, refreshed, when the load ends: at the first
 * streamed change, or once no snapshot read came for {@code index.first.load.idle.ms}. A sink task that restarts
 * mid-load finds the load in the index's {@code _meta} and ends it the same way, also when it has nothing left to consume.
 */
@ExtendWith(StackExtension.class)
class SinkFirstLoadIT {
    private static final int ROWS = 3_000;

    @Test
    void theSnapshotLoadsWithRareRefreshesAndTheFirstStreamedChangeRestoresTheDefaultEvenAfterARestart(LocalStack stack) throws Exception {
        try (Pipeline p = new Pipeline(stack, "fls")) {
            fill(p);
            Map<String, String> sink = Map.of("index.first.load.idle.ms", "3600000"); // only a streamed change ends it
            p.start(sink, "items");
            String index = p.topic("items");
            awaitSnapshotIndexed(stack, index);
            JsonNode loading = settings(stack, index);
            assertThat(loading.path("index.refresh_interval").asText()).as(loading.toString()).isEqualTo("30s");
            assertThat(note(stack, index).path("settings")).as("the keys the load set, noted in _meta")
                    .containsExactly(Http.JSON.getNodeFactory().textNode("index.refresh_interval"));
            assertThat(loadingGauge(stack, p.name + "-sink")).as("lockstep_sink_first_load_indices").isEqualTo(1);

            // The sink's task restarts mid-load: the new one learns of the load from _meta.
            Map<String, String> config = p.connectors.fromFile("lockstep-opensearch-sink");
            p.connectors.deleteQuietly(p.name + "-sink");
            config.put("topics", p.topic("items"));
            config.put("index.name.pattern", "${topic}");
            config.put("errors.deadletterqueue.topic.name", p.dlq());
            config.putAll(sink);
            p.connectors.create(p.name + "-sink", config);
            p.connectors.awaitRunning(p.name + "-sink");
            assertThat(settings(stack, index).path("index.refresh_interval").asText()).isEqualTo("30s");

            p.sql("UPDATE ${schema}.items SET name = 'streamed' WHERE id = 7");
            Awaitility.await("the load ends at the first streamed change").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .untilAsserted(() -> {
                        assertThat(settings(stack, index).has("index.refresh_interval")).as("back to the node's default").isFalse();
                        assertThat(note(stack, index).isMissingNode()).as("the note is gone from _meta").isTrue();
                    });
            assertThat(loadingGauge(stack, p.name + "-sink")).isZero();
            // Searchable without an explicit refresh: the load's end refreshed, and the default interval is back.
            Awaitility.await("every row and the change searchable").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                    .untilAsserted(() -> {
                        assertThat(Http.get(stack.openSearchUrl() + "/" + index + "/_count").body().path("count").asLong()).isEqualTo(ROWS);
                        assertThat(Http.get(stack.openSearchUrl() + "/" + index + "/_count?q=name:streamed").body().path("count").asLong())
                                .isEqualTo(1);
                    });
            assertThat(p.sinkTaskState()).isEqualTo("RUNNING");
        }
    }

    @Test
    void withoutChangesTheLoadEndsOnceTheSnapshotIsIdleAndAllOfItIsIndexed(LocalStack stack) throws Exception {
        try (Pipeline p = new Pipeline(stack, "fli")) {
            fill(p);
            // Bulks of 10, one at a time: the last snapshot record is queued seconds before the last bulk is
            // acknowledged, so a load that ended on the idle time alone would end while the snapshot is half indexed.
            p.start(Map.of("index.first.load.idle.ms", "1000", "batch.size", "10", "max.in.flight.requests", "1"), "items");
            String index = p.topic("items");
            Awaitility.await("the load ends a second after the last snapshot read is acknowledged").atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
                        // the index is created with the note: existing without it, its load has ended
                        assertThat(Http.get(stack.openSearchUrl() + "/" + index).status()).isEqualTo(200);
                        assertThat(settings(stack, index).has("index.refresh_interval")).isFalse();
                        assertThat(note(stack, index).isMissingNode()).isTrue();
                    });
            assertThat(indexed(stack, index)).as("every snapshot row indexed when the load ended").isEqualTo(ROWS);
            // ... and the end refreshed the index: every row is searchable at once, no refresh of the test's own.
            assertThat(Http.get(stack.openSearchUrl() + "/" + index + "/_count").body().path("count").asLong()).isEqualTo(ROWS);
            assertThat(Http.mappings(stack.openSearchUrl(), index).path("_meta").path("lockstep").has("column_types"))
                    .as("the rest of _meta stays").isTrue();
        }
    }

    @Test
    void aTaskRestartedWithTheWholeSnapshotCommittedEndsTheLoadWithoutAChange(LocalStack stack) throws Exception {
        try (Pipeline p = new Pipeline(stack, "flr")) {
            fill(p);
            p.start(Map.of("index.first.load.idle.ms", "3600000"), "items"); // this task never ends it by idle time
            String index = p.topic("items");
            awaitSnapshotIndexed(stack, index);
            Awaitility.await("every snapshot record's offset committed").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .until(() -> Topics.committed(stack, "connect-" + p.name + "-sink", index) == ROWS);
            assertThat(settings(stack, index).path("index.refresh_interval").asText()).isEqualTo("30s");

            // The same connector again: its task has nothing left to consume, and no row changes. It finds its load
            // in _meta when it starts (the note names the connector and the task), not through a record.
            Map<String, String> config = p.connectors.fromFile("lockstep-opensearch-sink");
            p.connectors.deleteQuietly(p.name + "-sink");
            config.put("topics", index);
            config.put("index.name.pattern", "${topic}");
            config.put("errors.deadletterqueue.topic.name", p.dlq());
            config.put("index.first.load.idle.ms", "1000");
            p.connectors.create(p.name + "-sink", config);
            p.connectors.awaitRunning(p.name + "-sink");
            Awaitility.await("the restarted task ends the load").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .untilAsserted(() -> {
                        assertThat(settings(stack, index).has("index.refresh_interval")).as("back to the node's default").isFalse();
                        assertThat(note(stack, index).isMissingNode()).as("the note is gone from _meta").isTrue();
                    });
            assertThat(Http.get(stack.openSearchUrl() + "/" + index + "/_count").body().path("count").asLong()).as("refreshed at the end")
                    .isEqualTo(ROWS);
            assertThat(Topics.committed(stack, "connect-" + p.name + "-sink", index)).as("no record came to the new task").isEqualTo(ROWS);
        }
    }

    /** The sink task's gauge of indices in their first load, from the worker's /metrics. */
    private static double loadingGauge(LocalStack stack, String connector) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("lockstep_sink_first_load_indices\\{connector=\"" + connector
                + "\",task=\"0\"} ([0-9.]+)").matcher(Http.getAny(stack.connectUrl() + "/metrics").text());
        assertThat(m.find()).as("the gauge of " + connector).isTrue();
        return Double.parseDouble(m.group(1));
    }

    private static void fill(Pipeline p) throws Exception {
        p.sql("CREATE SCHEMA ${schema}",
                "CREATE TABLE ${schema}.items (id bigint PRIMARY KEY, name text NOT NULL)",
                "INSERT INTO ${schema}.items SELECT g, 'item ' || g FROM generate_series(1, " + ROWS + ") g");
    }

    /** Every snapshot row indexed, seen by real-time GETs (which need no refresh). */
    private static void awaitSnapshotIndexed(LocalStack stack, String index) {
        Awaitility.await("the snapshot indexed").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                .until(() -> indexed(stack, index) == ROWS);
    }

    /** How many of the snapshot's rows a real-time _mget finds. */
    private static long indexed(LocalStack stack, String index) {
        JsonNode docs = Http.post(stack.openSearchUrl() + "/" + index + "/_mget?_source=false",
                Map.of("ids", java.util.stream.IntStream.rangeClosed(1, ROWS).mapToObj(String::valueOf).toList())).body().path("docs");
        long found = 0;
        for (JsonNode doc : docs) {
            found += doc.path("found").asBoolean() ? 1 : 0;
        }
        return found;
    }

    /** The index's own settings (flat keys), without the node's defaults. */
    private static JsonNode settings(LocalStack stack, String index) {
        return Http.get(stack.openSearchUrl() + "/" + index + "/_settings?flat_settings=true").body().elements().next().path("settings");
    }

    private static JsonNode note(LocalStack stack, String index) {
        return Http.mappings(stack.openSearchUrl(), index).path("_meta").path("lockstep").path("first_load");
    }
}
