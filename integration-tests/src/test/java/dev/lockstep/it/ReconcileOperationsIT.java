package dev.lockstep.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The reconciler as an operator meets it: a column added and another dropped mid-stream (the schema class,
 * repaired at a bounded rate), runs on demand through the worker's REST resource, a role that can only SELECT,
 * a killed worker that keeps the schedule, and configs that validation refuses with a message on the field to fix.
 */
@ExtendWith(StackExtension.class)
class ReconcileOperationsIT {

    @Test
    void columnChangesShowAsTheSchemaClassAndAreRepairedAtABoundedRateWithASelectOnlyRole(LocalStack stack) throws Exception {
        try (Pipeline p = new Pipeline(stack, "rs")) {
            ReconcileIT.createAndFill(p, 200);
            p.start(Map.of(), "products", "order_lines");
            String products = ReconcileIT.index(p, "products");
            ReconcileIT.awaitCount(stack, products, 200);
            p.sql("ALTER TABLE ${schema}.products ADD COLUMN note text NOT NULL DEFAULT 'n/a'",
                    "ALTER TABLE ${schema}.products DROP COLUMN active",
                    "UPDATE ${schema}.products SET name = 'changed ' || id WHERE id <= 3");
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> Http.get(stack.openSearchUrl() + "/" + products + "/_doc/3")
                    .body().path("_source").path("note").asText().equals("n/a"));
            String role = p.name + "_reader";
            p.sql("CREATE ROLE " + role + " LOGIN PASSWORD 'reader-secret'", "GRANT USAGE ON SCHEMA ${schema} TO " + role,
                    "GRANT SELECT ON ${schema}.products, ${schema}.order_lines TO " + role);
            Map<String, String> config = new HashMap<>(ReconcileIT.reconciler(p, Map.of("compare.mode", "hash",
                    "repair.schema.max.per.run", "50", "schedule.interval.ms", "3600000")));
            config.put("database.user", role);
            config.put("database.password", "reader-secret");
            String name = p.name + "-reconciler";
            p.connectors.create(name, config);
            try {
                Map<String, JsonNode> first = ReconcileIT.awaitReports(stack, p, 2);
                JsonNode t = first.get(p.name + ".products").path("table");
                assertThat(t.path("error").isMissingNode()).as(t.toString()).isTrue();
                assertThat(t.path("mismatches").path("schema").path("count").asInt()).as(t.toString()).isEqualTo(197);
                for (String c : List.of("missing", "extra", "different", "stale")) {
                    assertThat(t.path("mismatches").path(c).path("count").asInt()).as(c).isZero();
                }
                JsonNode fields = t.path("mismatches").path("schema").path("ids").get(0).path("fields");
                assertThat(fields.findValuesAsText("field")).containsExactlyInAnyOrder("note", "active");
                assertThat(t.path("repairs").path("emitted").asInt()).isEqualTo(50);
                assertThat(t.path("repairs").path("deferred").asInt()).isEqualTo(147);
                assertThat(t.path("repairs").path("repaired").asInt()).isEqualTo(50);
                String firstRun = first.get(p.name + ".products").path("run_id").asText();

                // A run on demand, of one table, through the worker's REST resource; its report by run id.
                Http.Response trigger = Http.post(stack.connectUrl() + "/lockstep/reconcile/" + name + "/runs?tables=" + p.name + ".products", null);
                assertThat(trigger.status()).as(trigger.text()).isEqualTo(202);
                assertThat(trigger.body().path("tables").get(0).asText()).isEqualTo(p.name + ".products");
                String[] second = new String[1];
                Awaitility.await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                    JsonNode runs = Http.get(stack.connectUrl() + "/lockstep/reconcile/" + name + "/runs?size=5").body();
                    for (JsonNode r : runs) {
                        if (!r.path("run_id").asText().equals(firstRun)) {
                            second[0] = r.path("run_id").asText();
                            assertThat(r.path("trigger").asText()).isEqualTo("rest");
                            return true;
                        }
                    }
                    return false;
                });
                JsonNode report = Http.get(stack.connectUrl() + "/lockstep/reconcile/" + name + "/runs/" + second[0]).body();
                assertThat(report.path("tables")).hasSize(1);
                JsonNode t2 = report.path("tables").get(0).path("table");
                assertThat(t2.path("mismatches").path("schema").path("count").asInt()).isEqualTo(147);
                assertThat(t2.path("repairs").path("repaired").asInt()).isEqualTo(50);
                assertThat(Http.post(stack.connectUrl() + "/lockstep/reconcile/no-such-reconciler/runs", null).status()).isEqualTo(404);
            } finally {
                p.connectors.deleteQuietly(name);
                Http.delete(stack.openSearchUrl() + "/" + p.name + "-audit");
                p.sql("DROP OWNED BY " + role, "DROP ROLE " + role);
            }
        }
    }

    @Test
    void aKilledWorkerKeepsTheSchedule(LocalStack stack) throws Exception {
        try (Pipeline p = new Pipeline(stack, "rk")) {
            ReconcileIT.createAndFill(p, 100);
            p.start(Map.of(), "products", "order_lines");
            ReconcileIT.awaitCount(stack, ReconcileIT.index(p, "products"), 100);
            String name = p.name + "-reconciler";
            p.connectors.create(name, ReconcileIT.reconciler(p, Map.of("schedule.interval.ms", "3600000")));
            try {
                String firstRun = ReconcileIT.awaitReports(stack, p, 2).get(p.name + ".products").path("run_id").asText();
                Thread.sleep(3_000); // the audit records' offsets are flushed every second (offset.flush.interval.ms)
                String pid = Files.readString(stack.stackDir().resolve("pids/connect.pid")).trim();
                assertThat(new ProcessBuilder("kill", "-9", pid).start().waitFor()).isZero();
                // kill returns before the process is gone: its leader is a zombie while its other threads still hold
                // the REST port, and `up` would refuse a port in use. A supervisor restarts a crashed worker once it is gone.
                int port = java.net.URI.create(stack.connectUrl()).getPort();
                Awaitility.await("the killed worker's port free").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                        .until(() -> !accepts(port));
                assertThat(stack.run("up")).isZero();
                // The status topic may still say RUNNING from before the kill: wait for the new task itself (a worker that
                // left without a goodbye may keep its tasks for scheduled.rebalance.max.delay.ms, 5 minutes).
                Awaitility.await("the restarted task").atMost(Duration.ofSeconds(330)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                        .until(() -> Http.get(stack.connectUrl() + "/lockstep/reconcile").body().path(name).size() == 1);
                // The restarted task reads the last run from the offsets: the next run is an hour away.
                JsonNode state = Http.get(stack.connectUrl() + "/lockstep/reconcile").body().path(name).get(0).path("tables")
                        .path(p.name + ".products");
                assertThat(state.path("last_run_id").asText()).isEqualTo(firstRun);
                Thread.sleep(10_000);
                JsonNode runs = Http.get(stack.connectUrl() + "/lockstep/reconcile/" + name + "/runs?size=10").body();
                assertThat(runs.findValuesAsText("run_id")).containsOnly(firstRun);
            } finally {
                p.connectors.deleteQuietly(name);
                Http.delete(stack.openSearchUrl() + "/" + p.name + "-audit");
            }
        }
    }

    @Test
    void validationPutsEachProblemOnTheFieldToFix(LocalStack stack) throws Exception {
        try (Pipeline p = new Pipeline(stack, "rv")) {
            p.sql("CREATE SCHEMA ${schema}", "CREATE TABLE ${schema}.keyless (a int, b text)",
                    "CREATE TABLE ${schema}.shapes (id int PRIMARY KEY, where_ point)",
                    "CREATE TABLE ${schema}.fine (id int PRIMARY KEY, name text)");
            Connectors connectors = new Connectors(stack);
            String plugin = "dev.lockstep.reconcile.ReconcileSourceConnector";
            Map<String, String> config = new HashMap<>(connectors.fromFile("lockstep-reconciler"));
            config.put("database.url", stack.pgUrl());
            config.put("database.user", stack.pgUser());
            config.put("database.password", stack.pgPassword());
            config.put("connection.url", stack.openSearchUrl());
            config.put("name", "validate-me");

            config.put("tables", p.name + ".fine");
            assertThat(errors(connectors.validate(plugin, config))).isEmpty();

            config.put("tables", p.name + ".fine," + p.name + ".nope," + p.name + ".keyless," + p.name + ".shapes");
            Map<String, List<String>> errors = errors(connectors.validate(plugin, config));
            assertThat(errors).containsOnlyKeys("tables");
            assertThat(String.join("\n", errors.get("tables")))
                    .contains("table " + p.name + ".nope does not exist")
                    .contains("table " + p.name + ".keyless has no primary key")
                    .contains("column 'where_' has type point");

            config.put("tables", "no_schema_dot");
            assertThat(errors(connectors.validate(plugin, config))).containsKey("tables");

            config.put("tables", p.name + ".fine");
            config.put("database.url", "jdbc:postgresql://127.0.0.1:1/postgres");
            assertThat(String.join("", errors(connectors.validate(plugin, config)).get("database.url"))).contains("cannot connect");

            p.sql("DROP DATABASE IF EXISTS " + p.name + "_latin1",
                    "CREATE DATABASE " + p.name + "_latin1 ENCODING 'LATIN1' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'");
            try {
                config.put("database.url", stack.pgUrl().substring(0, stack.pgUrl().lastIndexOf('/') + 1) + p.name + "_latin1");
                assertThat(String.join("", errors(connectors.validate(plugin, config)).get("database.url"))).contains("LATIN1");
            } finally {
                p.sql("DROP DATABASE " + p.name + "_latin1");
            }

            config.put("database.url", "mysql://nope");
            assertThat(errors(connectors.validate(plugin, config))).containsKey("database.url");
        }
    }

    private static Map<String, List<String>> errors(Http.Response response) {
        assertThat(response.status()).as(response.text()).isEqualTo(200);
        Map<String, List<String>> out = new HashMap<>();
        for (JsonNode c : response.body().path("configs")) {
            List<String> messages = new java.util.ArrayList<>();
            c.path("value").path("errors").forEach(e -> messages.add(e.asText()));
            if (!messages.isEmpty()) {
                out.put(c.path("value").path("name").asText(), messages);
            }
        }
        return out;
    }

    private static boolean accepts(int port) {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            return true;
        } catch (java.io.IOException refused) {
            return false;
        }
    }
}
