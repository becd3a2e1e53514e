package dev.lockstep.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockstep.it.Connectors;
import dev.lockstep.it.Http;
import dev.lockstep.it.LocalStack;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.awaitility.Awaitility;

/**
 * The first load of a table, from the moment the connectors are registered to the moment the reconciler reports
 * 100% on it ({@code bin/lockstep-bench load [rows] [reconciler|snapshot|both]}), on {@code pgbench_accounts} made by
 * {@code pgbench -i} (1M rows: scale 10). Two ways, side by side in one run:
 * <ul>
 *   <li>{@code reconciler}: Debezium streams from a slot created first ({@code snapshot.mode=no_data}); the reconciler's
 *       first run finds the segments without documents and loads them through the table's topic on its connections,
 *       validates them by checksum; a second run reports 100%;</li>
 *   <li>{@code snapshot}: Debezium's initial snapshot with the shipped transforms, the sink indexes it; once every row
 *       is searchable, the reconciler is registered and its first run reports 100%.</li>
 * </ul>
 * Printed per way: the total, its phases (rows written to the topic, topic to index, verification), and the CPU
 * seconds of the worker, Kafka, OpenSearch and PostgreSQL over the whole load.
 */
public final class LoadBenchmark {
    private static final String TABLE = "public.pgbench_accounts";

    public static void main(String[] args) throws Exception {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        String ways = args.length > 1 ? args[1] : "both";
        try (LocalStack stack = LocalStack.startOrReuse()) {
            prepare(stack, rows);
            if (!ways.equals("snapshot")) {
                run(stack, rows, true);
            }
            if (!ways.equals("reconciler")) {
                run(stack, rows, false);
            }
        }
    }

