package dev.lockstep.sink.metrics;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import java.util.Map;
import org.apache.kafka.connect.rest.ConnectRestExtension;
import org.apache.kafka.connect.rest.ConnectRestExtensionContext;

/**
 * Serves Lockstep's meters in Prometheus text format at {@code GET /metrics} on the worker's REST port. Enable it
 * in the worker properties: {@code rest.extension.classes=dev.lockstep.sink.metrics.MetricsRestExtension}.
 */
public class MetricsRestExtension implements ConnectRestExtension {

    @Override
    public void register(ConnectRestExtensionContext context) {
        context.configurable().register(new MetricsResource());
    }

    @Override
    public void configure(Map<String, ?> configs) {
    }

    @Override
    public void close() {
    }

    @Override
    public String version() {
        String v = getClass().getPackage().getImplementationVersion();
        return v == null ? "unknown" : v;
    }

    @Path("/metrics")
    public static class MetricsResource {
        @GET
        @Produces("text/plain; version=0.0.4; charset=utf-8")
        public String scrape() {
            return LockstepMetrics.registry().scrape();
        }
    }
}
