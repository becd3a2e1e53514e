package dev.lockstep.reconcile;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Carries a run or rebuild request to the other workers that run the connector's tasks: the worker that received it asks its
 * own REST API for the connector's status (which names each task's worker), then sends the request on to each other
 * worker once, marked as forwarded so it goes no further. The caller's {@code Authorization} header goes with both
 * requests, so the workers' security extension judges them as it judged the original.
 */
final class RunForwarding {
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** What one other worker answered. */
    record Answer(String worker, int status, JsonNode body, String error) {
    }

    private RunForwarding() {
    }

    /**
     * Forwards to every worker, other than this one, that runs a task of the connector not among {@code localTasks}.
     * {@code self} is this worker's REST base URI as the caller reached it.
     */
    static List<Answer> forward(URI self, String connector, String tables, String authorization, Set<Integer> localTasks) {
        return forward(self, connector, "runs?forwarded=true" + (tables.isBlank() ? "" : "&tables=" + encode(tables)), null, authorization,
                localTasks);
    }

    /** Forwards a POST of {@code resource} (relative to the connector's path, query included) with its JSON body, if any. */
    static List<Answer> forward(URI self, String connector, String resource, String body, String authorization, Set<Integer> localTasks) {
        Set<String> workers = new LinkedHashSet<>();
        try {
            JsonNode status = send(self.resolve("connectors/" + encode(connector) + "/status"), "GET", authorization);
            for (JsonNode task : status.path("tasks")) {
                if (!localTasks.contains(task.path("id").asInt()) && task.hasNonNull("worker_id")) {
                    workers.add(task.path("worker_id").asText());
                }
            }
        } catch (Exception e) {
            return List.of(new Answer(self.toString(), 0, null, "cannot read the connector's status to find its other workers: " + e));
        }
        List<Answer> answers = new java.util.ArrayList<>();
        for (String worker : workers) {
            URI target = URI.create(self.getScheme() + "://" + worker + "/lockstep/reconcile/" + encode(connector) + "/" + resource);
            try {
                HttpResponse<String> r = CLIENT.send(request(target, "POST", authorization, body), HttpResponse.BodyHandlers.ofString());
                answers.add(new Answer(worker, r.statusCode(), r.body().isBlank() ? null : SearchSide.JSON.readTree(r.body()), null));
            } catch (Exception e) {
                answers.add(new Answer(worker, 0, null, e.toString()));
            }
        }
        return answers;
    }

    private static JsonNode send(URI uri, String method, String authorization) throws Exception {
        HttpResponse<String> r = CLIENT.send(request(uri, method, authorization, null), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException(method + " " + uri + ": HTTP " + r.statusCode() + " " + r.body());
        }
        return SearchSide.JSON.readTree(r.body());
    }

    private static HttpRequest request(URI uri, String method, String authorization, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(15))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return b.build();
    }

    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
