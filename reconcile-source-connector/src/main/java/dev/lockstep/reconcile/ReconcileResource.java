package dev.lockstep.reconcile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * On-demand reconciliation on the worker's REST port, next to {@code /metrics} (the bundle's REST extension
 * registers it), protected like the worker's own API (a security extension such as Kafka's
 * BasicAuthSecurityRestExtension filters it too):
 * <ul>
 *   <li>{@code GET /lockstep/reconcile}: the reconcilers with tasks on this worker, their tables and schedules;</li>
 *   <li>{@code POST /lockstep/reconcile/{connector}/runs[?tables=schema.t1,schema.t2]}: a run now, of all or some tables;</li>
 *   <li>{@code GET /lockstep/reconcile/{connector}/runs[?size=20]}: the latest runs, per table, from the audit index;</li>
 *   <li>{@code GET /lockstep/reconcile/{connector}/runs/{runId}}: a run's report, every table's section;</li>
 *   <li>{@code POST /lockstep/reconcile/{connector}/rebuilds?table=schema.t}: rebuild the table's index into its next
 *       version (optional JSON body: {@code {"mappings": {...}, "settings": {...}}}), {@link IndexRebuild};</li>
 *   <li>{@code GET /lockstep/reconcile/{connector}/rebuilds}: the latest rebuild of each table on this worker.</li>
 * </ul>
 * A run request reaches the tasks on the worker it is sent to, and is forwarded to the other workers that run the
 * connector's tasks ({@link RunForwarding}). Listing runs and reading reports need any worker with a task of the
 * connector: they read the audit index.
 */
@Path("/lockstep/reconcile")
@Produces(MediaType.APPLICATION_JSON)
public class ReconcileResource {

    @GET
    public Response reconcilers() {
        ObjectNode out = SearchSide.JSON.createObjectNode();
        for (String connector : RunRequests.connectors()) {
            ArrayNode tasks = out.putArray(connector);
            for (ReconcileSourceTask task : RunRequests.tasks(connector)) {
                ObjectNode t = tasks.addObject().put("running", task.running());
                ObjectNode tables = t.putObject("tables");
                task.states().forEach((name, state) -> {
                    ObjectNode s = tables.putObject(name.toString());
                    s.put("last_run_id", state.lastRunId());
                    s.put("last_run_start", state.lastRunStartMs() == 0 ? null : Instant.ofEpochMilli(state.lastRunStartMs()).toString());
                    s.put("last_success", state.lastSuccessMs() == 0 ? null : Instant.ofEpochMilli(state.lastSuccessMs()).toString());
                    s.put("verified_through", state.verifiedThroughMs() == 0 ? null : Instant.ofEpochMilli(state.verifiedThroughMs()).toString());
                });
            }
        }
        return Response.ok(out.toString()).build();
    }

    @POST
    @Path("/{connector}/runs")
    public Response run(@PathParam("connector") String connector, @QueryParam("tables") @DefaultValue("") String tables,
            @QueryParam("forwarded") @DefaultValue("false") boolean forwarded, @Context UriInfo uri, @Context HttpHeaders headers) {
        List<ReconcileSourceTask> tasks = RunRequests.tasks(connector);
        List<String> only = tables.isBlank() ? List.of() : Arrays.stream(tables.split(",")).map(String::trim).toList();
        java.util.Set<String> accepted = new java.util.LinkedHashSet<>();
        java.util.Set<Integer> local = new java.util.HashSet<>();
        for (ReconcileSourceTask task : tasks) {
            accepted.addAll(task.requestRun(only, "rest"));
            local.add(task.taskId());
        }
        ObjectNode out = SearchSide.JSON.createObjectNode().put("connector", connector).put("requested_at", Instant.now().toString());
        if (!forwarded) {
            // The connector's other tasks may run on other workers: the request goes to them too.
            ArrayNode workers = out.putArray("forwarded_to");
            for (RunForwarding.Answer a : RunForwarding.forward(uri.getBaseUri(), connector, tables,
                    headers.getHeaderString(HttpHeaders.AUTHORIZATION), local)) {
                ObjectNode w = workers.addObject().put("worker", a.worker()).put("status", a.status());
                if (a.error() != null) {
                    w.put("error", a.error());
                }
                if (a.status() == 202 && a.body() != null) {
                    a.body().path("tables").forEach(t -> accepted.add(t.asText()));
                }
            }
        } else if (tasks.isEmpty()) {
            return notHere(connector);
        }
        if (accepted.isEmpty() && only.isEmpty()) {
            return error(Response.Status.NOT_FOUND, "no task of reconciler " + connector + " runs on any worker");
        }
        List<String> unknown = only.stream().filter(t -> !accepted.contains(t)).toList();
        if (!unknown.isEmpty()) {
            return error(Response.Status.NOT_FOUND, "connector " + connector + " reconciles no table " + unknown
                    + (forwarded ? " on this worker" : " on any of its workers"));
        }
        ArrayNode list = out.putArray("tables");
        accepted.forEach(list::add);
        out.put("runs", "/lockstep/reconcile/" + connector + "/runs");
        return Response.status(Response.Status.ACCEPTED).entity(out.toString()).build();
    }

