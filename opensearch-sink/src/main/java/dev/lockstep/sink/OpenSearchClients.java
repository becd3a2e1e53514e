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
        HttpHost[] hosts = config.urls().stream().map(OpenSearchClients::host).toArray(HttpHost[]::new);
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

    static HttpHost host(URI uri) {
        int port = uri.getPort() != -1 ? uri.getPort() : uri.getScheme().equals("https") ? 443 : 80;
        return new HttpHost(uri.getScheme(), uri.getHost(), port);
    }
}
