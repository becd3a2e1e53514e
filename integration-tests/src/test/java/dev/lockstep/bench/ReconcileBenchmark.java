package dev.lockstep.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockstep.it.Connectors;
import dev.lockstep.it.Http;
import dev.lockstep.it.LocalStack;
import dev.lockstep.smt.hash.FieldMapping;
import dev.lockstep.smt.hash.HashSql;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The reconciler on large tables, through the Connect worker as a user runs it ({@code bin/lockstep-bench reconcile
 * [rows] [shape]}). It builds a table ({@code accounts}: the layout of {@code pgbench -i}; or {@code products}:
 * text[], jsonb, timestamptz, numeric) and loads the matching documents straight into OpenSearch (with their
 * canonical hashes, as the stream would have indexed them), then prints, side by side in one run:
 * <ul>
 *   <li>a no-drift run of the reconciler: its duration from its report, and the worker's heap peak (jstat);</li>
 *   <li>the baseline: every {@code (id, hash)} pair streamed from both sides and merged in this JVM;</li>
 *   <li>100 documents drifted (deleted, edited, set back): the run that finds, repairs through Kafka (with a sink on
 *       the table's topic) and validates them, end to end.</li>
 * </ul>
 */
public final class ReconcileBenchmark {
    private static final String SCHEMA = "lockstep_rbench";

    public static void main(String[] args) throws Exception {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        String shape = args.length > 1 ? args[1] : "accounts";
        try (LocalStack stack = LocalStack.startOrReuse();
                Connection pg = DriverManager.getConnection(stack.pgUrl(), stack.pgUser(), stack.pgPassword())) {
            Connectors connectors = new Connectors(stack);
            String index = (SCHEMA + "." + SCHEMA + "." + shape).toLowerCase();
            // A new name per run: a connector's offsets (its tables' schedules) outlive the connector.
            String reconciler = "rbench-" + Long.toString(System.currentTimeMillis() % 100_000_000L, 36);
            String sink = reconciler + "-sink";
            Http.delete(stack.openSearchUrl() + "/rbench-audit");
            String key = shape.equals("accounts") ? "aid" : "id";
            if (loaded(stack, pg, shape, index, rows)) {
                System.out.printf("reusing %,d %s rows and documents from an earlier run%n", rows, shape);
            } else {
                Http.deleteIndex(stack.openSearchUrl(), index);
                long load = System.nanoTime();
                createTable(pg, shape, rows);
                loadDocuments(stack, pg, shape, key, index);
                System.out.printf("loaded %,d %s rows and documents in %.1f s%n", rows, shape, (System.nanoTime() - load) / 1e9);
            }

            long connectPid = Long.parseLong(Files.readString(stack.stackDir().resolve("pids/connect.pid")).trim());
            LatencyBenchmark.HeapSampler heap = LatencyBenchmark.HeapSampler.start(connectPid);
            Map<String, String> config = new HashMap<>(connectors.fromFile("lockstep-reconciler"));
            config.put("tables", SCHEMA + "." + shape);
            // A topic of its own per run: a new sink would otherwise replay earlier runs' repairs into this index.
            config.put("topic.prefix", reconciler);
            config.put("index.name.pattern", index);
            config.put("compare.mode", "hash");
            config.put("audit.topic", "rbench-audit");
            config.put("audit.index", "rbench-audit");
            config.put("schedule.interval.ms", "86400000");
            config.put("settle.ms", "1000");
            config.put("schedule.initial.delay.ms", "0");
            config.putAll(overrides());
            connectors.create(reconciler, config);
            JsonNode first = awaitRun(stack, reconciler, null);
            print("no drift, first run (every segment hashed)", first, rows);
            // The next scheduled run of the same task: segments whose rows did not change reuse their checksums.
            Http.post(stack.connectUrl() + "/lockstep/reconcile/" + reconciler + "/runs", null);
            JsonNode clean = awaitRun(stack, reconciler, first.path("run_id").asText());
            print("no drift, next run (unchanged segments reuse their checksums)", clean, rows);
            System.out.printf("worker heap peak during the runs: %.0f MiB used%n", heap.peakUsedKiB() / 1024);
            heap.stop();

            long baseline = System.nanoTime();
            long[] compared = baseline(stack, pg, shape, key, index);
            double baselineSeconds = (System.nanoTime() - baseline) / 1e9;
            System.out.printf("baseline (every (id, hash) pair from both sides, merged here): %,d rows, %,d documents, %,d differ in %.2f s%n",
                    compared[0], compared[1], compared[2], baselineSeconds);
            double firstSeconds = first.path("duration_ms").asLong() / 1000.0;
            double runSeconds = clean.path("duration_ms").asLong() / 1000.0;
            System.out.printf("side by side: reconciler first run %.2f s (%.1fx), next run %.2f s (%.1fx), baseline %.2f s%n", firstSeconds,
                    baselineSeconds / firstSeconds, runSeconds, baselineSeconds / runSeconds, baselineSeconds);

            // 100 drifted documents, found, repaired through Kafka and validated.
            Map<String, String> sinkConfig = connectors.fromFile("lockstep-opensearch-sink");
            sinkConfig.put("topics", reconciler + "." + SCHEMA + "." + shape);
            sinkConfig.put("index.name.pattern", index);
            sinkConfig.put("errors.deadletterqueue.topic.name", "rbench-dlq");
            connectors.create(sink, sinkConfig);
            connectors.awaitRunning(sink);
            drift(stack, index, rows, 100);
            long drifted = System.nanoTime();
            Http.post(stack.connectUrl() + "/lockstep/reconcile/" + reconciler + "/runs", null);
            JsonNode repaired = awaitRun(stack, reconciler, clean.path("run_id").asText());
            System.out.printf("drift end to end (trigger to validated report): %.2f s%n", (System.nanoTime() - drifted) / 1e9);
            print("100 drifted", repaired, rows);

            connectors.deleteQuietly(reconciler);
            connectors.deleteQuietly(sink);
            Http.delete(stack.openSearchUrl() + "/rbench-audit");
            // The drifted documents were repaired: the table and its index stay for the next run (LOCKSTEP_BENCH_KEEP=false drops them).
            if (!Boolean.parseBoolean(System.getProperty("lockstep.bench.keep", "true"))) {
                Http.deleteIndex(stack.openSearchUrl(), index);
                try (Statement s = pg.createStatement()) {
                    s.execute("DROP SCHEMA " + SCHEMA + " CASCADE");
                }
            }
        }
    }

    /** Whether an earlier run left the table with {@code rows} rows and an index with as many documents. */
    private static boolean loaded(LocalStack stack, Connection pg, String shape, String index, int rows) {
        try (Statement s = pg.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM " + SCHEMA + "." + shape)) {
            rs.next();
            Http.post(stack.openSearchUrl() + "/" + index + "/_refresh", null);
            Http.Response count = Http.get(stack.openSearchUrl() + "/" + index + "/_count");
            return rs.getLong(1) == rows && count.status() == 200 && count.body().path("count").asLong() == rows;
        } catch (Exception e) {
            return false;
        }
    }

    /** LOCKSTEP_BENCH_RECONCILE="key=value,..." changes the reconciler's settings. */
    private static Map<String, String> overrides() {
        Map<String, String> out = new HashMap<>();
        String spec = System.getProperty("lockstep.bench.reconcile", "");
        for (String pair : spec.split(",")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                out.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
            }
        }
        return out;
    }

    private static void print(String what, JsonNode run, int rows) {
        JsonNode t = run.path("table");
        System.out.printf("%s: run %s took %.2f s for %,d rows (%,.0f rows/s): score %s, %s segments compared (%s reused), %s rows diffed, mismatches %s, "
                        + "repairs %s; comparison %s ms%n", what, run.path("run_id").asText(), run.path("duration_ms").asLong() / 1000.0, rows,
                rows / Math.max(0.001, run.path("duration_ms").asLong() / 1000.0), t.path("consistency_score"), t.path("segments_compared"), t.path("segments_reused"),
                t.path("rows_diffed"), counts(t), t.path("repairs"), t.path("compare_ms"));
    }

    private static String counts(JsonNode t) {
        StringBuilder sb = new StringBuilder();
        t.path("mismatches").fields().forEachRemaining(e -> sb.append(e.getKey()).append('=').append(e.getValue().path("count")).append(' '));
        return sb.toString().trim();
    }

    /** The newest run of a reconciler other than {@code after}, its first table's report, once it is in the audit trail. */
    static JsonNode awaitRun(LocalStack stack, String reconciler, String after) {
        JsonNode[] out = new JsonNode[1];
        org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(20)).pollInterval(Duration.ofMillis(500)).until(() -> {
            Http.Response r = Http.get(stack.connectUrl() + "/lockstep/reconcile/" + reconciler + "/runs?size=1");
            if (r.status() != 200 || r.body().isEmpty()) {
                return false;
            }
            String id = r.body().get(0).path("run_id").asText();
            if (id.equals(after)) {
                return false;
            }
            out[0] = Http.get(stack.connectUrl() + "/lockstep/reconcile/" + reconciler + "/runs/" + id).body().path("tables").get(0);
            return true;
        });
        return out[0];
    }

    private static void createTable(Connection pg, String shape, int rows) throws Exception {
        try (Statement s = pg.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
            s.execute("CREATE SCHEMA " + SCHEMA);
            if (shape.equals("accounts")) {
                // pgbench -i: aid int primary key, bid int, abalance int, filler char(84), 100,000 rows per scale step.
                s.execute("CREATE TABLE " + SCHEMA + ".accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84))");
                s.execute("INSERT INTO " + SCHEMA + ".accounts SELECT g, (g - 1) / 100000 + 1, 0, '' FROM generate_series(1, " + rows + ") g");
                s.execute("VACUUM ANALYZE " + SCHEMA + ".accounts");
                return;
            }
            s.execute("CREATE TABLE " + SCHEMA + ".products (id bigint PRIMARY KEY, name text NOT NULL, price numeric(12,2), "
                    + "tags text[], attrs jsonb, updated_at timestamptz NOT NULL, active boolean NOT NULL)");
            s.execute("INSERT INTO " + SCHEMA + ".products SELECT g, 'Stainless steel kettle ' || g, (g % 10000) + 0.90, "
                    + "ARRAY['kitchen', 'steel', 'tag-' || g], jsonb_build_object('colour', 'silver', 'watts', 1000 + g % 3000), "
                    + "timestamptz '2026-01-05 09:30:00+00' + g * interval '1 second', g % 2 = 0 FROM generate_series(1, " + rows + ") g");
            s.execute("VACUUM ANALYZE " + SCHEMA + ".products");
        }
    }

    /** The documents the stream would index (version 0, as a snapshot), hashes computed by PostgreSQL. */
    private static void loadDocuments(LocalStack stack, Connection pg, String shape, String key, String index) throws Exception {
        String mappings = "{\"settings\": {\"number_of_replicas\": 0, \"refresh_interval\": \"-1\"}, \"mappings\": {\"properties\": {\"" + key
                + "\": {\"type\": \"long\"}, \"lockstep\": {\"properties\": {\"hash\": {\"type\": \"keyword\"}, \"hash_hi\": {\"type\": "
                + "\"long\"}, \"hash_lo\": {\"type\": \"long\"}, \"version\": {\"type\": \"long\"}, \"txid\": {\"type\": \"long\"}}}}}}";
        Http.put(stack.openSearchUrl() + "/" + index, mappings);
        List<HashSql.Column> columns = HashSql.columns(pg, SCHEMA, shape);
        String sql = "SELECT d." + key + ", d.doc, " + HashSql.hashHiFromColumn("d.digest") + ", " + HashSql.hashLoFromColumn("d.digest")
                + " FROM (SELECT t." + key + ", to_jsonb(t)::text AS doc, " + HashSql.digest(columns, FieldMapping.ALL, "t") + " AS digest FROM "
                + SCHEMA + "." + shape + " t OFFSET 0) d";
        pg.setAutoCommit(false);
        try (PreparedStatement ps = pg.prepareStatement(sql)) {
            ps.setFetchSize(10_000);
            try (ResultSet rs = ps.executeQuery()) {
                StringBuilder bulk = new StringBuilder();
                int n = 0;
                while (rs.next()) {
                    String json = rs.getString(2);
                    long hi = rs.getLong(3);
                    long lo = rs.getLong(4);
                    String hex = String.format("%08x%08x", hi, lo);
                    bulk.append("{\"index\":{\"_id\":\"").append(rs.getLong(1)).append("\",\"version\":0,\"version_type\":\"external_gte\"}}\n")
                            .append(json, 0, json.length() - 1).append(",\"lockstep\":{\"hash\":\"").append(hex).append("\",\"hash_hi\":")
                            .append(hi).append(",\"hash_lo\":").append(lo).append(",\"version\":0}}\n");
                    if (++n % 5_000 == 0) {
                        send(stack, index, bulk);
                    }
                }
                send(stack, index, bulk);
            }
        }
        pg.commit();
        pg.setAutoCommit(true);
        Http.put(stack.openSearchUrl() + "/" + index + "/_settings", Map.of("index", Map.of("refresh_interval", "1s")));
        Http.post(stack.openSearchUrl() + "/" + index + "/_refresh", null);
        Http.post(stack.openSearchUrl() + "/" + index + "/_forcemerge?max_num_segments=1", null);
    }

    private static void send(LocalStack stack, String index, StringBuilder bulk) throws Exception {
        if (bulk.length() == 0) {
            return;
        }
        java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(stack.openSearchUrl() + "/_bulk?index=" + index
                        + "&filter_path=errors"))
                .header("Content-Type", "application/x-ndjson").POST(java.net.http.HttpRequest.BodyPublishers.ofString(bulk.toString())).build();
        String body = java.net.http.HttpClient.newHttpClient().send(request, java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        if (!body.contains("\"errors\":false")) {
            throw new IllegalStateException("bulk load failed: " + body.substring(0, Math.min(500, body.length())));
        }
        bulk.setLength(0);
    }

    /** Deletes, edits (content and hash) and adds documents, {@code count} operations in all; prints what took. */
    private static void drift(LocalStack stack, String index, int rows, int count) {
        Random random = new Random(System.nanoTime());
        java.util.Set<String> touched = new java.util.HashSet<>();
        int[] done = new int[3];
        for (int i = 0; i < count; i++) {
            String id = String.valueOf(1 + random.nextInt(rows));
            if (i % 3 != 2 && !touched.add(id)) {
                i--;
                continue; // one operation per document, so every one is a difference of its own
            }
            int status = switch (i % 3) {
                case 0 -> Http.delete(stack.openSearchUrl() + "/" + index + "/_doc/" + id).status();
                case 1 -> Http.post(stack.openSearchUrl() + "/" + index + "/_update/" + id,
                        Map.of("doc", Map.of("lockstep", Map.of("hash_hi", 1, "hash", "corrupted")))).status();
                default -> Http.put(stack.openSearchUrl() + "/" + index + "/_doc/extra-" + System.nanoTime(), Map.of("extra", true)).status();
            };
            if (status / 100 == 2) {
                done[i % 3]++;
            }
        }
        Http.post(stack.openSearchUrl() + "/" + index + "/_refresh", null);
        System.out.printf("drifted %d documents: %d deleted, %d edited, %d added%n", done[0] + done[1] + done[2], done[0], done[1], done[2]);
    }

    /** Streams (id, hash) from both sides in key order and merges: what a tool without server-side checksums does. */
    private static long[] baseline(LocalStack stack, Connection pg, String shape, String key, String index) throws Exception {
        List<HashSql.Column> columns = HashSql.columns(pg, SCHEMA, shape);
        String sql = HashSql.selectHashes(SCHEMA, shape, columns, FieldMapping.ALL, List.of(key)) + " ORDER BY 1";
        Map<Long, Long> pgHashes = new HashMap<>();
        long rowCount = 0;
        pg.setAutoCommit(false);
        try (PreparedStatement ps = pg.prepareStatement(sql)) {
            ps.setFetchSize(10_000);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    pgHashes.put(rs.getLong(1), rs.getLong(2) << 32 | rs.getLong(3));
                    rowCount++;
                }
            }
        }
        pg.commit();
        pg.setAutoCommit(true);
        long docs = 0;
        long differ = 0;
        Object[] after = null;
        String pit = Http.post(stack.openSearchUrl() + "/" + index + "/_search/point_in_time?keep_alive=5m", null).body().path("pit_id").asText();
        while (true) {
            Map<String, Object> body = new HashMap<>();
            body.put("size", 10_000);
            body.put("pit", Map.of("id", pit, "keep_alive", "5m"));
            body.put("sort", List.of(Map.of(key, "asc")));
            body.put("_source", List.of("lockstep.hash_hi", "lockstep.hash_lo"));
            if (after != null) {
                body.put("search_after", after);
            }
            JsonNode hits = Http.post(stack.openSearchUrl() + "/_search", body).body().path("hits").path("hits");
            if (hits.isEmpty()) {
                break;
            }
            for (JsonNode hit : hits) {
                docs++;
                Long expected = pgHashes.get(hit.path("_id").asLong());
                JsonNode l = hit.path("_source").path("lockstep");
                long h = l.path("hash_hi").asLong() << 32 | l.path("hash_lo").asLong();
                if (expected == null || expected != h) {
                    differ++;
                }
            }
            JsonNode last = hits.get(hits.size() - 1).path("sort");
            after = new Object[] {last.get(0).asLong()};
        }
        Http.send("DELETE", stack.openSearchUrl() + "/_search/point_in_time", Map.of("pit_id", List.of(pit)));
        return new long[] {rowCount, docs, differ + Math.max(0, rowCount - docs)};
    }
}
