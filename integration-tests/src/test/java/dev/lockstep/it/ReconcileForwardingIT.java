package dev.lockstep.it;

import static dev.lockstep.it.ReconcileIT.awaitCount;
import static dev.lockstep.it.ReconcileIT.createAndFill;
import static dev.lockstep.it.ReconcileIT.index;
import static dev.lockstep.it.ReconcileIT.reconciler;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * In a cluster of two workers, a reconciler's tasks run on both; a run requested from one worker reaches the tasks on
 * the other too (forwarded once, with the caller's credentials), and every table and key range runs.
 */
@ExtendWith(StackExtension.class)
class ReconcileForwardingIT {

    @Test
    void aRunRequestedFromOneWorkerReachesTheTasksOnEveryWorker(LocalStack stack) throws Exception {
        try (Pipeline p = new Pipeline(stack, "fw")) {
            createAndFill(p, 3_000);
            p.start(Map.of(), "products", "order_lines");
            awaitCount(stack, index(p, "products"), 3_000);
            p.sql("ANALYZE ${schema}.products");
            String name = p.name + "-reconciler";
            // The stack's worker and a second one in the same group: one Connect cluster of two workers.
            try (ExtraWorker second = new ExtraWorker(stack, p.name + "-w2", 28_184, line -> line, List.of()).awaitUp(Map.of())) {
                Awaitility.await("two workers").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
                        .until(() -> workers(stack, p.name + "-source").size() + workers(stack, p.name + "-sink").size() >= 1
                                && Http.get(second.url + "/connectors").status() == 200);
                p.connectors.create(name, reconciler(p, Map.of("tasks.max", "4", "segment.rows", "500", "compare.mode", "hash",
                        "repair.mode", "report-only", "schedule.interval.ms", "3600000", "schedule.initial.delay.ms", "3600000")));
                Awaitility.await("the reconciler's 4 tasks on both workers").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1))
                        .ignoreExceptions().until(() -> workers(stack, name).size() == 2 && running(stack, name) == 4);

                Http.Response r = Http.post(stack.connectUrl() + "/lockstep/reconcile/" + name + "/runs", null);
                assertThat(r.status()).as(r.text()).isEqualTo(202);
                assertThat(r.body().path("forwarded_to").size()).as(r.text()).isEqualTo(1);
                assertThat(r.body().path("forwarded_to").get(0).path("status").asInt()).as(r.text()).isEqualTo(202);
                List<String> tables = new ArrayList<>();
                r.body().path("tables").forEach(t -> tables.add(t.asText()));
                assertThat(tables).containsExactlyInAnyOrder(p.name + ".products", p.name + ".order_lines");

                // Every unit of work ran on that request: the three key ranges of products and order_lines.
                Set<String> ran = new HashSet<>();
                Awaitility.await("4 reports").atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                    ran.clear();
                    Http.Response audit = Http.get(stack.openSearchUrl() + "/" + p.name + "-audit/_search?size=100");
                    if (audit.status() == 200) {
                        for (JsonNode hit : audit.body().path("hits").path("hits")) {
                            JsonNode report = hit.path("_source");
                            if (report.path("trigger").asText().equals("rest")) {
                                ran.add(report.path("table").path("table").asText() + " " + report.path("table").path("key_range").path("share").asText());
                            }
                        }
                    }
                    return ran.size() >= 4;
                });
                assertThat(ran).containsExactlyInAnyOrder(p.name + ".products 1/3", p.name + ".products 2/3", p.name + ".products 3/3",
                        p.name + ".order_lines ");
            } finally {
                p.connectors.deleteQuietly(name);
                Http.delete(stack.openSearchUrl() + "/" + p.name + "-audit");
            }
        }
    }

    private static Set<String> workers(LocalStack stack, String connector) {
        Set<String> out = new HashSet<>();
        Http.get(stack.connectUrl() + "/connectors/" + connector + "/status").body().path("tasks")
                .forEach(t -> out.add(t.path("worker_id").asText()));
        return out;
    }

    private static int running(LocalStack stack, String connector) {
        int n = 0;
        for (JsonNode t : Http.get(stack.connectUrl() + "/connectors/" + connector + "/status").body().path("tasks")) {
            n += t.path("state").asText().equals("RUNNING") ? 1 : 0;
        }
        return n;
    }
}
