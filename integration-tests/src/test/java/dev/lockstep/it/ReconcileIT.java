package dev.lockstep.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The reconciler on the real stack, registered from config/connectors/lockstep-reconciler.json as a user would:
 * drift injected in OpenSearch (a document deleted, one edited, one added, one set back to an older state) is
 * found exactly, classified, explained field by field, repaired through Kafka and validated; and a run under a
 * sustained update load reports no drift.
 */
@ExtendWith(StackExtension.class)
class ReconcileIT {

    @Test
    void injectedDriftIsFoundExactlyExplainedRepairedAndValidated(LocalStack stack) throws Exception {
        try (Pipeline p = new Pipeline(stack, "rc")) {
            createAndFill(p, 3_000);
            p.start(Map.of(), "products", "order_lines");
            String products = index(p, "products");
            String orderLines = index(p, "order_lines");
            awaitCount(stack, products, 3_000);
            awaitCount(stack, orderLines, 30);

            // A stale document: row 30 changes, and once indexed its document is set back to the state before,
            // as if the change had never arrived.
            JsonNode before = Http.get(stack.openSearchUrl() + "/" + products + "/_doc/30").body();
            p.sql("UPDATE ${schema}.products SET name = 'renamed 30', price = 1.23 WHERE id = 30");
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> Http.get(stack.openSearchUrl() + "/" + products + "/_doc/30")
                    .body().path("_source").path("name").asText().equals("renamed 30"));
            long current = Http.get(stack.openSearchUrl() + "/" + products + "/_doc/30").body().path("_version").asLong();
            assertThat(Http.put(stack.openSearchUrl() + "/" + products + "/_doc/30?version_type=external_gte&version=" + current,
                    before.path("_source")).status()).isEqualTo(200);
            // Deleted, edited behind the pipeline's back (the lineage hash left as it was), added by hand.
            assertThat(Http.delete(stack.openSearchUrl() + "/" + products + "/_doc/10").status()).isEqualTo(200);
            assertThat(Http.post(stack.openSearchUrl() + "/" + products + "/_update/20", Map.of("doc", Map.of("name", "tampered")))
                    .status()).isEqualTo(200);
            ObjectNode extra = Http.JSON.createObjectNode().put("id", 999_999).put("name", "ghost");
            assertThat(Http.put(stack.openSearchUrl() + "/" + products + "/_doc/999999", extra).status()).isEqualTo(201);
            assertThat(Http.delete(stack.openSearchUrl() + "/" + orderLines + "/_doc/" + java.net.URLEncoder.encode("3|B", "UTF-8"))
                    .status()).isEqualTo(200);
            Http.post(stack.openSearchUrl() + "/" + products + "," + orderLines + "/_refresh", null);

            Map<String, String> config = reconciler(p, Map.of("compare.mode", "deep"));
            p.connectors.create(p.name + "-reconciler", config);
            try {
                Map<String, JsonNode> reports = awaitReports(stack, p, 2);
                JsonNode t = reports.get(p.name + ".products").path("table");
                assertThat(t.path("error").isMissingNode()).as(t.toString()).isTrue();
                assertThat(ids(t, "missing")).containsExactly("10");
                assertThat(ids(t, "extra")).containsExactly("999999");
                assertThat(ids(t, "different")).containsExactly("20");
                assertThat(ids(t, "stale")).containsExactly("30");
                assertThat(t.path("mismatches").path("schema").path("count").asInt()).isZero();
                assertThat(t.path("source_rows").asLong()).isEqualTo(3_000);
                assertThat(t.path("destination_documents").asLong()).isEqualTo(3_000); // one deleted, one added
                assertThat(t.path("matched").asLong()).isEqualTo(2_997);
                assertThat(t.path("consistency_score").asDouble()).isEqualTo(99.9);
                // Explained field by field: PostgreSQL's value next to OpenSearch's.
                JsonNode edited = t.path("mismatches").path("different").path("ids").get(0).path("fields");
                assertThat(edited).hasSize(1);
                assertThat(edited.get(0).path("field").asText()).isEqualTo("name");
                assertThat(edited.get(0).path("opensearch").asText()).isEqualTo("tampered");
                assertThat(edited.get(0).path("postgresql").asText()).isEqualTo("product 20");
                JsonNode stale = t.path("mismatches").path("stale").path("ids").get(0).path("fields");
                assertThat(stale.findValuesAsText("field")).containsExactlyInAnyOrder("name", "price");
                assertThat(t.path("repairs").path("emitted").asInt()).isEqualTo(4);
                assertThat(t.path("repairs").path("repaired").asInt()).isEqualTo(4);
                assertThat(t.path("repairs").path("still_wrong").asInt()).isZero();
                assertThat(reports.get(p.name + ".products").path("verified").asBoolean()).isTrue();

                JsonNode lines = reports.get(p.name + ".order_lines").path("table");
                assertThat(ids(lines, "missing")).containsExactly("3|B");
                assertThat(lines.path("repairs").path("repaired").asInt()).isEqualTo(1);

                // The index now holds exactly what PostgreSQL holds.
                JsonNode doc10 = Http.get(stack.openSearchUrl() + "/" + products + "/_doc/10").body();
                assertThat(doc10.path("found").asBoolean()).isTrue();
                assertThat(doc10.path("_source").path("name").asText()).isEqualTo("product 10");
                assertThat(Http.get(stack.openSearchUrl() + "/" + products + "/_doc/20").body().path("_source").path("name").asText())
                        .isEqualTo("product 20");
                assertThat(Http.get(stack.openSearchUrl() + "/" + products + "/_doc/30").body().path("_source").path("name").asText())
                        .isEqualTo("renamed 30");
                assertThat(Http.get(stack.openSearchUrl() + "/" + products + "/_doc/999999").body().path("found").asBoolean()).isFalse();
                assertThat(Http.get(stack.openSearchUrl() + "/" + orderLines + "/_doc/" + java.net.URLEncoder.encode("3|B", "UTF-8"))
                        .body().path("found").asBoolean()).isTrue();

                // Metrics, in the worker's /metrics next to the sink's.
                String metrics = Http.getAny(stack.connectUrl() + "/metrics").text();
                String tags = "connector=\"" + p.name + "-reconciler\",key_range=\"all\",table=\"" + p.name + ".products\"";
                assertThat(metrics).contains("lockstep_reconcile_consistency_score{" + tags + "} 99.9")
                        .contains("lockstep_reconcile_mismatches{class=\"stale\"," + tags + "} 1.0")
                        .contains("lockstep_reconcile_source_rows{" + tags + "} 3000.0")
                        .containsPattern("lockstep_reconcile_last_success_timestamp_seconds\\{" + java.util.regex.Pattern.quote(tags)
                                + "} 1\\.[0-9]+E9");
            } finally {
                p.connectors.deleteQuietly(p.name + "-reconciler");
                Http.delete(stack.openSearchUrl() + "/" + p.name + "-audit");
            }
        }
    }

    @Test
    void aRunUnderSustainedUpdatesReportsNoDrift(LocalStack stack) throws Exception {
        try (Pipeline p = new Pipeline(stack, "rl")) {
            createAndFill(p, 5_000);
            p.start(Map.of(), "products", "order_lines");
            awaitCount(stack, index(p, "products"), 5_000);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong updates = new AtomicLong();
            List<Throwable> writerFailures = java.util.Collections.synchronizedList(new ArrayList<>());
            List<Thread> writers = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                int seed = w;
                Thread t = new Thread(() -> {
                    java.util.Random random = new java.util.Random(seed);
                    try (Connection pg = p.connect(); Statement s = pg.createStatement()) {
                        long next = System.nanoTime();
                        while (!stop.get()) {
                            // about 500 single-row updates per second per writer: 1,000/s in all
                            s.executeUpdate("UPDATE " + p.name + ".products SET price = price + 0.01, name = 'u" + updates.incrementAndGet()
                                    + "' WHERE id = " + (1 + random.nextInt(5_000)));
                            next += 2_000_000L;
                            long sleep = next - System.nanoTime();
                            if (sleep > 0) {
                                Thread.sleep(sleep / 1_000_000L, (int) (sleep % 1_000_000L));
                            }
                        }
                    } catch (Exception e) {
                        writerFailures.add(e);
                    }
                });
                t.start();
                writers.add(t);
            }
            try {
                Thread.sleep(3_000);
                p.connectors.create(p.name + "-reconciler", reconciler(p, Map.of("segment.rows", "500", "bisect.threshold", "100", "compare.mode", "hash",
                        "settle.ms", "3000")));
                long before = updates.get();
                Map<String, JsonNode> reports = awaitReports(stack, p, 2);
                long during = updates.get() - before;
                JsonNode t = reports.get(p.name + ".products").path("table");
                assertThat(writerFailures).as("the writers' failures").isEmpty();
                assertThat(t.path("error").isMissingNode()).as(t.toString()).isTrue();
                for (String c : List.of("missing", "extra", "different", "stale", "schema")) {
                    assertThat(t.path("mismatches").path(c).path("count").asInt()).as(c + " in " + t).isZero();
                }
                assertThat(t.path("consistency_score").asDouble()).isEqualTo(100.0);
                assertThat(t.path("candidates").asLong()).as("the load made segments differ while the run compared them: " + t).isPositive();
                // The run compared under load: the settle delay alone is 3 s of about 1,000 updates/s.
                assertThat(during).as("updates while the run compared").isGreaterThan(1_500);
            } finally {
                stop.set(true);
                for (Thread t : writers) {
                    t.join();
                }
                p.connectors.deleteQuietly(p.name + "-reconciler");
                Http.delete(stack.openSearchUrl() + "/" + p.name + "-audit");
            }
        }
    }

    /**
     * Repairs never make a newer change lose: documents are corrupted and deleted while their rows are updated at a
     * high rate, runs repair them meanwhile, and once the writers stop and the sink has caught up every document is
     * its row, checked against PostgreSQL's own hash.
     */
    @Test
    void repairsRacingWithUpdatesOfTheSameRowsNeverWinOverANewerChange(LocalStack stack) throws Exception {
        try (Pipeline p = new Pipeline(stack, "rv")) {
            int rows = 2_000;
            createAndFill(p, rows);
            p.start(Map.of(), "products", "order_lines");
            String products = index(p, "products");
            awaitCount(stack, products, rows);
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> writers = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                int seed = 100 + w;
                Thread t = new Thread(() -> {
                    java.util.Random random = new java.util.Random(seed);
                    try (Connection pg = p.connect(); Statement s = pg.createStatement()) {
                        while (!stop.get()) {
                            s.executeUpdate("UPDATE " + p.name + ".products SET price = price + 1, name = 'v' || clock_timestamp() WHERE id = "
                                    + (1 + random.nextInt(rows)));
                            Thread.sleep(2);
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                t.start();
                writers.add(t);
            }
            String name = p.name + "-reconciler";
            try {
                p.connectors.create(name, reconciler(p, Map.of("compare.mode", "hash", "settle.ms", "300", "settle.rounds", "2",
                        "segment.rows", "500", "bisect.threshold", "50", "schedule.interval.ms", "3600000")));
                java.util.Random random = new java.util.Random(9);
                String previous = null;
                for (int round = 0; round < 3; round++) {
                    for (int i = 0; i < 60; i++) {
                        int id = 1 + random.nextInt(rows);
                        if (i % 2 == 0) {
                            Http.delete(stack.openSearchUrl() + "/" + products + "/_doc/" + id);
                        } else {
                            Http.post(stack.openSearchUrl() + "/" + products + "/_update/" + id,
                                    Map.of("doc", Map.of("name", "corrupted", "lockstep", Map.of("hash_hi", 1))));
                        }
                    }
                    if (previous != null) {
                        Http.post(stack.connectUrl() + "/lockstep/reconcile/" + name + "/runs?tables=" + p.name + ".products", null);
                    }
                    previous = awaitRun(stack, name, previous);
                }
                stop.set(true);
                for (Thread t : writers) {
                    t.join();
                }
                // One more run after the writers stopped repairs what the runs under load left (unsettled ids).
                Http.post(stack.connectUrl() + "/lockstep/reconcile/" + name + "/runs?tables=" + p.name + ".products", null);
                awaitRun(stack, name, previous);
                JsonNode runs = Http.get(stack.connectUrl() + "/lockstep/reconcile/" + name + "/runs?size=20").body();
                assertThat(runs.findValues("emitted").stream().mapToInt(JsonNode::asInt).sum()).as("repairs under load").isPositive();
                // Quiescence: every document is its row (PostgreSQL's own hash), nothing missing, nothing extra.
                Awaitility.await("every document equals its row").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
                        .untilAsserted(() -> assertThat(differences(stack, p, products)).isEmpty());
            } finally {
                stop.set(true);
                for (Thread t : writers) {
                    t.join();
                }
                p.connectors.deleteQuietly(name);
                Http.delete(stack.openSearchUrl() + "/" + p.name + "-audit");
            }
        }
    }

    /** The ids whose document's hash is not PostgreSQL's hash of the row (or that exist on one side only). */
    static List<String> differences(LocalStack stack, Pipeline p, String index) throws Exception {
        Map<String, String> rows = new java.util.HashMap<>();
        try (Connection pg = p.connect(); Statement s = pg.createStatement()) {
            var columns = dev.lockstep.smt.hash.HashSql.columns(pg, p.name, "products");
            String digest = dev.lockstep.smt.hash.HashSql.digest(columns, dev.lockstep.smt.hash.FieldMapping.ALL, "t");
            try (ResultSet rs = s.executeQuery("SELECT id, " + dev.lockstep.smt.hash.HashSql.hashHi("d.digest") + ", "
                    + dev.lockstep.smt.hash.HashSql.hashLo("d.digest") + " FROM " + p.name + ".products t CROSS JOIN LATERAL (SELECT "
                    + digest + " AS digest) d")) {
                while (rs.next()) {
                    rows.put(rs.getString(1), rs.getLong(2) + ":" + rs.getLong(3));
                }
            }
        }
        Http.post(stack.openSearchUrl() + "/" + index + "/_refresh", null);
        List<String> differ = new ArrayList<>();
        Map<String, String> docs = new java.util.HashMap<>();
        for (JsonNode hit : Http.get(stack.openSearchUrl() + "/" + index + "/_search?size=10000&_source=lockstep.hash_hi,lockstep.hash_lo")
                .body().path("hits").path("hits")) {
            JsonNode l = hit.path("_source").path("lockstep");
            docs.put(hit.path("_id").asText(), l.path("hash_hi").asLong() + ":" + l.path("hash_lo").asLong());
        }
        rows.forEach((id, hash) -> {
            if (!hash.equals(docs.get(id))) {
                differ.add(id);
            }
        });
        docs.keySet().stream().filter(id -> !rows.containsKey(id)).forEach(differ::add);
        return differ;
    }

    /** Waits for a run other than {@code previous} in the reconciler's audit trail; returns its id. */
    static String awaitRun(LocalStack stack, String reconciler, String previous) {
        String[] out = new String[1];
        Awaitility.await("a new run of " + reconciler).atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(500)).until(() -> {
            Http.Response r = Http.get(stack.connectUrl() + "/lockstep/reconcile/" + reconciler + "/runs?size=2");
            if (r.status() != 200) {
                return false;
            }
            for (JsonNode run : r.body()) {
                if (run.path("table").path("table").asText().endsWith(".products") && !run.path("run_id").asText().equals(previous)) {
                    out[0] = run.path("run_id").asText();
                    return true;
                }
            }
            return false;
        });
        return out[0];
    }

    /**
     * One code path builds documents: every document of a table with every supported type is deleted from the index,
     * and the reconciler's repair writes it again exactly as the stream had written it, content hash included.
     */
    @Test
    void repairsWriteTheDocumentsTheStreamWritesForEveryType(LocalStack stack) throws Exception {
        try (Pipeline p = new Pipeline(stack, "rt")) {
            p.sql("CREATE SCHEMA ${schema}", "CREATE TYPE ${schema}.mood AS ENUM ('sad', 'ok', 'happy')",
                    "CREATE TABLE ${schema}.all_types (id bigint PRIMARY KEY, i2 smallint, i4 integer, i8 bigint, "
                            + "n numeric, n2 numeric(12,2), r real, d double precision, b boolean, t text, vc varchar(20), c char(5), "
                            + "u uuid, dt date, tm time, ts timestamp, tz timestamptz, iv interval, by bytea, j json, jb jsonb, "
                            + "ta text[], ia integer[], da double precision[], e ${schema}.mood)");
            java.util.Random random = new java.util.Random(20261203L);
            List<String> inserts = new ArrayList<>();
            for (int id = 1; id <= 150; id++) {
                inserts.add("INSERT INTO ${schema}.all_types VALUES (" + id + ", " + String.join(", ", CrossHashIT.randomRow(random, true)) + ")");
            }
            p.sql(inserts.toArray(String[]::new));
            // Random json values of every shape (scalars too) under one field fit neither dynamic mapping nor flat_object:
            // keep them in _source only (docs/mappings.md).
            p.start(Map.of("index.mappings", "{\"dynamic\": false, \"properties\": {\"id\": {\"type\": \"long\"}}}",
                    "index.mappings.json", "disabled"), "all_types");
            String index = index(p, "all_types");
            awaitCount(stack, index, 150);
            Map<String, JsonNode> streamed = documents(stack, index);
            for (String id : streamed.keySet()) {
                assertThat(Http.delete(stack.openSearchUrl() + "/" + index + "/_doc/" + id).status()).isEqualTo(200);
            }
            // Ids one by one (a segment without documents would be loaded whole: the same StreamRecords.upsert, FirstLoadIT).
            Map<String, String> config = reconciler(p, Map.of("tables", p.name + ".all_types", "load.unindexed.segments", "false"));
            p.connectors.create(p.name + "-reconciler", config);
            try {
                JsonNode t = awaitReports(stack, p, 1).get(p.name + ".all_types").path("table");
                assertThat(t.path("error").isMissingNode()).as(t.toString()).isTrue();
                assertThat(t.path("mismatches").path("missing").path("count").asInt()).as(t.toString()).isEqualTo(150);
                assertThat(t.path("mismatches").path("different").path("count").asInt()).isZero();
                assertThat(t.path("repairs").path("repaired").asInt()).isEqualTo(150);
                Map<String, JsonNode> repaired = documents(stack, index);
                assertThat(repaired.keySet()).isEqualTo(streamed.keySet());
                for (String id : streamed.keySet()) {
                    assertThat(repaired.get(id)).as("document " + id).isEqualTo(streamed.get(id));
                }
            } finally {
                p.connectors.deleteQuietly(p.name + "-reconciler");
                Http.delete(stack.openSearchUrl() + "/" + p.name + "-audit");
            }
        }
    }

    /**
     * A scheduled run reuses the PostgreSQL checksums of segments whose rows did not change since the task's previous
     * run, and hashes again exactly the segments that did; drift in a reused segment is still found (the OpenSearch
     * side is computed afresh), and a column change invalidates every reused checksum.
     */
    @Test
    void laterRunsReuseTheChecksumsOfUnchangedSegmentsAndStillFindEveryDifference(LocalStack stack) throws Exception {
        try (Pipeline p = new Pipeline(stack, "rr")) {
            createAndFill(p, 3_000);
            p.start(Map.of(), "products");
            String products = index(p, "products");
            awaitCount(stack, products, 3_000);
            p.sql("ANALYZE ${schema}.products");
            String name = p.name + "-reconciler";
            Map<String, String> config = reconciler(p, Map.of("tables", p.name + ".products", "segment.rows", "500", "compare.mode", "hash",
                    "repair.mode", "report-only", "schedule.interval.ms", "3600000"));
            p.connectors.create(name, config);
            try {
                JsonNode first = awaitReports(stack, p, 1).get(p.name + ".products").path("table");
                long segments = first.path("segments_compared").asLong();
                assertThat(first.path("segments_reused").asLong()).as(first.toString()).isZero();
                assertThat(first.path("matched").asLong()).isEqualTo(3_000);
                String run1 = awaitRun(stack, name, null);

                // Drift in OpenSearch only (a document deleted) and a row changed while the sink is paused.
                assertThat(Http.put(stack.connectUrl() + "/connectors/" + p.name + "-sink/pause", null).status()).isEqualTo(202);
                Thread.sleep(2_000);
                p.sql("UPDATE ${schema}.products SET name = 'changed 2500' WHERE id = 2500");
                assertThat(Http.delete(stack.openSearchUrl() + "/" + products + "/_doc/100").status()).isEqualTo(200);
                Http.post(stack.openSearchUrl() + "/" + products + "/_refresh", null);
                JsonNode second = runNow(stack, name, p, run1);
                assertThat(ids(second, "missing")).containsExactly("100");
                assertThat(second.path("mismatches").path("different").path("count").asInt()
                        + second.path("mismatches").path("stale").path("count").asInt()).as(second.toString()).isEqualTo(1);
                // Every top-level segment but the changed row's reused its checksum.
                long topLevel = second.path("segments_reused").asLong();
                assertThat(topLevel).as(second.toString()).isPositive();
                String run2 = second.path("run_id").asText();

                // A column added: the canonical text of every row changes, and no checksum is reused.
                p.sql("ALTER TABLE ${schema}.products ADD COLUMN note text NOT NULL DEFAULT 'new'");
                JsonNode third = runNow(stack, name, p, run2);
                assertThat(third.path("segments_reused").asLong()).as(third.toString()).isZero();
                assertThat(third.path("matched").asLong()).isZero();
                assertThat(ids(third, "missing")).containsExactly("100");
                assertThat(third.path("mismatches").path("schema").path("count").asInt()).isBetween(2_998, 2_999);
                assertThat(segments).isPositive();
            } finally {
                Http.put(stack.connectUrl() + "/connectors/" + p.name + "-sink/resume", null);
                p.connectors.deleteQuietly(name);
                Http.delete(stack.openSearchUrl() + "/" + p.name + "-audit");
            }
        }
    }

    /**
     * With more tasks than tables, a large table is cut into key ranges, one task each: together they report every
     * row and document exactly once, drift in any range included, and documents beyond every key or without one.
     */
    @Test
    void aLargeTableIsCutIntoKeyRangesOverTheTasks(LocalStack stack) throws Exception {
        try (Pipeline p = new Pipeline(stack, "kr")) {
            createAndFill(p, 3_000);
            p.start(Map.of(), "products", "order_lines");
            String products = index(p, "products");
            awaitCount(stack, products, 3_000);
            awaitCount(stack, index(p, "order_lines"), 30);
            p.sql("ANALYZE ${schema}.products"); // the planner's row estimate decides the cut
            assertThat(Http.delete(stack.openSearchUrl() + "/" + products + "/_doc/10").status()).isEqualTo(200);
            assertThat(Http.delete(stack.openSearchUrl() + "/" + products + "/_doc/2990").status()).isEqualTo(200);
            assertThat(Http.put(stack.openSearchUrl() + "/" + products + "/_doc/999999", Map.of("id", 999_999, "name", "ghost")).status())
                    .isEqualTo(201);
            assertThat(Http.put(stack.openSearchUrl() + "/" + products + "/_doc/keyless", Map.of("name", "no id field")).status())
                    .isEqualTo(201);
            Http.post(stack.openSearchUrl() + "/" + products + "/_refresh", null);

            String name = p.name + "-reconciler";
            p.connectors.create(name, reconciler(p, Map.of("tasks.max", "3", "segment.rows", "500", "compare.mode", "hash",
                    "repair.mode", "report-only", "schedule.interval.ms", "3600000")));
            try {
                Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> Http.get(stack.connectUrl() + "/connectors/" + name + "/status")
                        .body().path("tasks").size() == 3);
                List<JsonNode> shares = new ArrayList<>();
                Awaitility.await("3 reports").atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                    shares.clear();
                    Http.Response r = Http.get(stack.openSearchUrl() + "/" + p.name + "-audit/_search?size=100");
                    if (r.status() != 200) {
                        return false;
                    }
                    r.body().path("hits").path("hits").forEach(h -> shares.add(h.path("_source").path("table")));
                    return shares.size() >= 3;
                });
                List<JsonNode> productShares = shares.stream().filter(t -> t.path("table").asText().endsWith(".products")).toList();
                assertThat(productShares.stream().map(t -> t.path("key_range").path("share").asText()))
                        .containsExactlyInAnyOrder("1/2", "2/2");
                assertThat(productShares.stream().mapToLong(t -> t.path("source_rows").asLong()).sum()).isEqualTo(3_000);
                assertThat(productShares.stream().mapToLong(t -> t.path("destination_documents").asLong()).sum()).isEqualTo(3_000);
                assertThat(productShares.stream().mapToLong(t -> t.path("matched").asLong()).sum()).isEqualTo(2_998);
                List<String> missing = new ArrayList<>();
                List<String> extra = new ArrayList<>();
                productShares.forEach(t -> {
                    missing.addAll(ids(t, "missing"));
                    extra.addAll(ids(t, "extra"));
                });
                assertThat(missing).containsExactlyInAnyOrder("10", "2990");
                assertThat(extra).containsExactlyInAnyOrder("999999", "keyless");
                JsonNode lines = shares.stream().filter(t -> t.path("table").asText().endsWith(".order_lines")).findFirst().orElseThrow();
                assertThat(lines.path("key_range").isMissingNode()).isTrue();
                assertThat(lines.path("matched").asLong()).isEqualTo(30);
            } finally {
                p.connectors.deleteQuietly(name);
                Http.delete(stack.openSearchUrl() + "/" + p.name + "-audit");
            }
        }
    }

    /** Triggers a run of the products table through the REST resource and returns its table report (a run after {@code previous}). */
    static JsonNode runNow(LocalStack stack, String reconciler, Pipeline p, String previous) {
        assertThat(Http.post(stack.connectUrl() + "/lockstep/reconcile/" + reconciler + "/runs?tables=" + p.name + ".products", null).status())
                .isBetween(200, 202);
        String[] run = new String[1];
        Awaitility.await("a run of " + reconciler + " after " + previous).atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(500))
                .until(() -> {
                    Http.Response r = Http.get(stack.connectUrl() + "/lockstep/reconcile/" + reconciler + "/runs?size=1");
                    if (r.status() != 200 || r.body().isEmpty()) {
                        return false;
                    }
                    run[0] = r.body().get(0).path("run_id").asText();
                    return run[0].compareTo(previous) > 0; // run ids end with their start time
                });
        JsonNode report = Http.get(stack.connectUrl() + "/lockstep/reconcile/" + reconciler + "/runs/" + run[0]).body();
        return ((ObjectNode) report.path("tables").get(0).path("table").deepCopy()).put("run_id", run[0]);
    }

    /** Every document of an index by id, with the lineage reduced to what the content decides (the hash). */
    static Map<String, JsonNode> documents(LocalStack stack, String index) {
        Http.post(stack.openSearchUrl() + "/" + index + "/_refresh", null);
        Map<String, JsonNode> out = new java.util.TreeMap<>();
        for (JsonNode hit : Http.get(stack.openSearchUrl() + "/" + index + "/_search?size=10000").body().path("hits").path("hits")) {
            ObjectNode source = (ObjectNode) hit.path("_source");
            JsonNode lineage = source.remove("lockstep");
            source.putObject("lockstep").put("hash", lineage.path("hash").asText()).put("hash_hi", lineage.path("hash_hi").asLong())
                    .put("hash_lo", lineage.path("hash_lo").asLong());
            out.put(hit.path("_id").asText(), source);
        }
        return out;
    }

    static void createAndFill(Pipeline p, int products) throws Exception {
        p.sql("CREATE SCHEMA ${schema}",
                "CREATE TABLE ${schema}.products (id bigint PRIMARY KEY, name text NOT NULL, price numeric(12,2), tags text[], "
                        + "attrs jsonb, updated_at timestamptz NOT NULL, active boolean NOT NULL)",
                "CREATE TABLE ${schema}.order_lines (order_id bigint, line_code text, sku text NOT NULL, quantity integer NOT NULL, "
                        + "PRIMARY KEY (order_id, line_code))",
                "INSERT INTO ${schema}.products SELECT g, 'product ' || g, (g % 1000) + 0.90, ARRAY['kitchen', 'tag-' || (g % 7)], "
                        + "jsonb_build_object('watts', 1000 + g % 3000, 'colour', 'silver'), timestamptz '2026-01-05 09:30:00+00' + g * "
                        + "interval '1 minute', g % 2 = 0 FROM generate_series(1, " + products + ") g",
                "INSERT INTO ${schema}.order_lines SELECT o, l, 'SKU-' || o || l, o % 5 + 1 FROM generate_series(1, 10) o, "
                        + "unnest(ARRAY['A', 'B', 'C|gift']) l");
    }

    static String index(Pipeline p, String table) {
        return p.topic(table).toLowerCase(java.util.Locale.ROOT);
    }

    /** The shipped reconciler config, pointed at this pipeline's tables, topics and indices. */
    static Map<String, String> reconciler(Pipeline p, Map<String, String> overrides) {
        Map<String, String> config = p.connectors.fromFile("lockstep-reconciler");
        config.put("tables", p.name + ".products," + p.name + ".order_lines");
        config.put("topic.prefix", p.name);
        config.put("index.name.pattern", "${topic}");
        config.put("audit.topic", p.name + "-audit");
        config.put("audit.index", p.name + "-audit");
        config.put("settle.ms", "1000");
        config.put("schedule.initial.delay.ms", "0"); // the tests start it once their documents are indexed
        config.putAll(overrides);
        return config;
    }

    static void awaitCount(LocalStack stack, String index, long count) {
        Awaitility.await(index + " holds " + count + " documents").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                .until(() -> {
                    Http.post(stack.openSearchUrl() + "/" + index + "/_refresh", null);
                    return Http.get(stack.openSearchUrl() + "/" + index + "/_count").body().path("count").asLong() == count;
                });
    }

    /** The reports of the first run, by table, once all {@code tables} are in the audit index. */
    static Map<String, JsonNode> awaitReports(LocalStack stack, Pipeline p, int tables) {
        java.util.concurrent.atomic.AtomicReference<Map<String, JsonNode>> out = new java.util.concurrent.atomic.AtomicReference<>();
        Awaitility.await("the reconciler's first run in " + p.name + "-audit").atMost(Duration.ofSeconds(240))
                .pollInterval(Duration.ofSeconds(1)).until(() -> {
                    Http.Response r = Http.get(stack.openSearchUrl() + "/" + p.name + "-audit/_search?size=100");
                    if (r.status() != 200) {
                        return false;
                    }
                    Map<String, JsonNode> byTable = new java.util.HashMap<>();
                    for (JsonNode hit : r.body().path("hits").path("hits")) {
                        byTable.putIfAbsent(hit.path("_source").path("table").path("table").asText(), hit.path("_source"));
                    }
                    out.set(byTable);
                    return byTable.size() >= tables;
                });
        return out.get();
    }

    static List<String> ids(JsonNode table, String drift) {
        List<String> ids = new ArrayList<>();
        table.path("mismatches").path(drift).path("ids").forEach(i -> ids.add(i.path("id").asText()));
        assertThat(table.path("mismatches").path(drift).path("count").asInt()).as(drift + " count").isEqualTo(ids.size());
        return ids;
    }

    static long count(Connection pg, String sql) throws Exception {
        try (Statement s = pg.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
