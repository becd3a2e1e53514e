package dev.lockstep.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockstep.it.Connectors;
import dev.lockstep.it.Http;
import dev.lockstep.it.LocalStack;
import dev.lockstep.it.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;

/**
 * The sink alone against its ceiling, on the local stack (bin/lockstep-bench sink [rows]):
 * <ol>
 *   <li>a products-like table of N rows is snapshotted by Debezium into a topic, and the benchmark waits until
 *       the topic holds all N events;</li>
 *   <li>ceiling: the same rows, as the documents the sink would write, sent straight to OpenSearch with plain
 *       {@code _bulk} requests of 2,000 by one loader thread, into a fresh index with the same settings;</li>
 *   <li>sink alone: the sink connector (config/connectors, its transform chain) started on the full topic;
 *       docs/s from its start until the index holds N documents, and the Connect worker's CPU seconds and peak
 *       RSS over that time.</li>
 * </ol>
 * The end-to-end latency under a steady update load is {@link LatencyBenchmark}'s (bin/lockstep-bench latency).
 */
public final class SinkBenchmark {
    public static void main(String[] args) throws Exception {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        String name = "bench" + Long.toString(System.currentTimeMillis() % 100_000_000L, 36);
        String topic = name + "." + name + ".products";
        try (LocalStack stack = LocalStack.startOrReuse();
                Connection pg = DriverManager.getConnection(stack.pgUrl(), stack.pgUser(), stack.pgPassword());
                Statement s = pg.createStatement()) {
            Connectors connectors = new Connectors(stack);
            s.execute("CREATE SCHEMA " + name);
            s.execute("CREATE TABLE " + name + ".products (id bigint PRIMARY KEY, name text NOT NULL, price numeric(12,2), "
                    + "tags text[], attrs jsonb, updated_at timestamptz NOT NULL, active boolean NOT NULL)");
            s.execute("INSERT INTO " + name + ".products SELECT g, 'Stainless steel kettle ' || g, (g % 10000) + 0.90, "
                    + "ARRAY['kitchen', 'steel', 'tag-' || (g % 100)], jsonb_build_object('colour', 'silver', 'watts', 1000 + g % 3000), "
                    + "timestamptz '2026-01-05 09:30:00+00' + g * interval '1 second', g % 2 = 0 FROM generate_series(1, " + rows + ") g");

            Map<String, String> source = connectors.fromFile("lockstep-postgres-source");
            source.put("topic.prefix", name);
            source.put("slot.name", name);
            source.put("publication.name", name);
            source.put("table.include.list", name + ".products");
            long snapshotStart = System.nanoTime();
            connectors.create(name + "-source", source);
            while (Topics.endOffsets(stack, topic) < rows) {
                Thread.sleep(500);
            }
            double snapshotSeconds = (System.nanoTime() - snapshotStart) / 1e9;
            System.out.printf("debezium snapshot: %,d rows into %s in %.1f s = %,.0f rows/s%n", rows, topic, snapshotSeconds, rows / snapshotSeconds);

            // Ceiling: plain _bulk of the same documents by one loader.
            String ceilingIndex = name + "-ceiling";
            Http.put(stack.openSearchUrl() + "/" + ceilingIndex, Map.of());
            long ceilingStart = System.nanoTime();
            StringBuilder bulk = new StringBuilder();
            int inBulk = 0;
            try (Statement q = pg.createStatement()) {
                pg.setAutoCommit(false);
                q.setFetchSize(5_000);
                try (ResultSet rs = q.executeQuery("SELECT id, to_jsonb(t)::text FROM " + name + ".products t")) {
                    while (rs.next()) {
                        bulk.append("{\"index\":{\"_id\":\"").append(rs.getLong(1)).append("\"}}\n").append(rs.getString(2)).append('\n');
                        if (++inBulk == 2_000) {
                            send(stack, ceilingIndex, bulk);
                            inBulk = 0;
                        }
                    }
                }
                pg.setAutoCommit(true);
            }
            if (inBulk > 0) {
                send(stack, ceilingIndex, bulk);
            }
            Http.post(stack.openSearchUrl() + "/" + ceilingIndex + "/_refresh", null);
            double ceilingSeconds = (System.nanoTime() - ceilingStart) / 1e9;
            System.out.printf("ceiling (_bulk of 2,000, one loader): %,d docs in %.1f s = %,.0f docs/s%n", count(stack, ceilingIndex),
                    ceilingSeconds, rows / ceilingSeconds);

            // Sink alone on the full topic.
            long connectPid = Long.parseLong(Files.readString(stackDir(stack).resolve("pids/connect.pid")).trim());
            long cpuBefore = cpuTicks(connectPid);
            Map<String, String> sink = connectors.fromFile("lockstep-opensearch-sink");
            sink.put("topics", topic);
            sink.put("index.name.pattern", "${topic}");
            sink.put("errors.deadletterqueue.topic.name", name + "-dlq");
            sink.putAll(overrides());
            long sinkStart = System.nanoTime();
            connectors.create(name + "-sink", sink);
            long peakRss = 0;
            while (count(stack, topic) < rows) {
                peakRss = Math.max(peakRss, rssKib(connectPid));
                Thread.sleep(1_000);
                Http.post(stack.openSearchUrl() + "/" + topic + "/_refresh", null);
            }
            double sinkSeconds = (System.nanoTime() - sinkStart) / 1e9;
            double cpuSeconds = (cpuTicks(connectPid) - cpuBefore) / 100.0;
            System.out.printf("sink alone: %,d docs in %.1f s = %,.0f docs/s (%.0f%% of the ceiling); worker CPU %.1f s "
                            + "= %.1f s per 1M docs; worker peak RSS %,d MiB%n", rows, sinkSeconds, rows / sinkSeconds,
                    100 * ceilingSeconds / sinkSeconds, cpuSeconds, cpuSeconds * 1_000_000 / rows, peakRss / 1024);

            connectors.deleteQuietly(name + "-sink");
            connectors.deleteQuietly(name + "-source");
            Thread.sleep(2_000);
            s.execute("SELECT pg_drop_replication_slot('" + name + "')");
            s.execute("DROP PUBLICATION IF EXISTS " + name);
            s.execute("DROP SCHEMA " + name + " CASCADE");
            Http.delete(stack.openSearchUrl() + "/" + ceilingIndex);
            Http.delete(stack.openSearchUrl() + "/" + topic);
        }
    }

