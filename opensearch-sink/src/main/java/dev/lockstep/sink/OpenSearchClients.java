package dev.lockstep.sink;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.auth.AuthScope;
import org.apache.hc.client5.http.auth.UsernamePasswordCredentials;
import org.apache.hc.client5.http.impl.auth.BasicCredentialsProvider;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.util.Timeout;
import org.opensearch.client.json.jackson.JacksonJsonpMapper;
import org.opensearch.client.opensearch.OpenSearchClient;
import org.opensearch.client.transport.httpclient5.ApacheHttpClient5TransportBuilder;

/** Builds the opensearch-java client from the sink's connection options. */
final class OpenSearchClients {
    private OpenSearchClients() {
    }

    static OpenSearchClient create(OpenSearchSinkConfig config) {
        return create(config, config.urls().toArray(URI[]::new));
    }

    /** A client for some of the configured nodes (validation checks them one by one). */
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
        ApacheHttpClient5TransportBuilder builder = ApacheHttpClient5TransportBuilder.builder(hosts)
                .setMapper(new JacksonJsonpMapper(new ObjectMapper()))
                .setConnectionConfigCallback(c -> c.setConnectTimeout(connectTimeoutMs, TimeUnit.MILLISECONDS))
                .setRequestConfigCallback(r -> r.setResponseTimeout(Timeout.ofMilliseconds(readTimeoutMs)))
                .setHttpClientConfigCallback(http -> http.setDefaultCredentialsProvider(credentials));
        return new OpenSearchClient(builder.build());
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
    static String describe(Throwable e) {
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