    @POST
    @Path("/{connector}/rebuilds")
    @jakarta.ws.rs.Consumes({MediaType.APPLICATION_JSON, MediaType.WILDCARD})
    public Response rebuild(@PathParam("connector") String connector, @QueryParam("table") @DefaultValue("") String table,
            @QueryParam("forwarded") @DefaultValue("false") boolean forwarded, String body, @Context UriInfo uri,
            @Context HttpHeaders headers) {
        if (table.isBlank()) {
            return error(Response.Status.BAD_REQUEST, "name the table to rebuild: ?table=schema.table");
        }
        IndexRebuild.Changes changes;
        try {
            JsonNode json = body == null || body.isBlank() ? SearchSide.JSON.createObjectNode() : SearchSide.JSON.readTree(body);
            for (String field : List.of("mappings", "settings")) {
                if (json.has(field) && !json.get(field).isObject()) {
                    return error(Response.Status.BAD_REQUEST, "'" + field + "' in the request body must be a JSON object");
                }
            }
            changes = new IndexRebuild.Changes(json.get("mappings"), json.get("settings"));
        } catch (java.io.IOException e) {
            return error(Response.Status.BAD_REQUEST, "the request body is not JSON: " + e.getMessage());
        }
        List<ReconcileSourceTask> tasks = RunRequests.tasks(connector);
        boolean accepted = false;
        java.util.Set<Integer> local = new java.util.HashSet<>();
        for (ReconcileSourceTask task : tasks) {
            accepted |= task.requestRebuild(table, changes);
            local.add(task.taskId());
        }
        ObjectNode out = SearchSide.JSON.createObjectNode().put("connector", connector).put("table", table)
                .put("requested_at", Instant.now().toString());
        if (!accepted && !forwarded) {
            for (RunForwarding.Answer a : RunForwarding.forward(uri.getBaseUri(), connector, "rebuilds?forwarded=true&table="
                    + RunForwarding.encode(table), body == null || body.isBlank() ? null : body, headers.getHeaderString(HttpHeaders.AUTHORIZATION), local)) {
                if (a.status() == 202) {
                    accepted = true;
                    out.put("worker", a.worker());
                }
            }
        }
        if (!accepted) {
            return error(Response.Status.NOT_FOUND, "connector " + connector + " reconciles no table " + table
                    + (forwarded ? " on this worker" : " on any of its workers"));
        }
        out.put("rebuilds", "/lockstep/reconcile/" + connector + "/rebuilds");
        return Response.status(Response.Status.ACCEPTED).entity(out.toString()).build();
    }

    @GET
    @Path("/{connector}/rebuilds")
    public Response rebuilds(@PathParam("connector") String connector) {
        List<ReconcileSourceTask> tasks = RunRequests.tasks(connector);
        if (tasks.isEmpty()) {
            return notHere(connector);
        }
        ArrayNode out = SearchSide.JSON.createArrayNode();
        tasks.forEach(t -> t.rebuilds().forEach(r -> out.add(r.toJson())));
        return Response.ok(out.toString()).build();
    }

    @GET
    @Path("/{connector}/runs")
    public Response runs(@PathParam("connector") String connector, @QueryParam("size") @DefaultValue("20") int size) throws Exception {
        List<ReconcileSourceTask> tasks = RunRequests.tasks(connector);
        if (tasks.isEmpty()) {
            return notHere(connector);
        }
        ObjectNode query = SearchSide.JSON.createObjectNode().put("size", Math.max(1, Math.min(size, 1_000)));
        query.putObject("query").putObject("term").put("connector", connector);
        query.putArray("sort").addObject().put("started_at", "desc");
        query.putArray("_source").add("run_id").add("trigger").add("started_at").add("ended_at").add("verified").add("verified_through")
                .add("table.table").add("table.consistency_score").add("table.error").add("table.mismatches.*.count")
                .add("table.repairs.emitted").add("table.repairs.repaired").add("table.repairs.superseded").add("table.repairs.still_wrong");
        JsonNode hits = audit(tasks.get(0), query);
        ArrayNode out = SearchSide.JSON.createArrayNode();
        hits.forEach(h -> out.add(h.path("_source")));
        return Response.ok(out.toString()).build();
    }

    @GET
    @Path("/{connector}/runs/{runId}")
    public Response report(@PathParam("connector") String connector, @PathParam("runId") String runId) throws Exception {
        List<ReconcileSourceTask> tasks = RunRequests.tasks(connector);
        if (tasks.isEmpty()) {
            return notHere(connector);
        }
        ObjectNode query = SearchSide.JSON.createObjectNode().put("size", 1_000);
        query.putObject("query").putObject("term").put("run_id", runId);
        JsonNode hits = audit(tasks.get(0), query);
        if (hits.isEmpty()) {
            return error(Response.Status.NOT_FOUND, "no run " + runId + " in the audit index");
        }
        ObjectNode out = SearchSide.JSON.createObjectNode().put("run_id", runId);
        ArrayNode tables = out.putArray("tables");
        hits.forEach(h -> {
            JsonNode r = h.path("_source");
            out.put("connector", r.path("connector").asText()).put("trigger", r.path("trigger").asText());
            tables.add(r);
        });
        return Response.ok(out.toString()).build();
    }

    private static JsonNode audit(ReconcileSourceTask task, JsonNode query) throws Exception {
        String index = task.config().getString(ReconcileConfig.AUDIT_INDEX);
        JsonNode response = task.search().search(index, query);
        return response == null ? SearchSide.JSON.createArrayNode() : response.path("hits").path("hits");
    }

    private static Response notHere(String connector) {
        return error(Response.Status.NOT_FOUND, "no task of reconciler " + connector + " runs on this worker; send the request to the "
                + "worker that runs it (GET /connectors/" + connector + "/status)");
    }

    private static Response error(Response.Status status, String message) {
        return Response.status(status).entity(SearchSide.JSON.createObjectNode().put("error_code", status.getStatusCode())
                .put("message", message).toString()).build();
    }
}
