package dev.lockstep.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.header.Header;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Bad records and a lost OpenSearch, on the real stack: nothing is lost and the task keeps running. */
@ExtendWith(StackExtension.class)
class SinkFailuresIT {

    @Test
    void mappingConflictGoesToTheDeadLetterQueueWithItsReasonAndTheRestIsIndexed(LocalStack stack) throws Exception {
        try (Pipeline p = new Pipeline(stack, "dl")) {
            p.sql("CREATE SCHEMA ${schema}", "CREATE TABLE ${schema}.items (id int PRIMARY KEY, n text)",
                    "INSERT INTO ${schema}.items VALUES (1, '10')");
            String index = p.topic("items");
            // The index exists with n as an integer: a row whose n is not a number cannot be indexed.
            Http.Response created = Http.put(stack.openSearchUrl() + "/" + index,
                    Map.of("mappings", Map.of("properties", Map.of("n", Map.of("type", "integer")))));
            assertThat(created.status()).as(created.text()).isEqualTo(200);
            p.start(Map.of(), "items");
            p.sql("INSERT INTO ${schema}.items VALUES (2, 'not a number')", "INSERT INTO ${schema}.items VALUES (3, '30')");

            awaitDocument(stack, index, "3");
            assertThat(Http.get(stack.openSearchUrl() + "/" + index + "/_doc/1").body().path("found").asBoolean()).isTrue();
            assertThat(Http.get(stack.openSearchUrl() + "/" + index + "/_doc/2").body().path("found").asBoolean()).isFalse();

            List<Topics.Event> dead = Topics.read(stack, p.dlq(), Duration.ofSeconds(30), read -> !read.isEmpty());
            assertThat(dead).hasSize(1);
            String reason = header(dead.get(0), "__connect.errors.exception.message");
            assertThat(reason).contains("id=2").contains("mapper_parsing_exception").contains(index);
            assertThat(header(dead.get(0), "__connect.errors.topic")).isEqualTo(index);

            p.sql("INSERT INTO ${schema}.items VALUES (4, '40')");
            awaitDocument(stack, index, "4");
            assertThat(p.sinkTaskState()).isEqualTo("RUNNING");
        }
    }

    @Test
    void openSearchDownForAMinuteAndATaskRestartLoseNothingAndTheTaskNeverFails(LocalStack stack) throws Exception {
        try (Pipeline p = new Pipeline(stack, "os")) {
            p.sql("CREATE SCHEMA ${schema}", "CREATE TABLE ${schema}.items (id int PRIMARY KEY, n int NOT NULL)",
                    "INSERT INTO ${schema}.items SELECT g, 0 FROM generate_series(1, 200) g");
            String index = p.topic("items");
            // A small buffer: the outage must fill it, and the task must pause its partitions, not buffer more.
            p.start(Map.of("max.buffered.records", "50", "consumer.override.max.poll.records", "100"), "items");
            awaitSame(p, index);
            double mostPaused = 0;
            double mostBuffered = 0;

            assertThat(stack.run("stop", "opensearch")).isZero();
            AtomicReference<String> worst = new AtomicReference<>("RUNNING");
            long outageEnds = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            int round = 0;
            try (Connection pg = p.connect(); Statement s = pg.createStatement()) {
                while (System.nanoTime() < outageEnds) {
                    round++;
                    s.execute("UPDATE " + p.name + ".items SET n = n + 1 WHERE id % 10 = " + (round % 10));
                    s.execute("INSERT INTO " + p.name + ".items VALUES (" + (1000 + round) + ", " + round + ")");
                    if (round % 7 == 0) {
                        s.execute("DELETE FROM " + p.name + ".items WHERE id = " + (round * 3 % 200 + 1));
                    }
                    if (!p.sinkTaskState().equals("RUNNING")) {
                        worst.set(p.sinkTaskState());
                    }
                    String metrics = Http.getAny(stack.connectUrl() + "/metrics").text();
                    mostPaused = Math.max(mostPaused, gauge(metrics, "lockstep_sink_paused_partitions", p.name + "-sink"));
                    mostBuffered = Math.max(mostBuffered, gauge(metrics, "lockstep_sink_buffered_records", p.name + "-sink"));
                    if (round == 30) {
                        // Restart the task while its bulks fail: what it had not acknowledged must come again.
                        Http.Response restart = Http.post(stack.connectUrl() + "/connectors/" + p.name + "-sink/tasks/0/restart", null);
                        assertThat(restart.status()).as(restart.text()).isIn(200, 202, 204);
                    }
                    Thread.sleep(1_000);
                }
            }
            assertThat(stack.run("up")).isZero();
            awaitSame(p, index);
            assertThat(worst.get()).as("sink task state during the outage").isEqualTo("RUNNING");
            assertThat(mostPaused).as("partitions paused during the outage").isEqualTo(1);
            // Bounded memory: at most max.buffered.records plus the one poll that filled the buffer (sampled once a second).
            assertThat(mostBuffered).as("records buffered during the outage").isPositive().isLessThanOrEqualTo(150.0);
            Awaitility.await("partitions resumed").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                    .until(() -> gauge(Http.getAny(stack.connectUrl() + "/metrics").text(), "lockstep_sink_paused_partitions",
                            p.name + "-sink") == 0);
            assertThat(p.sinkTaskState()).isEqualTo("RUNNING");
        }
    }

