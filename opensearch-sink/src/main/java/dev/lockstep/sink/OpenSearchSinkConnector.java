package dev.lockstep.sink;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.sink.SinkConnector;
import org.opensearch.client.opensearch.OpenSearchClient;
import org.opensearch.client.opensearch._types.OpenSearchException;
import java.io.IOException;

/** Keeps OpenSearch indices in step with topics of search documents (see {@link OpenSearchSinkTask}). */
public class OpenSearchSinkConnector extends SinkConnector {
    /** Added to each task's config: the task's number, for its metrics' tags. */
    static final String TASK_ID = "lockstep.task.id";

    private Map<String, String> props;

    @Override
    public void start(Map<String, String> props) {
        new OpenSearchSinkConfig(props); // fail fast on a bad config
        this.props = Map.copyOf(props);
    }

    @Override
    public Class<? extends Task> taskClass() {
        return OpenSearchSinkTask.class;
    }

    @Override
    public List<Map<String, String>> taskConfigs(int maxTasks) {
        List<Map<String, String>> configs = new java.util.ArrayList<>(maxTasks);
        for (int i = 0; i < maxTasks; i++) {
            Map<String, String> task = new java.util.HashMap<>(props);
            task.put(TASK_ID, Integer.toString(i));
            configs.add(task);
        }
        return configs;
    }

    @Override
    public void stop() {
    }

    @Override
    public ConfigDef config() {
        return OpenSearchSinkConfig.CONFIG_DEF;
    }

    /** Adds the checks that involve more than one field to the per-field validation. */
    @Override
    public Config validate(Map<String, String> connectorConfigs) {
        Config config = super.validate(connectorConfigs);
        ConfigValue user = find(config, OpenSearchSinkConfig.CONNECTION_USERNAME);
        ConfigValue password = find(config, OpenSearchSinkConfig.CONNECTION_PASSWORD);
        boolean hasUser = user.value() != null && !user.value().toString().isBlank();
        boolean hasPassword = password.value() != null;
        if (hasUser && !hasPassword) {
            password.addErrorMessage(OpenSearchSinkConfig.CONNECTION_PASSWORD + " is required when "
                    + OpenSearchSinkConfig.CONNECTION_USERNAME + " is set");
        } else if (!hasUser && hasPassword) {
            user.addErrorMessage(OpenSearchSinkConfig.CONNECTION_USERNAME + " is required when "
                    + OpenSearchSinkConfig.CONNECTION_PASSWORD + " is set");
        }
        boolean valid = config.configValues().stream().allMatch(v -> v.errorMessages().isEmpty());
        if (valid) {
            OpenSearchSinkConfig sinkConfig = new OpenSearchSinkConfig(connectorConfigs);
            if (sinkConfig.getBoolean(OpenSearchSinkConfig.VALIDATE_CONNECTION)) {
                checkConnection(sinkConfig, config);
            }
        }
        return config;
    }

    /** Asks every configured node who it is, with the configured credentials; puts what fails on the field to fix. */
    private static void checkConnection(OpenSearchSinkConfig sinkConfig, Config config) {
        for (java.net.URI url : sinkConfig.urls()) {
            OpenSearchClient client = OpenSearchClients.create(sinkConfig, url);
            try {
                client.info();
            } catch (OpenSearchException e) {
                connectionError(config, url, e.status(), e.getMessage(), sinkConfig.username() != null);
            } catch (IOException | RuntimeException e) {
                int status = OpenSearchClients.statusOf(e);
                if (status > 0) {
                    connectionError(config, url, status, e.getMessage(), sinkConfig.username() != null);
                } else {
                    find(config, OpenSearchSinkConfig.CONNECTION_URL).addErrorMessage("cannot reach OpenSearch at " + url
                            + ": " + OpenSearchClients.describe(e));
                }
            } finally {
                try {
                    client._transport().close();
                } catch (IOException ignored) {
                    // validation only
                }
            }
        }
    }

    private static void connectionError(Config config, java.net.URI url, int status, String message, boolean hasUser) {
        if (status == 401) {
            find(config, hasUser ? OpenSearchSinkConfig.CONNECTION_PASSWORD : OpenSearchSinkConfig.CONNECTION_USERNAME)
                    .addErrorMessage("OpenSearch at " + url + " refused the credentials (401 Unauthorized)"
                            + (hasUser ? ": check connection.username and connection.password"
                                    : ": it requires connection.username and connection.password"));
        } else if (status == 403) {
            find(config, OpenSearchSinkConfig.CONNECTION_USERNAME).addErrorMessage("OpenSearch at " + url
                    + " accepted the user but denied access (403 Forbidden): " + message);
        } else {
            find(config, OpenSearchSinkConfig.CONNECTION_URL).addErrorMessage("OpenSearch at " + url + " answered status "
                    + status + ": " + message);
        }
    }

    private static ConfigValue find(Config config, String name) {
        return config.configValues().stream().filter(v -> v.name().equals(name)).findFirst().orElseThrow();
    }

    @Override
    public String version() {
        return Versions.lockstep();
    }
}
