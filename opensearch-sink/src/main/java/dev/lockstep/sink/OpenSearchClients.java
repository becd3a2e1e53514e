package dev.lockstep.sink;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.auth.AuthScope;
import org.apache.hc.client5.http.auth.UsernamePasswordCredentials;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.impl.auth.BasicCredentialsProvider;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManager;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManagerBuilder;
import org.apache.hc.client5.http.ssl.ClientTlsStrategyBuilder;
import org.apache.hc.client5.http.ssl.HostnameVerificationPolicy;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.nio.ssl.TlsStrategy;
import org.apache.hc.core5.util.Timeout;
import org.apache.kafka.common.config.ConfigException;
import org.opensearch.client.json.jackson.JacksonJsonpMapper;
import org.opensearch.client.opensearch.OpenSearchClient;
import org.opensearch.client.transport.httpclient5.ApacheHttpClient5TransportBuilder;

/** Builds the opensearch-java client from the sink's connection options. */
public final class OpenSearchClients {
    private OpenSearchClients() {
    }

    public static OpenSearchClient create(OpenSearchSinkConfig config) {
        return create(config, config.urls().toArray(URI[]::new));
    }

    /**
     * A client for some of the configured nodes (validation checks them one by one). A trust store that cannot be
     * used is a {@link ConfigException} on the option to fix.
     */
    static OpenSearchClient create(OpenSearchSinkConfig config, URI... urls) {
        HttpHost[] hosts = java.util.Arrays.stream(urls).map(OpenSearchClients::host).toArray(HttpHost[]::new);
        int connectTimeoutMs = config.getInt(OpenSearchSinkConfig.CONNECTION_TIMEOUT_MS);
        int readTimeoutMs = config.getInt(OpenSearchSinkConfig.READ_TIMEOUT_MS);
        String user = config.username();
        BasicCredentialsProvider credentials = new BasicCredentialsProvider();
        if (user != null) {
            char[] password = config.password() == null ? new char[0] : config.password().value().toCharArray();
            for (HttpHost host : hosts) {
                credentials.setCredentials(new AuthScope(host), new UsernamePasswordCredentials(user, password));
            }
        }
        PoolingAsyncClientConnectionManager connections = connectionManager(config, connectTimeoutMs);
        ApacheHttpClient5TransportBuilder builder = ApacheHttpClient5TransportBuilder.builder(hosts)
                .setMapper(new JacksonJsonpMapper(new ObjectMapper()))
                .setRequestConfigCallback(r -> r.setResponseTimeout(Timeout.ofMilliseconds(readTimeoutMs)))
                .setHttpClientConfigCallback(http -> http.setDefaultCredentialsProvider(credentials).setConnectionManager(connections));
        return new OpenSearchClient(builder.build());
    }

    /**
     * The transport builder's connection pool (same sizes and socket timeout), with our TLS: the trust store, and
     * host names checked by httpclient (not by the JDK), so that a trust failure and a host name mismatch fail
     * differently and each can be reported on its own option.
     */
    private static PoolingAsyncClientConnectionManager connectionManager(OpenSearchSinkConfig config, int connectTimeoutMs) {
        TlsStrategy tls;
        try {
            tls = ClientTlsStrategyBuilder.create()
                    .setSslContext(Tls.sslContext(config))
                    .setHostVerificationPolicy(HostnameVerificationPolicy.CLIENT)
                    .setHostnameVerifier(Tls.hostnameVerifier(config.hostnameVerification()))
                    .buildAsync();
        } catch (Tls.TrustStoreException e) {
            String option = e.problem == Tls.TrustStoreException.Problem.WRONG_PASSWORD
                    ? OpenSearchSinkConfig.SSL_TRUSTSTORE_PASSWORD : OpenSearchSinkConfig.SSL_TRUSTSTORE_LOCATION;
            // No value in the exception: for the password it would be the secret itself.
            throw new ConfigException(option + ": " + e.getMessage());
        }
        return PoolingAsyncClientConnectionManagerBuilder.create()
                .setTlsStrategy(tls)
                .setMaxConnPerRoute(ApacheHttpClient5TransportBuilder.DEFAULT_MAX_CONN_PER_ROUTE)
                .setMaxConnTotal(ApacheHttpClient5TransportBuilder.DEFAULT_MAX_CONN_TOTAL)
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setConnectTimeout(connectTimeoutMs, TimeUnit.MILLISECONDS)
                        .setSocketTimeout(ApacheHttpClient5TransportBuilder.DEFAULT_RESPONSE_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
                        .build())
                .build();
    }

    /** The HTTP status behind a transport failure, or 0 when it never got an answer. */
    static int statusOf(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof org.opensearch.client.transport.httpclient5.ResponseException r) {
                return r.status();
            }
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("status(?: code)?:? (\\d{3})").matcher(String.valueOf(t.getMessage()));
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
        }
        return 0;
    }

    /** The innermost cause's message: what a user can act on (refused, unknown host, certificate, ...). */
    public static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + ": " + root.getMessage();
    }

    static HttpHost host(URI uri) {
        int port = uri.getPort() != -1 ? uri.getPort() : uri.getScheme().equals("https") ? 443 : 80;
        return new HttpHost(uri.getScheme(), uri.getHost(), port);
    }
}
