package dev.lockstep.sink.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SinkMetricsTest {

    @Test
    void bufferedRecordsGaugeKeepsReadingAfterGarbageCollection() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (SinkMetrics metrics = new SinkMetrics(registry, "c", "0")) {
            AtomicInteger buffered = new AtomicInteger(7);
            metrics.bufferedRecords(buffered::get); // a fresh object that only the gauge holds, like the task's pipeline::buffered
            for (int i = 0; i < 3; i++) {
                System.gc(); // a weakly held gauge object would be cleared here and the gauge read NaN
            }
            buffered.set(9);
            assertThat(registry.get("lockstep.sink.buffered.records").gauge().value()).isEqualTo(9.0);
        }
        assertThat(registry.find("lockstep.sink.buffered.records").gauge()).as("removed with the task").isNull();
    }
}
