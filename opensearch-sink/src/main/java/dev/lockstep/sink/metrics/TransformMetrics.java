package dev.lockstep.sink.metrics;

import dev.lockstep.smt.DeadLetterCounts;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.LongAdder;

/**
 * The transforms' meters: {@code lockstep_transform_dead_letter_records_total{transform, table, reason}}, records a
 * transform could not turn into a document and sent to its dead-letter topic. The transforms count in
 * {@link DeadLetterCounts} (they run in Debezium's task and need no registry); this binds each count, as it appears,
 * to the bundle's registry, which the worker's {@code /metrics} serves.
 */
final class TransformMetrics {
    static final String DEAD_LETTERS = "lockstep.transform.dead.letter.records";

    private TransformMetrics() {
    }

    static void bind(MeterRegistry registry) {
        DeadLetterCounts.subscribe((key, count) -> FunctionCounter.builder(DEAD_LETTERS, count, LongAdder::doubleValue)
                .description("Records a Lockstep transform could not turn into a search document and sent to its "
                        + "dead-letter topic (errors.topic), by table and reason")
                .tags("transform", key.transform(), "table", key.table(), "reason", key.reason())
                .register(registry));
    }
}