    /** pgbench's tables at the scale for {@code rows} (kept from an earlier run of the same size). */
    private static void prepare(LocalStack stack, int rows) throws Exception {
        try (Connection pg = DriverManager.getConnection(stack.pgUrl(), stack.pgUser(), stack.pgPassword());
                Statement s = pg.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM " + TABLE)) {
                rs.next();
                if (rs.getLong(1) == rows) {
                    System.out.printf("reusing %,d rows of %s%n", rows, TABLE);
                    return;
                }
            } catch (java.sql.SQLException none) {
                // no pgbench tables yet
            }
        }
        URI pg = URI.create(stack.pgUrl().substring("jdbc:".length()));
        long started = System.nanoTime();
        ProcessBuilder pgbench = new ProcessBuilder("/usr/lib/postgresql/15/bin/pgbench", "-i", "-q", "-s", String.valueOf(Math.max(1, rows / 100_000)),
                "-h", pg.getHost(), "-p", String.valueOf(pg.getPort()), "-U", stack.pgUser(), pg.getPath().substring(1)).inheritIO();
        pgbench.environment().put("PGPASSWORD", stack.pgPassword() == null ? "" : stack.pgPassword());
        if (pgbench.start().waitFor() != 0) {
            throw new IllegalStateException("pgbench -i failed");
        }
        System.out.printf("pgbench -i: %,d rows in %.1f s%n", rows, (System.nanoTime() - started) / 1e9);
    }

    private static void run(LocalStack stack, int rows, boolean throughReconciler) throws Exception {
        Connectors connectors = new Connectors(stack);
        String name = "lb" + Long.toString(System.currentTimeMillis() % 100_000_000L, 36);
        String index = name + "-accounts";
        String topic = name + ".public.pgbench_accounts";
        Map<String, String> source = connectors.fromFile("lockstep-postgres-source");
        source.put("topic.prefix", name);
        source.put("slot.name", name);
        source.put("publication.name", name);
        source.put("table.include.list", TABLE);
        source.put("snapshot.mode", throughReconciler ? "no_data" : "initial");
        source.putAll(SinkBenchmark.overrides("lockstep.bench.source"));
        Map<String, String> sink = connectors.fromFile("lockstep-opensearch-sink");
        sink.put("topics", topic);
        sink.put("index.name.pattern", index);
        sink.put("errors.deadletterqueue.topic.name", name + "-dlq");
        sink.putAll(SinkBenchmark.overrides("lockstep.bench.sink"));
        Map<String, String> reconciler = connectors.fromFile("lockstep-reconciler");
        reconciler.put("tables", TABLE);
        reconciler.put("topic.prefix", name);
        reconciler.put("index.name.pattern", index);
        reconciler.put("compare.mode", "hash");
        reconciler.put("audit.topic", name + "-audit");
        reconciler.put("audit.index", name + "-audit");
        reconciler.put("schedule.interval.ms", "86400000");
        reconciler.put("schedule.initial.delay.ms", "0");
        reconciler.put("settle.ms", "1000");
        reconciler.put("validation.timeout.ms", "600000");
        Path pids = stack.stackDir().resolve("pids");
        LatencyBenchmark.Cpu cpuStart = LatencyBenchmark.Cpu.read(pids);
        long workerPid = Long.parseLong(java.nio.file.Files.readString(pids.resolve("connect.pid")).trim());
        LatencyBenchmark.HeapSampler heap = LatencyBenchmark.HeapSampler.start(workerPid);
        long t0 = System.nanoTime();
        try (TopicWatch topicFilled = new TopicWatch(stack, topic, rows, t0)) {
            connectors.create(name + "-source", source);
            connectors.create(name + "-sink", sink);
            double searchable;
            JsonNode first;
            JsonNode last;
            if (throughReconciler) {
                connectors.create(name, reconciler);
                first = ReconcileBenchmark.awaitRun(stack, name, null);
                searchable = awaitSearchable(stack, index, rows, t0);
                Http.post(stack.connectUrl() + "/lockstep/reconcile/" + name + "/runs", null);
                last = ReconcileBenchmark.awaitRun(stack, name, first.path("run_id").asText());
            } else {
                searchable = Boolean.getBoolean("lockstep.bench.load.ack") ? awaitAcknowledged(stack, name + "-sink", index, rows, t0)
                        : awaitSearchable(stack, index, rows, t0);
                connectors.create(name, reconciler);
                first = ReconcileBenchmark.awaitRun(stack, name, null);
                last = first;
            }
            long tEnd = System.nanoTime();
            double total = (tEnd - t0) / 1e9;
            LatencyBenchmark.Cpu cpuEnd = LatencyBenchmark.Cpu.read(pids);
            heap.stop();
            JsonNode t = last.path("table");
            System.out.printf("%n%s: %,d rows, registration to the reconciler's 100%%: %.1f s (score %s, verified %s)%n",
                    throughReconciler ? "through the reconciler (snapshot.mode=no_data, segments loaded by the reconciler)"
                            : "Debezium's snapshot (snapshot.mode=initial), then the reconciler", rows, total, t.path("consistency_score"),
                    last.path("verified"));
            if (throughReconciler) {
                JsonNode loaded = first.path("table").path("repairs").path("loaded");
                System.out.printf("  first run %.1f s: compare %s ms; rows written to the topic in %.1f s (%s segments, %s rows); "
                        + "validated by checksum %.1f s after (%s confirmed)%n", first.path("duration_ms").asLong() / 1000.0,
                        first.path("table").path("compare_ms").path("wall"), loaded.path("write_ms").asLong() / 1000.0, loaded.path("segments"),
                        loaded.path("rows"), loaded.path("validate_ms").asLong() / 1000.0, loaded.path("confirmed_rows"));
            }
            System.out.printf("  every row in the topic after %s; every row searchable after %.1f s; the reconciler's last run took %.1f s%n",
                    topicFilled.at() < 0 ? "(not seen)" : String.format("%.1f s", topicFilled.at()), searchable,
                    last.path("duration_ms").asLong() / 1000.0);
            System.out.print("  " + cpuEnd.summary(cpuStart, total));
            System.out.print("  " + heap.summary(workerPid, t0, tEnd, t0, tEnd));
        } finally {
            heap.stop();
            connectors.deleteQuietly(name);
            connectors.deleteQuietly(name + "-sink");
            connectors.deleteQuietly(name + "-source");
            try {
                stack.dropSlotAndPublication(name);
            } catch (Exception e) {
                System.out.println("  (slot not dropped: " + e.getMessage() + ")");
            }
            Http.deleteIndex(stack.openSearchUrl(), index);
            Http.delete(stack.openSearchUrl() + "/" + name + "-audit");
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrap()))) {
                admin.deleteTopics(List.of(topic, name + "-audit", name + "-dlq")).all().get();
            } catch (Exception e) {
                System.out.println("  (topics not deleted: " + e.getMessage() + ")");
            }
        }
    }

    /** Without searching meanwhile (a searched shard refreshes every second): the sink's meter, then one refresh. */
    private static double awaitAcknowledged(LocalStack stack, String connector, String index, int rows, long t0) {
        Awaitility.await(index + " acknowledged every row").atMost(Duration.ofMinutes(20)).pollInterval(Duration.ofMillis(250))
                .until(() -> SinkBenchmark.acknowledged(stack, connector) >= rows);
        Http.post(stack.openSearchUrl() + "/" + index + "/_refresh", null);
        return awaitSearchable(stack, index, rows, t0);
    }

    /**
     * When the topic first holds every row (the sum of its end offsets), seconds after {@code t0}: the snapshot's share
     * of the load. One admin client polls every 500 ms on a thread of its own.
     */
    private static final class TopicWatch implements AutoCloseable {
        private final org.apache.kafka.clients.admin.Admin admin;
        private final Thread thread;
        private volatile double at = -1;

        TopicWatch(LocalStack stack, String topic, long rows, long t0) {
            java.util.Properties props = new java.util.Properties();
            props.put(org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrap());
            admin = org.apache.kafka.clients.admin.Admin.create(props);
            thread = new Thread(() -> {
                var spec = new java.util.HashMap<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec>();
                while (!Thread.currentThread().isInterrupted()) {
                    try {
                        if (spec.isEmpty() && admin.listTopics().names().get().contains(topic)) {
                            admin.describeTopics(java.util.List.of(topic)).allTopicNames().get().get(topic).partitions()
                                    .forEach(p -> spec.put(new org.apache.kafka.common.TopicPartition(topic, p.partition()),
                                            org.apache.kafka.clients.admin.OffsetSpec.latest()));
                        }
                        if (!spec.isEmpty()) {
                            long end = admin.listOffsets(spec).all().get().values().stream().mapToLong(o -> o.offset()).sum();
                            if (end >= rows) {
                                at = (System.nanoTime() - t0) / 1e9;
                                return;
                            }
                        }
                        Thread.sleep(500);
                    } catch (InterruptedException e) {
                        return;
                    } catch (Exception e) {
                        try {
                            Thread.sleep(500); // the topic is being created: try again
                        } catch (InterruptedException stop) {
                            return;
                        }
                    }
                }
            }, "topic-watch");
            thread.setDaemon(true);
            thread.start();
        }

        double at() {
            return at;
        }

        @Override
        public void close() throws InterruptedException {
            thread.interrupt();
            thread.join(5_000);
            admin.close(java.time.Duration.ofSeconds(5));
        }
    }

    private static double awaitSearchable(LocalStack stack, String index, int rows, long t0) {
        Awaitility.await(index + " holds every row").atMost(Duration.ofMinutes(20)).pollInterval(Duration.ofMillis(250)).until(() -> {
            Http.Response r = Http.get(stack.openSearchUrl() + "/" + index + "/_count");
            return r.status() == 200 && r.body().path("count").asLong() >= rows;
        });
        return (System.nanoTime() - t0) / 1e9;
    }

}
