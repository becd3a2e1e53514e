package dev.lockstep.it;

import com.fasterxml.jackson.core.type.TypeReference;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.awaitility.Awaitility;

/** Registers connectors from the repository's config/ files through the Connect REST API. */
public final class Connectors {
    private final String connectUrl;
    private final Path configDir;

    public Connectors(LocalStack stack) {
        this.connectUrl = stack.connectUrl();
        this.configDir = stack.repo().resolve("config/connectors");
    }

    /** The connector config a user would PUT, from config/connectors/{file}.json. */
    public Map<String, String> fromFile(String file) {
        try {
            return Http.JSON.readValue(configDir.resolve(file + ".json").toFile(), new TypeReference<LinkedHashMap<String, String>>() {
            });
        } catch (IOException e) {
            throw new IllegalStateException("cannot read connector config " + file, e);
        }
    }

    public void create(String name, Map<String, String> config) {
        Http.Response r = Http.put(connectUrl + "/connectors/" + name + "/config", config);
        if (r.status() != 200 && r.status() != 201) {
            throw new IllegalStateException("PUT connector " + name + " answered " + r.status() + ": " + r.text());
        }
    }

    public void awaitRunning(String name) {
        Awaitility.await("connector " + name + " and its task RUNNING").atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(500)).until(() -> {
                    Http.Response r = Http.get(connectUrl + "/connectors/" + name + "/status");
                    if (r.status() != 200) {
                        return false;
                    }
                    String connectorState = r.body().path("connector").path("state").asText();
                    var tasks = r.body().path("tasks");
                    for (var task : tasks) {
                        if (task.path("state").asText().equals("FAILED")) {
                            throw new AssertionError("task of " + name + " FAILED: " + task.path("trace").asText());
                        }
                    }
                    return connectorState.equals("RUNNING") && tasks.size() > 0
                            && tasks.get(0).path("state").asText().equals("RUNNING");
                });
    }

    public Http.Response validate(String connectorClass, Map<String, String> config) {
        return Http.put(connectUrl + "/connector-plugins/" + connectorClass + "/config/validate", config);
    }

    public void deleteQuietly(String name) {
        try {
            Http.delete(connectUrl + "/connectors/" + name);
        } catch (RuntimeException ignored) {
            // best effort: the stack may already be gone
        }
    }
}
