package dev.lockstep.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * At-least-once offsets on the real stack: bulks finish out of order, and the task commits, per partition, only
 * the offset below which every record is acknowledged. A bulk in the middle keeps failing while later bulks
 * succeed; the task is restarted; nothing is lost.
 */
@ExtendWith(StackExtension.class)
class SinkOffsetsIT {
    private static final int RECORDS = 3000;
    private static final String FAILING_ID = "1500";

    @Test
    void aBulkFailingInTheMiddleHoldsTheCommittedOffsetAcrossATaskRestart(LocalStack stack) throws Exception {
        String run = "so" + Long.toString(System.currentTimeMillis() % 100_000_000L, 36);
        String topic = run + "-items";
        String connector = run + "-sink";
        Connectors connectors = new Connectors(stack);
        List<Map.Entry<String, String>> records = new ArrayList<>();
        for (int i = 0; i < RECORDS; i++) {
            records.add(Map.entry(Integer.toString(i), "{\"n\":" + i + ",\"name\":\"item " + i + "\"}"));
        }
        Topics.produceText(stack, topic, records);

        try (FaultProxy proxy = new FaultProxy(stack.openSearchUrl())) {
            // The bulk carrying this document answers 503 for as long as the fault is on.
            proxy.failBulksWhere(body -> body.contains("\"_id\":\"" + FAILING_ID + "\""));
            Map<String, String> sink = new HashMap<>();
            sink.put("connector.class", "dev.lockstep.sink.OpenSearchSinkConnector");
            sink.put("tasks.max", "1");
            sink.put("topics", topic);
            sink.put("connection.url", proxy.url());
            sink.put("key.converter", "org.apache.kafka.connect.storage.StringConverter");
            sink.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
            sink.put("value.converter.schemas.enable", "false");
            sink.put("batch.size", "100");
            sink.put("max.in.flight.requests", "4");
            sink.put("retry.backoff.ms", "50");
            sink.put("retry.backoff.max.ms", "500");
            sink.put("consumer.override.max.poll.records", "500");
            connectors.create(connector, sink);
            try {
                connectors.awaitRunning(connector);
                AtomicReference<String> worst = new AtomicReference<>("RUNNING");

                // Later bulks are acknowledged while the failing one retries: the last document arrives.
                Awaitility.await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                        .until(() -> found(stack, topic, Integer.toString(RECORDS - 1)));
                assertThat(proxy.failedBulks()).isPositive();
                TreeSet<Integer> missing = missing(stack, topic);
                assertThat(missing).contains(Integer.parseInt(FAILING_ID)).hasSizeLessThanOrEqualTo(100);
                int firstMissing = missing.first();
                // Offsets equal ids here (one partition, written in order): the group commits exactly up to the
                // first record not acknowledged, never past it, though everything after it is acknowledged.
                Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                        .until(() -> Topics.committed(stack, "connect-" + connector, topic) == firstMissing);

                Http.Response restart = Http.post(stack.connectUrl() + "/connectors/" + connector + "/tasks/0/restart", null);
                assertThat(restart.status()).as(restart.text()).isIn(200, 202, 204);
                connectors.awaitRunning(connector);
                Thread.sleep(3_000); // several offset commits (offset.flush.interval.ms=1000) with the fault still on
                assertThat(Topics.committed(stack, "connect-" + connector, topic)).isEqualTo(firstMissing);
                assertThat(missing(stack, topic)).contains(Integer.parseInt(FAILING_ID));

                proxy.failBulksWhere(body -> false);
                Awaitility.await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() -> {
                    String state = taskState(stack, connector);
                    if (!state.equals("RUNNING")) {
                        worst.set(state);
                    }
                    return missing(stack, topic).isEmpty();
                });
                Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                        .until(() -> Topics.committed(stack, "connect-" + connector, topic) == RECORDS);
                assertThat(worst.get()).isEqualTo("RUNNING");
                JsonNode doc = Http.get(stack.openSearchUrl() + "/" + topic + "/_doc/" + FAILING_ID).body();
                assertThat(doc.path("_source").path("n").asInt()).isEqualTo(Integer.parseInt(FAILING_ID));
                assertThat(doc.path("_source").path("lockstep").path("id").asText()).isEqualTo(FAILING_ID);
            } finally {
                connectors.deleteQuietly(connector);
                Http.deleteIndex(stack.openSearchUrl(), topic);
            }
        }
    }

    private static boolean found(LocalStack stack, String index, String id) {
        return Http.get(stack.openSearchUrl() + "/" + index + "/_doc/" + id).body().path("found").asBoolean();
    }

    /** Ids 0..RECORDS-1 that the index does not hold. */
    private static TreeSet<Integer> missing(LocalStack stack, String index) {
        Http.post(stack.openSearchUrl() + "/" + index + "/_refresh", null);
        JsonNode hits = Http.post(stack.openSearchUrl() + "/" + index + "/_search",
                Map.of("size", RECORDS, "_source", false, "query", Map.of("match_all", Map.of()))).body().path("hits").path("hits");
        TreeSet<Integer> missing = new TreeSet<>();
        for (int i = 0; i < RECORDS; i++) {
            missing.add(i);
        }
        hits.forEach(h -> missing.remove(Integer.parseInt(h.path("_id").asText())));
        return missing;
    }

    private static String taskState(LocalStack stack, String connector) {
        JsonNode tasks = Http.get(stack.connectUrl() + "/connectors/" + connector + "/status").body().path("tasks");
        return tasks.isEmpty() ? "UNASSIGNED" : tasks.get(0).path("state").asText();
    }
}
