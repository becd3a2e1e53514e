package dev.lockstep.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The reconciler's REST resource is guarded exactly like the worker's own API: a second worker, started like the
 * stack's (same JVM, classpath and plugins, its own group and topics), with Kafka's BasicAuthSecurityRestExtension
 * next to Lockstep's extension, refuses a trigger without credentials or with wrong ones, and serves it with them.
 */
@ExtendWith(StackExtension.class)
class ReconcileRestAuthIT {
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void anUnauthenticatedTriggerIsRefused(LocalStack stack) throws Exception {
        String run = "auth" + Long.toString(System.currentTimeMillis() % 100_000_000L, 36);
        Path dir = Files.createTempDirectory("lockstep-" + run);
        Path credentials = dir.resolve("credentials.properties");
        Files.writeString(credentials, "operator: s3cret-pass\n");
        Path jaas = dir.resolve("jaas.conf");
        Files.writeString(jaas, "KafkaConnect {\n  org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required\n  file=\""
                + credentials + "\";\n};\n");
        // A cluster of its own (group and topics), with Kafka's BasicAuthSecurityRestExtension next to Lockstep's.
        ExtraWorker worker = new ExtraWorker(stack, run, 28_183, line -> {
            String key = line.contains("=") ? line.substring(0, line.indexOf('=')).trim() : "";
            return switch (key) {
                case "group.id" -> "group.id=" + run;
                case "config.storage.topic", "offset.storage.topic", "status.storage.topic" -> line.trim() + "-" + run;
                case "rest.extension.classes" -> "rest.extension.classes="
                        + "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension,"
                        + "dev.lockstep.sink.metrics.MetricsRestExtension";
                default -> line;
            };
        }, List.of("-Djava.security.auth.login.config=" + jaas));
        String base = worker.url;
        String good = "Basic " + Base64.getEncoder().encodeToString("operator:s3cret-pass".getBytes(StandardCharsets.UTF_8));
        String bad = "Basic " + Base64.getEncoder().encodeToString("operator:guess".getBytes(StandardCharsets.UTF_8));
        try {
            worker.awaitUp(java.util.Map.of("Authorization", good));
            String trigger = base + "/lockstep/reconcile/lockstep-reconciler/runs";
            assertThat(status("POST", trigger, null)).isEqualTo(401);
            assertThat(status("POST", trigger, bad)).isEqualTo(401);
            assertThat(status("GET", base + "/lockstep/reconcile", null)).isEqualTo(401);
            assertThat(status("GET", base + "/metrics", null)).isEqualTo(401);
            assertThat(status("GET", base + "/connectors", null)).isEqualTo(401);
            // With credentials the request reaches the resource (this worker runs no reconciler task: 404, ours).
            assertThat(status("POST", trigger, good)).isEqualTo(404);
            assertThat(status("GET", base + "/lockstep/reconcile", good)).isEqualTo(200);
            assertThat(status("GET", base + "/metrics", good)).isEqualTo(200);
        } finally {
            worker.close();
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    private static int status(String method, String url, String authorization) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return CLIENT.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
