package dev.lockstep.sink.metrics;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * The one Prometheus registry of the Lockstep bundle in a worker. Connectors, tasks and the REST extension are
 * loaded by the same plugin class loader, so they all see this registry, and the worker's {@code /metrics}
 * serves every Lockstep meter of that worker, the transforms' included ({@link TransformMetrics}).
 */
public final class LockstepMetrics {
    private static final PrometheusMeterRegistry REGISTRY = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    static {
        // The transforms (in Debezium's tasks too) count rejected records in the same class loader; show them here.
        TransformMetrics.bind(REGISTRY);
    }

    private LockstepMetrics() {
    }

    public static PrometheusMeterRegistry registry() {
        return REGISTRY;
    }
}
