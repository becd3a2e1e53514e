package dev.lockstep.sink;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.opensearch.client.opensearch.OpenSearchClient;
import org.opensearch.client.opensearch.generic.Body;
import org.opensearch.client.opensearch.generic.Request;
import org.opensearch.client.opensearch.generic.Requests;
import org.opensearch.client.opensearch.generic.Response;

/** Raw JSON requests through the client's generic API: every mapping type and index API passes as written. */
final class GenericRequests {
    private GenericRequests() {
    }

    static Response send(OpenSearchClient client, String method, String endpoint, String body) throws IOException {
        Request request = body == null
                ? Requests.builder().method(method).endpoint(endpoint).build()
                : Requests.builder().method(method).endpoint(endpoint).body(Body.from(body.getBytes(StandardCharsets.UTF_8), "application/json")).build();
        return client.generic().execute(request);
    }

    static String bodyText(Response response) {
        Optional<Body> body = response.getBody();
        return body.map(b -> new String(b.bodyAsBytes(), StandardCharsets.UTF_8)).orElse("");
    }
}