    /** Extra sink settings from -Dlockstep.bench.sink="key=value,key=value" (for tuning experiments). */
    private static Map<String, String> overrides() {
        Map<String, String> extra = new java.util.HashMap<>();
        for (String pair : System.getProperty("lockstep.bench.sink", "").split(",")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                extra.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
            }
        }
        if (!extra.isEmpty()) {
            System.out.println("sink overrides: " + extra);
        }
        return extra;
    }

    private static void send(LocalStack stack, String index, StringBuilder bulk) {
        Http.Response r = Http.post(stack.openSearchUrl() + "/" + index + "/_bulk", bulk.toString());
        if (r.status() != 200 || r.text().contains("\"errors\":true")) {
            throw new IllegalStateException("bulk failed: " + r.text().substring(0, Math.min(500, r.text().length())));
        }
        bulk.setLength(0);
    }

    private static long count(LocalStack stack, String index) {
        JsonNode body = Http.get(stack.openSearchUrl() + "/" + index + "/_count").body();
        return body == null ? 0 : body.path("count").asLong();
    }

    private static Path stackDir(LocalStack stack) throws Exception {
        for (String line : Files.readAllLines(stack.repo().resolve(".stack/endpoints.env"))) {
            if (line.startsWith("STACK_DIR=")) {
                return Path.of(line.substring("STACK_DIR=".length()));
            }
        }
        return stack.repo().resolve(".stack");
    }

    /** utime + stime of a process, in clock ticks (100 per second on Linux). */
    private static long cpuTicks(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    private static long rssKib(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return 0;
    }
}
