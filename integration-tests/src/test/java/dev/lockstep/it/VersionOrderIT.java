package dev.lockstep.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.smt.CommitLsnVersion;
import dev.lockstep.smt.Lineage;
import dev.lockstep.smt.SyncHeaders;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The document version ({@link CommitLsnVersion}, via {@link SyncHeaders}) on real Debezium events: per row, a
 * later committed change never gets a lower version, even for interleaved concurrent transactions and for a
 * transaction that wrote before a snapshot and committed after it (its event LSN is below the snapshot's).
 */
@ExtendWith(StackExtension.class)
class VersionOrderIT {
    private static final int ROWS = 5;
    private static final int WRITERS = 4;
    private static final int TRANSACTIONS = 25;

    private static long previous(long[] previous, int i) {
        return previous == null ? -1 : previous[i];
    }

    @Test
    void laterCommitsAlwaysGetHigherVersions(LocalStack stack) throws Exception {
        String slot = "vo" + Long.toString(System.currentTimeMillis() % 100_000_000L, 36);
        String topic = slot + "." + slot + ".items";
        Connectors connectors = new Connectors(stack);
        try (Connection admin = DriverManager.getConnection(stack.pgUrl(), stack.pgUser(), stack.pgPassword());
                Statement s = admin.createStatement();
                Connection open = DriverManager.getConnection(stack.pgUrl(), stack.pgUser(), stack.pgPassword())) {
            s.execute("CREATE SCHEMA " + slot);
            s.execute("CREATE TABLE " + slot + ".items (id int PRIMARY KEY, n int NOT NULL)");
            s.execute("INSERT INTO " + slot + ".items SELECT g, 0 FROM generate_series(1, " + ROWS + ") g");

            Map<String, String> config = connectors.fromFile("change-events/lockstep-postgres-source");
            config.put("topic.prefix", slot);
            config.put("slot.name", slot);
            config.put("publication.name", slot);
            config.put("table.include.list", slot + ".items");
            // Every task start snapshots again: the second snapshot runs while a writer's transaction is open.
            config.put("snapshot.mode", "always");
            connectors.create(slot, config);
            connectors.awaitRunning(slot);
            assertThat(Topics.read(stack, topic, Duration.ofSeconds(60), read -> read.size() >= ROWS)).hasSize(ROWS);

            // A transaction writes row 1 before the second snapshot and commits after it: its event LSN lies
            // below the snapshot's LSN, yet its change is the newer one. (Slot creation waits for open
            // transactions, so this needs the slot to exist already: hence the second snapshot.)
            open.setAutoCommit(false);
            try (Statement o = open.createStatement()) {
                o.execute("UPDATE " + slot + ".items SET n = 1000 WHERE id = 1");
            }
            Http.Response restart = Http.post(stack.connectUrl() + "/connectors/" + slot + "/restart?includeTasks=true", null);
            assertThat(restart.status()).as(restart.text()).isIn(200, 202, 204);
            assertThat(Topics.read(stack, topic, Duration.ofSeconds(60), read -> read.size() >= 2 * ROWS)).hasSize(2 * ROWS);
            open.commit();

            ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
            List<Future<?>> writers = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                int seed = w;
                writers.add(pool.submit(() -> {
                    Random random = new Random(seed);
                    try (Connection c = DriverManager.getConnection(stack.pgUrl(), stack.pgUser(), stack.pgPassword());
                            Statement ws = c.createStatement()) {
                        c.setAutoCommit(false);
                        for (int t = 0; t < TRANSACTIONS; t++) {
                            // Lock order by id avoids deadlocks; the sleep makes transactions interleave in the WAL.
                            int a = 1 + random.nextInt(ROWS - 1);
                            int b = a + 1 + random.nextInt(ROWS - a);
                            ws.execute("UPDATE " + slot + ".items SET n = n + 1 WHERE id = " + a);
                            Thread.sleep(random.nextInt(15));
                            ws.execute("UPDATE " + slot + ".items SET n = n + 1 WHERE id = " + b);
                            c.commit();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : writers) {
                f.get(2, TimeUnit.MINUTES);
            }
            pool.shutdown();

            int expected = 2 * ROWS + 1 + WRITERS * TRANSACTIONS * 2;
            List<Topics.Event> events = Topics.read(stack, topic, Duration.ofSeconds(90), read -> read.size() >= expected);
            assertThat(events).hasSize(expected);

            SyncHeaders<SinkRecord> sync = new SyncHeaders<>();
            sync.configure(Map.of());
            Map<Integer, long[]> last = new HashMap<>(); // id -> {version, txId}
            Map<Integer, Integer> lastN = new HashMap<>();
            List<String> violations = new ArrayList<>();
            for (Topics.Event e : events) {
                SinkRecord record = sync.apply(new SinkRecord(topic, 0, e.key().schema(), e.key().value(), e.value().schema(),
                        e.value().value(), e.offset()));
                long version = Lineage.longHeader(record.headers(), Lineage.VERSION);
                long txId = Lineage.longHeader(record.headers(), Lineage.TX_ID);
                Struct after = ((Struct) record.value()).getStruct("after");
                int id = after.getInt32("id");
                long[] previous = last.get(id);
                // Equal versions are for changes of one transaction (and for snapshot reads, which all show committed
                // state): the sink's external_gte accepts them in Kafka order.
                boolean sameStep = txId == previous(previous, 1) || version == CommitLsnVersion.SNAPSHOT;
                if (previous != null && (version < previous[0] || (version == previous[0] && !sameStep))) {
                    violations.add("row " + id + " at offset " + e.offset() + ": version " + version + " (tx " + txId
                            + ") after version " + previous[0] + " (tx " + previous[1] + ")");
                }
                last.put(id, new long[] {version, txId});
                lastN.put(id, after.getInt32("n"));
            }
            assertThat(violations).isEmpty();
            try (ResultSet rs = s.executeQuery("SELECT id, n FROM " + slot + ".items")) {
                while (rs.next()) {
                    assertThat(lastN.get(rs.getInt(1))).as("last streamed n of row " + rs.getInt(1)).isEqualTo(rs.getInt(2));
                }
            }
        } finally {
            connectors.deleteQuietly(slot);
            Pipeline.dropSource(stack, slot);
        }
    }
}
