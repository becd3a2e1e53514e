package dev.lockstep.it;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Small JSON-over-HTTP client for the Connect REST API and OpenSearch, as a user's curl would do. */
public final class Http {
    /** Keeps numbers exactly as written ("19.90" stays 19.90), so documents and rows compare digit for digit. */
    public static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .setNodeFactory(JsonNodeFactory.withExactBigDecimals(true));
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public record Response(int status, JsonNode body, String text) {
    }

    private Http() {
    }

    public static Response get(String url) {
        return send("GET", url, null);
    }

    /** A GET that accepts any content type, as Prometheus or curl would send it. */
    public static Response getAny(String url) {
        try {
            HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                    .header("Accept", "*/*").GET().build(), HttpResponse.BodyHandlers.ofString());
            return new Response(r.statusCode(), null, r.body());
        } catch (IOException e) {
            throw new IllegalStateException("GET " + url + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static Response put(String url, Object body) {
        return send("PUT", url, body);
    }

    public static Response post(String url, Object body) {
        return send("POST", url, body);
    }

    /**
     * The mappings of an index or alias ({@code GET /<name>/_mapping} answers by concrete index: {@code products_v1}
     * for the alias {@code products}).
     */
    public static JsonNode mappings(String openSearchUrl, String name) {
        java.util.Iterator<JsonNode> indices = get(openSearchUrl + "/" + name + "/_mapping").body().elements();
        return indices.hasNext() ? indices.next().path("mappings") : JSON.createObjectNode();
    }

    /** Deletes an index by its name or alias: the indices behind an alias are deleted (DELETE does not take an alias). */
    public static void deleteIndex(String openSearchUrl, String name) {
        Response aliased = get(openSearchUrl + "/_alias/" + name);
        if (aliased.status() == 200) {
            aliased.body().fieldNames().forEachRemaining(index -> delete(openSearchUrl + "/" + index));
        } else {
            delete(openSearchUrl + "/" + name);
        }
    }

    public static Response delete(String url) {
        return send("DELETE", url, null);
    }

    public static Response send(String method, String url, Object body) {
        try {
            String payload = body == null ? null : body instanceof String s ? s : JSON.writeValueAsString(body);
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                    .header("Accept", "application/json")
                    .method(method, payload == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(payload));
            if (payload != null) {
                request.header("Content-Type", "application/json");
            }
            HttpResponse<String> response = CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
            String text = response.body();
            JsonNode json = null;
            if (text != null && !text.isBlank()) {
                try {
                    json = JSON.readTree(text);
                } catch (IOException notJson) {
                    json = null;
                }
            }
            return new Response(response.statusCode(), json, text);
        } catch (IOException e) {
            throw new IllegalStateException(method + " " + url + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
