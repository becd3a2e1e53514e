package dev.lockstep.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Rebuilds behind an alias on the real stack, while rows change and searches run: a column type change the index
 * cannot take in place (integer to text) is rebuilt into the next version by itself, and a rebuild on demand applies
 * a mapping given on the REST API. Searches through the alias never fail and never see a document missing; the old
 * version is deleted after the grace period; a reconciler run afterwards finds nothing to repair.
 */
@ExtendWith(StackExtension.class)
class RebuildIT {
    private static final int ROWS = 500;

    @Test
    void incompatibleChangesAndRequestsAreRebuiltBehindTheAliasUnderLoadWithoutASearchGap(LocalStack stack) throws Exception {
        try (Pipeline p = new Pipeline(stack, "rb")) {
            ReconcileIT.createAndFill(p, ROWS);
            p.sql("ALTER TABLE ${schema}.products ADD COLUMN code integer", "UPDATE ${schema}.products SET code = id");
            p.start(Map.of(), "products", "order_lines");
            String products = ReconcileIT.index(p, "products");
            ReconcileIT.awaitCount(stack, products, ROWS);
            // The sink made the first version behind the alias users search and the write alias it writes through.
            assertThat(aliased(stack, products)).containsExactly(products + "_v1");
            assertThat(aliased(stack, products + ".writes")).containsExactly(products + "_v1");

            String name = p.name + "-reconciler";
            p.connectors.create(name, ReconcileIT.reconciler(p, Map.of("schedule.interval.ms", "3600000", "rebuild.grace.ms", "3000")));
            Load load = new Load(stack, p);
            try {
                rebuildUnderLoad(stack, p, name, load);
            } finally {
                p.connectors.deleteQuietly(name);
                Http.delete(stack.openSearchUrl() + "/" + p.name + "-audit");
            }
        }
    }

    /** An index made before versioning (the name is the index) is rebuilt into <name>_v1, and the alias takes its name. */
    @Test
    void anUnversionedIndexIsReplacedByItsFirstVersionBehindAnAliasOfItsName(LocalStack stack) throws Exception {
        try (Pipeline p = new Pipeline(stack, "rl")) {
            ReconcileIT.createAndFill(p, 100);
            p.start(Map.of("index.versioned", "false"), "products", "order_lines");
            String products = ReconcileIT.index(p, "products");
            ReconcileIT.awaitCount(stack, products, 100);
            assertThat(Http.get(stack.openSearchUrl() + "/_alias/" + products).status()).as("no alias: the index itself").isEqualTo(404);
            String name = p.name + "-reconciler";
            p.connectors.create(name, ReconcileIT.reconciler(p, Map.of("schedule.interval.ms", "3600000")));
            try {
                ReconcileIT.awaitReports(stack, p, 2);
                Http.Response requested = Http.post(stack.connectUrl() + "/lockstep/reconcile/" + name + "/rebuilds?table=" + p.name
                        + ".products", null);
                assertThat(requested.status()).as(requested.text()).isEqualTo(202);
                JsonNode done = awaitRebuild(stack, name, products + "_v1", 100);
                assertThat(done.path("from").asText()).isEqualTo(products);
                assertThat(aliased(stack, products)).containsExactly(products + "_v1");
                assertThat(aliased(stack, products + ".writes")).containsExactly(products + "_v1");
                // The stream goes on into the new version, through the write alias.
                p.sql("UPDATE ${schema}.products SET name = 'after the rebuild' WHERE id = 7");
                Awaitility.await("the change after the rebuild").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                        .until(() -> Http.get(stack.openSearchUrl() + "/" + products + "/_doc/7").body().path("_source").path("name").asText()
                                .equals("after the rebuild"));
                ReconcileIT.awaitCount(stack, products, 100);
            } finally {
                p.connectors.deleteQuietly(name);
                Http.delete(stack.openSearchUrl() + "/" + p.name + "-audit");
            }
        }
    }

