package dev.lockstep.sink.metrics;

import dev.lockstep.smt.RejectedRecordCounts;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.LongAdder;

/**
 * The transforms' meters: {@code lockstep_transform_rejected_records_total{transform, table, reason, handling}},
 * records a transform could not turn into a document, sent to its errors.topic ({@code handling="errors_topic"}) or
 * thrown for Connect's errors.tolerance ({@code handling="thrown"}, in a sink's chain). The transforms count in
 * {@link RejectedRecordCounts} (they run in Debezium's task and need no registry); this binds each count, as it
 * appears, to the bundle's registry, which the worker's {@code /metrics} serves.
 */
final class TransformMetrics {
    static final String REJECTED = "lockstep.transform.rejected.records";

    private TransformMetrics() {
    }

    static void bind(MeterRegistry registry) {
        RejectedRecordCounts.subscribe((key, count) -> FunctionCounter.builder(REJECTED, count, LongAdder::doubleValue)
                .description("Records a Lockstep transform could not turn into a search document, by table, reason and "
                        + "handling (errors_topic: sent to its errors.topic; thrown: left to Connect's errors.tolerance)")
                .tags("transform", key.transform(), "table", key.table(), "reason", key.reason(), "handling", key.handling())
                .register(registry));
    }
}
