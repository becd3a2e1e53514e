package dev.lockstep.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Struct;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Ordering safety of the sink on the real stack: every operation carries the document version from the lineage
 * headers as external_gte, so a re-emitted old record, or a second sink replaying the topic from offset 0,
 * never makes a document older.
 */
@ExtendWith(StackExtension.class)
class SinkVersionsIT {

    @Test
    void reEmittedOldRecordsAndReplaysLeaveDocumentsCurrent(LocalStack stack) throws Exception {
        String run = "sv" + Long.toString(System.currentTimeMillis() % 100_000_000L, 36);
        String topic = run + "." + run + ".items";
        String index = topic;
        Connectors connectors = new Connectors(stack);
        try (Connection pg = DriverManager.getConnection(stack.pgUrl(), stack.pgUser(), stack.pgPassword());
                Statement s = pg.createStatement()) {
            s.execute("CREATE SCHEMA " + run);
            s.execute("CREATE TABLE " + run + ".items (id int PRIMARY KEY, n int NOT NULL)");
            s.execute("INSERT INTO " + run + ".items VALUES (1, 0), (2, 0), (3, 0)");

            Map<String, String> source = connectors.fromFile("change-events/lockstep-postgres-source");
            source.put("topic.prefix", run);
            source.put("slot.name", run);
            source.put("publication.name", run);
            source.put("table.include.list", run + ".items");
            connectors.create(run + "-source", source);
            Map<String, String> sink = connectors.fromFile("change-events/lockstep-opensearch-sink");
            sink.put("topics", topic);
            sink.put("index.name.pattern", "${topic}");
            sink.put("errors.deadletterqueue.topic.name", run + "-dlq");
            connectors.create(run + "-sink", sink);
            connectors.awaitRunning(run + "-source");
            connectors.awaitRunning(run + "-sink");

            for (int n = 1; n <= 5; n++) {
                s.execute("UPDATE " + run + ".items SET n = " + n + " WHERE id = 1");
            }
            awaitN(stack, index, "1", 5);

            // Re-emit row 1's oldest events (the snapshot read n=0 and the update to n=1) at the end of the topic.
            List<Topics.Event> events = Topics.read(stack, topic, Duration.ofSeconds(30), read -> read.size() >= 8);
            List<Topics.Event> old = events.stream().filter(e -> idOf(e) == 1).limit(2).toList();
            assertThat(old).hasSize(2);
            Topics.produce(stack, topic, old);
            // A later change behind them: once it is indexed, the sink has processed the re-emitted records.
            s.execute("UPDATE " + run + ".items SET n = 99 WHERE id = 2");
            awaitN(stack, index, "2", 99);
            assertThat(doc(stack, index, "1").path("_source").path("n").asInt()).as("row 1 after re-emitted old records").isEqualTo(5);

            // A second sink replays the whole topic from offset 0 into the same index.
            Map<String, String> replay = Map.copyOf(sink);
            connectors.create(run + "-replay", replay);
            connectors.awaitRunning(run + "-replay");
            Awaitility.await("replay caught up").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .until(() -> Topics.caughtUp(stack, "connect-" + run + "-replay", topic));
            assertThat(doc(stack, index, "1").path("_source").path("n").asInt()).isEqualTo(5);
            assertThat(doc(stack, index, "2").path("_source").path("n").asInt()).isEqualTo(99);
            assertThat(doc(stack, index, "3").path("_source").path("n").asInt()).isEqualTo(0);
            assertThat(doc(stack, index, "1").path("_source").path("lockstep").path("version").asLong()).isPositive();
        } finally {
            connectors.deleteQuietly(run + "-replay");
            connectors.deleteQuietly(run + "-sink");
            connectors.deleteQuietly(run + "-source");
            Pipeline.dropSource(stack, run);
            Http.deleteIndex(stack.openSearchUrl(), index);
        }
    }

    private static int idOf(Topics.Event e) {
        Struct value = (Struct) e.value().value();
        Struct row = value.getStruct("after") != null ? value.getStruct("after") : value.getStruct("before");
        return row.getInt32("id");
    }

    private static JsonNode doc(LocalStack stack, String index, String id) {
        return Http.get(stack.openSearchUrl() + "/" + index + "/_doc/" + id).body();
    }

    private static void awaitN(LocalStack stack, String index, String id, int n) {
        Awaitility.await("document " + id + " has n=" + n).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    JsonNode d = doc(stack, index, id);
                    return d != null && d.path("_source").path("n").asInt(-1) == n;
                });
    }
}