    private static void rebuildUnderLoad(LocalStack stack, Pipeline p, String name, Load load) throws Exception {
        String products = ReconcileIT.index(p, "products");
        try {
            ReconcileIT.awaitReports(stack, p, 2);
            load.start();

            // integer -> text: the sink keeps the long mapping and notes the field for a rebuild.
            p.sql("ALTER TABLE ${schema}.products ALTER COLUMN code TYPE text USING 'code-' || code::text");
            p.sql("UPDATE ${schema}.products SET code = 'new ' || id WHERE id <= 5");
            Awaitility.await("the sink notes the conflict").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .until(() -> Http.mappings(stack.openSearchUrl(), products).path("_meta").path("lockstep").path("rebuild")
                            .path("fields").has("code"));
            assertThat(type(stack, products, "code")).isEqualTo("long");

            // The next run finds the note and rebuilds (the schedule would; a run on demand is quicker).
            assertThat(Http.post(stack.connectUrl() + "/lockstep/reconcile/" + name + "/runs?tables=" + p.name + ".products", null)
                    .status()).isEqualTo(202);
            JsonNode first = awaitRebuild(stack, name, products + "_v2");
            assertThat(first.path("trigger").asText()).isEqualTo("mapping conflict");
            assertThat(first.path("from").asText()).isEqualTo(products + "_v1");
            assertThat(aliased(stack, products)).containsExactly(products + "_v2");
            assertThat(aliased(stack, products + ".writes")).containsExactly(products + "_v2");
            assertThat(type(stack, products, "code")).isEqualTo("text");
            Http.post(stack.openSearchUrl() + "/" + products + "/_refresh", null);
            assertThat(ids(stack, products, "{\"match\":{\"code\":\"new\"}}")).hasSize(5);
            // The old version stays for the grace period, then goes.
            Awaitility.await(products + "_v1 deleted after the grace period").atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(500)).until(() -> Http.get(stack.openSearchUrl() + "/" + products + "_v1").status() == 404);

            // On demand, with a mapping of the user's: name as a keyword.
            Http.Response requested = Http.post(stack.connectUrl() + "/lockstep/reconcile/" + name + "/rebuilds?table=" + p.name
                    + ".products", "{\"mappings\": {\"properties\": {\"name\": {\"type\": \"keyword\"}}}, \"settings\": {\"number_of_replicas\": 0}}");
            assertThat(requested.status()).as(requested.text()).isEqualTo(202);
            JsonNode second = awaitRebuild(stack, name, products + "_v3");
            assertThat(second.path("trigger").asText()).isEqualTo("rest");
            assertThat(type(stack, products, "name")).isEqualTo("keyword");
            assertThat(type(stack, products, "code")).isEqualTo("text");
            assertThat(Http.get(stack.openSearchUrl() + "/" + products + "/_settings").body().findValue("number_of_replicas").asText())
                    .isEqualTo("0");
            assertThat(ids(stack, products, "{\"term\":{\"name\":\"product 7\"}}")).containsExactly("7");
            assertThat(Http.post(stack.connectUrl() + "/lockstep/reconcile/" + name + "/rebuilds?table=" + p.name + ".nope", null).status())
                    .isEqualTo(404);
            assertThat(Http.getAny(stack.connectUrl() + "/metrics").text()).contains("lockstep_reconcile_rebuilds_total{connector=\"" + name
                    + "\",result=\"done\",table=\"" + p.name + ".products\"} 2.0");
        } finally {
            load.stop();
        }
        assertThat(load.changes.get()).as("rows changed during the rebuilds").isGreaterThan(100);
        assertThat(load.searches.get()).as("searches during the rebuilds").isGreaterThan(100);
        assertThat(load.gaps).as("searches that failed or missed documents").isEmpty();
        assertThat(p.sourceTaskState()).isEqualTo("RUNNING");
        assertThat(p.sinkTaskState()).isEqualTo("RUNNING");