    @Test
    void writeQueueRejections429AreRetriedUntilEverythingIsIndexed(LocalStack stack) throws Exception {
        // A node whose write pool has one thread and a one-slot queue, kept busy by a bulk loader of its own:
        // most of the sink's bulks (or their items) come back 429.
        assertThat(stack.run("stop", "opensearch")).isZero();
        try {
            assertThat(stack.run(Map.of("LOCKSTEP_OPENSEARCH_SETTINGS", "thread_pool.write.size=1 thread_pool.write.queue_size=1"), "up"))
                    .isZero();
            try (Pipeline p = new Pipeline(stack, "tq")) {
                p.sql("CREATE SCHEMA ${schema}", "CREATE TABLE ${schema}.items (id int PRIMARY KEY, n int NOT NULL)");
                String index = p.topic("items");
                p.start(Map.of("batch.size", "50"), "items");
                java.util.concurrent.atomic.AtomicBoolean loading = new java.util.concurrent.atomic.AtomicBoolean(true);
                java.util.concurrent.atomic.AtomicInteger rejected = new java.util.concurrent.atomic.AtomicInteger();
                List<Thread> loaders = new java.util.ArrayList<>();
                String body = "{\"index\":{}}\n{\"x\":1}\n".repeat(200);
                for (int t = 0; t < 4; t++) {
                    Thread loader = new Thread(() -> {
                        long until = System.nanoTime() + Duration.ofSeconds(60).toNanos(); // bounded, whatever happens
                        while (loading.get() && System.nanoTime() < until) {
                            Http.Response r = Http.post(stack.openSearchUrl() + "/" + p.name + "-load/_bulk", body);
                            if (r.status() == 429 || r.text().contains("\"status\":429")) {
                                rejected.incrementAndGet();
                            }
                        }
                    });
                    loader.start();
                    loaders.add(loader);
                }
                try {
                    p.sql("INSERT INTO ${schema}.items SELECT g, g FROM generate_series(1, 2000) g",
                            "UPDATE ${schema}.items SET n = n + 1 WHERE id % 3 = 0");
                    Thread.sleep(15_000); // the sink works against the loaded node for a while
                } finally {
                    loading.set(false);
                    for (Thread loader : loaders) {
                        loader.join();
                    }
                    Http.deleteIndex(stack.openSearchUrl(), p.name + "-load");
                }
                awaitSame(p, index);
                assertThat(rejected.get()).as("429s the loader saw").isPositive();
                String metrics = Http.getAny(stack.connectUrl() + "/metrics").text();
                java.util.regex.Matcher retries = java.util.regex.Pattern.compile(
                        "lockstep_sink_retries_total\\{connector=\"" + p.name + "-sink\",task=\"0\"} ([0-9.E]+)").matcher(metrics);
                assertThat(retries.find()).as("retries meter of the sink").isTrue();
                assertThat(Double.parseDouble(retries.group(1))).as("operations the sink retried").isPositive();
                assertThat(p.sinkTaskState()).isEqualTo("RUNNING");
            }
        } finally {
            stack.run("stop", "opensearch");
            assertThat(stack.run("up")).isZero();
        }
    }

    /** A task-level gauge of the sink from the worker's Prometheus text, or -1 when absent. */
    static double gauge(String metrics, String name, String connector) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                java.util.regex.Pattern.quote(name + "{connector=\"" + connector + "\",task=\"0\"} ") + "([0-9.E+-]+|NaN)").matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : -1; // NaN: a gauge whose object is gone
    }

    private static String header(Topics.Event event, String name) {
        Header h = event.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static void awaitDocument(LocalStack stack, String index, String id) {
        Awaitility.await("document " + id + " in " + index).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
                .until(() -> Http.get(stack.openSearchUrl() + "/" + index + "/_doc/" + id).body().path("found").asBoolean());
    }

    /** Waits until the index holds exactly the table's rows (id → n). */
    private static void awaitSame(Pipeline p, String index) {
        AtomicReference<String> last = new AtomicReference<>();
        Awaitility.await("index " + index + " equals the table").atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(1))
                .alias(index).until(() -> {
                    Map<String, Integer> rows = new HashMap<>();
                    try (Connection pg = p.connect(); Statement s = pg.createStatement();
                            ResultSet rs = s.executeQuery("SELECT id, n FROM " + p.name + ".items")) {
                        while (rs.next()) {
                            rows.put(rs.getString(1), rs.getInt(2));
                        }
                    }
                    Map<String, Integer> docs = new HashMap<>();
                    if (Http.post(p.stack.openSearchUrl() + "/" + index + "/_refresh", null).status() != 200) {
                        return false;
                    }
                    JsonNode hits = Http.post(p.stack.openSearchUrl() + "/" + index + "/_search?size=10000",
                            Map.of("query", Map.of("match_all", Map.of()))).body().path("hits").path("hits");
                    hits.forEach(h -> docs.put(h.get("_id").asText(), h.path("_source").path("n").asInt()));
                    last.set(rows.size() + " rows, " + docs.size() + " documents");
                    return rows.equals(docs);
                });
    }
}
