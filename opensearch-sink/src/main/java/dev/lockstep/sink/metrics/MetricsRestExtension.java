package dev.lockstep.sink.metrics;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import java.util.Map;
import org.apache.kafka.connect.rest.ConnectRestExtension;
import org.apache.kafka.connect.rest.ConnectRestExtensionContext;

/**
 * The bundle's REST extension: serves Lockstep's meters in Prometheus text format at {@code GET /metrics} on the
 * worker's REST port, and the reconciler's resource ({@code /lockstep/reconcile}, on-demand runs and reports) when the
 * bundle has it. Enable it in the worker properties:
 * {@code rest.extension.classes=dev.lockstep.sink.metrics.MetricsRestExtension}. Both are registered on the worker's
 * own REST application, so a security extension of the worker (e.g. BasicAuthSecurityRestExtension) guards them too.
 */
public class MetricsRestExtension implements ConnectRestExtension {
    static final String RECONCILE_RESOURCE = "dev.lockstep.reconcile.ReconcileResource";

    @Override
    public void register(ConnectRestExtensionContext context) {
        context.configurable().register(new MetricsResource());
        try {
            // The reconciler ships in the same bundle (one class loader); without it, only /metrics is served.
            context.configurable().register(Class.forName(RECONCILE_RESOURCE, true, getClass().getClassLoader()));
        } catch (ClassNotFoundException notInTheBundle) {
            // nothing to register
        }
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
