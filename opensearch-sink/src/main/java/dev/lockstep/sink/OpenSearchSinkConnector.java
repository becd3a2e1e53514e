package dev.lockstep.sink;

import java.util.List;
import java.util.Map;
import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.common.config.types.Password;
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
        OpenSearchSinkConfig config = new OpenSearchSinkConfig(props); // fail fast on a bad config
        try {
            Tls.sslContext(config); // and on a trust store that cannot be used
        } catch (Tls.TrustStoreException e) {
            throw new ConfigException((e.problem == Tls.TrustStoreException.Problem.WRONG_PASSWORD
                    ? OpenSearchSinkConfig.SSL_TRUSTSTORE_PASSWORD : OpenSearchSinkConfig.SSL_TRUSTSTORE_LOCATION) + ": " + e.getMessage());
        }
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
        validateConnection(config, connectorConfigs);
        return config;
    }

    /**
     * The checks of the connection options ({@link OpenSearchSinkConfig#defineConnection}) that involve more than one
     * field or the node itself, for every connector that defines them: user and password together, the trust store,
     * and (when every field is valid and validate.connection is on) a request to each node with the credentials.
     */
    public static void validateConnection(Config config, Map<String, String> connectorConfigs) {
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
        checkTrustStore(config);
        boolean valid = config.configValues().stream().allMatch(v -> v.errorMessages().isEmpty());
        if (valid) {
            Map<String, String> connection = new java.util.HashMap<>();
            connectorConfigs.forEach((k, v) -> {
                if (k.startsWith("connection.") || k.equals(OpenSearchSinkConfig.VALIDATE_CONNECTION)) {
                    connection.put(k, v);
                }
            });
            OpenSearchSinkConfig sinkConfig = new OpenSearchSinkConfig(connection);
            if (sinkConfig.getBoolean(OpenSearchSinkConfig.VALIDATE_CONNECTION)) {
                checkConnection(sinkConfig, config);
            }
        }
    }

    /**
     * The trust store against the URLs (it only serves https://) and the file itself (readable, right format and
     * password, with certificates in it): each problem on the option to fix. Runs on the worker that validates.
     */
    private static void checkTrustStore(Config config) {
        ConfigValue location = find(config, OpenSearchSinkConfig.SSL_TRUSTSTORE_LOCATION);
        ConfigValue password = find(config, OpenSearchSinkConfig.SSL_TRUSTSTORE_PASSWORD);
        ConfigValue type = find(config, OpenSearchSinkConfig.SSL_TRUSTSTORE_TYPE);
        ConfigValue urls = find(config, OpenSearchSinkConfig.CONNECTION_URL);
        if (!location.errorMessages().isEmpty() || !type.errorMessages().isEmpty()) {
            return;
        }
        String path = location.value() == null ? "" : location.value().toString().trim();
        if (path.isEmpty()) {
            if (password.value() != null) {
                password.addErrorMessage(OpenSearchSinkConfig.SSL_TRUSTSTORE_PASSWORD + " is set, but "
                        + OpenSearchSinkConfig.SSL_TRUSTSTORE_LOCATION + " is not: set both, or neither for the JVM's default trust");
            }
            return;
        }
        if (urls.errorMessages().isEmpty() && urls.value() instanceof List<?> list
                && list.stream().noneMatch(u -> u.toString().trim().toLowerCase(Locale.ROOT).startsWith("https://"))) {
            location.addErrorMessage("a trust store is used only for https:// URLs, and " + OpenSearchSinkConfig.CONNECTION_URL
                    + " has none (" + String.join(", ", list.stream().map(Object::toString).toList()) + "): use https:// for "
                    + "nodes that serve HTTPS, or remove " + OpenSearchSinkConfig.SSL_TRUSTSTORE_LOCATION);
            return;
        }
        try {
            Tls.loadTrustStore(Path.of(path), OpenSearchSinkConfig.TrustStoreType.valueOf(type.value().toString().toUpperCase(Locale.ROOT)),
                    (Password) password.value());
        } catch (Tls.TrustStoreException e) {
            (e.problem == Tls.TrustStoreException.Problem.WRONG_PASSWORD ? password : location).addErrorMessage(e.getMessage());
        }
    }

    /** Asks every configured node who it is, with the configured credentials; puts what fails on the field to fix. */
    private static void checkConnection(OpenSearchSinkConfig sinkConfig, Config config) {
        for (URI url : sinkConfig.urls()) {
            OpenSearchClient client = OpenSearchClients.create(sinkConfig, url);
            try {
                client.info();
            } catch (OpenSearchException e) {
                connectionError(config, url, e.status(), e.getMessage(), sinkConfig.username() != null);
            } catch (IOException | RuntimeException e) {
                int status = OpenSearchClients.statusOf(e);
                if (status > 0) {
                    connectionError(config, url, status, e.getMessage(), sinkConfig.username() != null);
                } else if (!tlsError(config, sinkConfig, url, e)) {
                    find(config, OpenSearchSinkConfig.CONNECTION_URL).addErrorMessage("cannot reach OpenSearch at " + url
                            + ": " + OpenSearchClients.describe(e) + plainOrTlsHint(url, e));
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

    /** A certificate the trust store does not trust, or one for another host: reported on the option to fix. */
    private static boolean tlsError(Config config, OpenSearchSinkConfig sinkConfig, URI url, Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof Tls.UntrustedCertificateException u) {
                String fix = sinkConfig.trustStoreLocation() == null
                        ? "set " + OpenSearchSinkConfig.SSL_TRUSTSTORE_LOCATION + " to a trust store with the certificate of the CA "
                                + "that issued it (e.g. the node's root-ca.pem with " + OpenSearchSinkConfig.SSL_TRUSTSTORE_TYPE + "=PEM)"
                        : "add the certificate of the CA that issued it to the trust store, or point "
                                + OpenSearchSinkConfig.SSL_TRUSTSTORE_LOCATION + " to the right one";
                find(config, OpenSearchSinkConfig.SSL_TRUSTSTORE_LOCATION).addErrorMessage("OpenSearch at " + url
                        + " presented a certificate that is not trusted by " + u.trustSource + ": subject " + u.subject
                        + ", issued by " + u.issuer + " (" + u.reason + "); " + fix);
                return true;
            }
            if (t instanceof Tls.HostnameMismatchException h) {
                find(config, OpenSearchSinkConfig.CONNECTION_URL).addErrorMessage("the certificate of OpenSearch at " + url
                        + " does not match the host name " + h.host + ": it is for " + String.join(", ", h.names)
                        + ". Use a URL with one of those names, or set " + OpenSearchSinkConfig.SSL_HOSTNAME_VERIFICATION
                        + "=false to accept a certificate the trust store trusts whatever host it names");
                return true;
            }
        }
        return false;
    }

    /** The common mix-ups of http:// and https://, recognised by what the TLS layer or the socket said. */
    private static String plainOrTlsHint(URI url, Throwable e) {
        String all = chain(e);
        if (url.getScheme().equals("https") && (all.contains("Unrecognized SSL message") || all.contains("unrecognized SSL message"))) {
            return " (the node does not answer TLS: if it serves plain HTTP, use http://)";
        }
        if (url.getScheme().equals("http") && (all.contains("Connection reset") || all.contains("closed") || all.contains("Connection closed"))) {
            return " (if the node serves HTTPS, use https://)";
        }
        return "";
    }

    private static String chain(Throwable e) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            all.append(t.getClass().getName()).append(": ").append(t.getMessage()).append('\n');
        }
        return all.toString();
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