        // Nothing was lost on the way: a run after the load finds every row as it is in PostgreSQL.
        String before = latestRun(stack, p);
        Http.post(stack.connectUrl() + "/lockstep/reconcile/" + name + "/runs?tables=" + p.name + ".products", null);
        JsonNode[] report = new JsonNode[1];
        Awaitility.await("a run after the rebuilds").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            String latest = latestRun(stack, p);
            if (latest == null || latest.equals(before)) {
                return false;
            }
            report[0] = Http.get(stack.connectUrl() + "/lockstep/reconcile/" + name + "/runs/" + latest).body().path("tables").get(0);
            return true;
        });
        JsonNode t = report[0].path("table");
        assertThat(report[0].path("verified").asBoolean()).as(report[0].toString()).isTrue();
        assertThat(t.path("source_rows").asLong()).as(t.toString()).isEqualTo(ROWS);
        assertThat(t.path("repairs").path("emitted").asLong()).as(t.toString()).isZero();
        // The mapping chosen on demand stays: the column's type did not change, so the sink asks for no rebuild.
        assertThat(report[0].path("trigger").asText()).isEqualTo("rest");
        assertThat(aliased(stack, products)).containsExactly(products + "_v3");
        assertThat(Http.mappings(stack.openSearchUrl(), products).path("_meta").path("lockstep").has("rebuild")).isFalse();
    }

    /** The latest rebuild's status once it reached {@code to}, done. */
    private static JsonNode awaitRebuild(LocalStack stack, String connector, String to) {
        return awaitRebuild(stack, connector, to, ROWS);
    }

    private static JsonNode awaitRebuild(LocalStack stack, String connector, String to, int rows) {
        JsonNode[] out = new JsonNode[1];
        Awaitility.await("a rebuild into " + to).atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(500)).until(() -> {
            for (JsonNode r : Http.get(stack.connectUrl() + "/lockstep/reconcile/" + connector + "/rebuilds").body()) {
                if (r.path("to").asText().equals(to) && (r.path("phase").asText().equals("done") || r.path("phase").asText().equals("failed"))) {
                    out[0] = r;
                    return true;
                }
            }
            return false;
        });
        assertThat(out[0].path("phase").asText()).as(out[0].toString()).isEqualTo("done");
        // Every document was copied, or the stream had already written it (or a newer version) into the new index.
        assertThat(out[0].path("documents_copied").asLong() + out[0].path("documents_newer").asLong()).as(out[0].toString()).isEqualTo(rows);
        return out[0];
    }

    private static String latestRun(LocalStack stack, Pipeline p) {
        Http.post(stack.openSearchUrl() + "/" + p.name + "-audit/_refresh", null);
        JsonNode hits = Http.post(stack.openSearchUrl() + "/" + p.name + "-audit/_search", Map.of("size", 1,
                "query", Map.of("term", Map.of("table.table", p.name + ".products")), "sort", List.of(Map.of("started_at", "desc"))))
                .body().path("hits").path("hits");
        return hits.isEmpty() ? null : hits.get(0).path("_source").path("run_id").asText();
    }

    private static List<String> aliased(LocalStack stack, String alias) {
        List<String> out = new ArrayList<>();
        Http.get(stack.openSearchUrl() + "/_alias/" + alias).body().fieldNames().forEachRemaining(out::add);
        return out;
    }

    private static String type(LocalStack stack, String index, String field) {
        return Http.mappings(stack.openSearchUrl(), index).path("properties").path(field).path("type").asText();
    }

    private static List<String> ids(LocalStack stack, String index, String query) {
        JsonNode hits = Http.post(stack.openSearchUrl() + "/" + index + "/_search", "{\"size\":100,\"query\":" + query + "}").body()
                .path("hits").path("hits");
        List<String> out = new ArrayList<>();
        hits.forEach(h -> out.add(h.path("_id").asText()));
        return out;
    }

    /**
     * Rows changing and searches running through the alias, side by side with the rebuilds. The table keeps its
     * rows, so every count through the alias must find all of them.
     */
    private static final class Load {
        final AtomicLong changes = new AtomicLong();
        final AtomicLong searches = new AtomicLong();
        final List<String> gaps = Collections.synchronizedList(new ArrayList<>());
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final LocalStack stack;
        private final Pipeline p;
        private final List<Thread> threads = new ArrayList<>();

        Load(LocalStack stack, Pipeline p) {
            this.stack = stack;
            this.p = p;
        }

        void start() {
            threads.add(new Thread(this::change, "rebuild-it-changes"));
            threads.add(new Thread(this::search, "rebuild-it-searches"));
            threads.forEach(Thread::start);
        }

        private void change() {
            try (Connection pg = DriverManager.getConnection(stack.pgUrl(), stack.pgUser(), stack.pgPassword());
                    PreparedStatement update = pg.prepareStatement("UPDATE " + p.name + ".products SET name = 'product ' || id, "
                            + "price = price + 1 WHERE id = ?")) {
                while (running.get()) {
                    update.setLong(1, ThreadLocalRandom.current().nextLong(1, ROWS + 1));
                    update.executeUpdate();
                    changes.incrementAndGet();
                    Thread.sleep(10);
                }
            } catch (Exception e) {
                gaps.add("the load failed: " + e);
            }
        }

        private void search() {
            String products = ReconcileIT.index(p, "products");
            while (running.get()) {
                Http.Response r = Http.get(stack.openSearchUrl() + "/" + products + "/_count");
                long count = r.body().path("count").asLong(-1);
                if (r.status() != 200 || count != ROWS) {
                    gaps.add("GET /" + products + "/_count answered " + r.status() + ": " + r.text());
                }
                searches.incrementAndGet();
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        void stop() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join(10_000);
            }
        }
    }
}
