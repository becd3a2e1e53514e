package dev.lockstep.sink.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The sink task's meters, tagged by connector and task (and index where it applies). Names, as Prometheus
 * shows them, start with {@code lockstep_sink_}; see docs/metrics.md for the list. A task removes its meters when it
 * stops, so a worker never reports series of tasks it no longer runs.
 */
public final class SinkMetrics implements AutoCloseable {
    /**
     * Buckets of the end-to-end latency (and of bulk latency), in milliseconds: steps of 10–25% from 5 ms to five
     * minutes, so quantiles interpolated between them are good to a few percent, and 100 ms and 250 ms (the
     * targets in docs/benchmarks.md) are exact bounds.
     */
    static final Duration[] LATENCY_BUCKETS = java.util.stream.LongStream.of(
            5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 60, 70, 80, 90, 100, 115, 130, 150, 175, 200, 225, 250, 300, 350, 400,
            450, 500, 600, 700, 800, 900, 1_000, 1_250, 1_500, 1_750, 2_000, 2_500, 3_000, 3_500, 4_000, 5_000, 6_000,
            7_000, 8_000, 10_000, 12_500, 15_000, 17_500, 20_000, 25_000, 30_000, 40_000, 50_000, 60_000, 75_000,
            90_000, 120_000, 150_000, 180_000, 240_000, 300_000).mapToObj(Duration::ofMillis).toArray(Duration[]::new);

    private final MeterRegistry registry;
    private final Tags tags;
    private final List<Meter> meters = new ArrayList<>();
    private final Map<String, IndexMeters> byIndex = new ConcurrentHashMap<>();
    private final Counter retries;
    private final Counter deadLettered;
    private final Counter warned;
    private final DistributionSummary bulkSize;
    private final Timer bulkLatency;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger pausedPartitions = new AtomicInteger();

    /** Per-index meters. */
    public final class IndexMeters {
        final Timer endToEnd;
        final Counter indexed;
        final Counter deleted;
        final Counter stale;
        final Counter failed;

        IndexMeters(String index) {
            Tags t = tags.and("index", index);
            endToEnd = keep(Timer.builder("lockstep.sink.end.to.end.latency")
                    .description("From the source transaction's commit to OpenSearch's acknowledgement")
                    .serviceLevelObjectives(LATENCY_BUCKETS).tags(t).register(registry));
            indexed = keep(Counter.builder("lockstep.sink.records").description("Records acknowledged by OpenSearch, by result")
                    .tags(t).tag("result", "indexed").register(registry));
            deleted = keep(Counter.builder("lockstep.sink.records").tags(t).tag("result", "deleted").register(registry));
            stale = keep(Counter.builder("lockstep.sink.records").tags(t).tag("result", "version_conflict").register(registry));
            failed = keep(Counter.builder("lockstep.sink.records").tags(t).tag("result", "failed").register(registry));
        }

        /** An acknowledged index or delete; {@code sourceTsMs} is the source commit time, or null. */
        public void acknowledged(boolean delete, Long sourceTsMs, long nowMs) {
            (delete ? deleted : indexed).increment();
            if (sourceTsMs != null) {
                endToEnd.record(Math.max(0, nowMs - sourceTsMs), TimeUnit.MILLISECONDS);
            }
        }

        /** An operation skipped because OpenSearch already held a newer version of the document. */
        public void versionConflict() {
            stale.increment();
        }

        /** An operation OpenSearch rejected for good. */
        public void failed() {
            failed.increment();
        }
    }

    public SinkMetrics(MeterRegistry registry, String connector, String task) {
        this.registry = registry;
        this.tags = Tags.of("connector", connector, "task", task);
        retries = keep(Counter.builder("lockstep.sink.retries").description("Bulk requests or items sent again after a transient failure")
                .tags(tags).register(registry));
        deadLettered = keep(Counter.builder("lockstep.sink.dlq.records").description("Records reported to the dead-letter queue")
                .tags(tags).register(registry));
        warned = keep(Counter.builder("lockstep.sink.skipped.records").description("Records skipped with a warning")
                .tags(tags).register(registry));
        bulkSize = keep(DistributionSummary.builder("lockstep.sink.bulk.size").description("Operations per bulk request")
                .baseUnit("operations").tags(tags).register(registry));
        bulkLatency = keep(Timer.builder("lockstep.sink.bulk.latency").description("Duration of one bulk request")
                .serviceLevelObjectives(LATENCY_BUCKETS).tags(tags).register(registry));
        keep(Gauge.builder("lockstep.sink.inflight.bulks", inFlight, AtomicInteger::get).description("Bulk requests in flight")
                .tags(tags).register(registry));
        keep(Gauge.builder("lockstep.sink.paused.partitions", pausedPartitions, AtomicInteger::get)
                .description("Topic partitions paused for backpressure").tags(tags).register(registry));
    }

    public IndexMeters index(String index) {
        return byIndex.computeIfAbsent(index, IndexMeters::new);
    }

    /**
     * A field whose column type asks for another mapping than the index has (a change OpenSearch cannot apply in
     * place): a gauge at 1 per index and field, with the column type and the index's mapping type as tags, until
     * the task stops.
     */
    public void mappingConflict(String index, String field, String columnType, String indexType) {
        keep(Gauge.builder("lockstep.sink.mapping.conflicts", () -> 1).strongReference(true)
                .description("Fields whose column type needs another mapping than the index has (rebuild the index to apply it)")
                .tags(tags.and("index", index).and("field", field).and("column_type", columnType).and("index_type", indexType))
                .register(registry));
    }

    public void retried(int operations) {
        retries.increment(operations);
    }

    public void deadLettered() {
        deadLettered.increment();
    }

    public void skipped() {
        warned.increment();
    }

    /** Times one bulk request of {@code size} operations. */
    public <T> T bulk(int size, java.util.concurrent.Callable<T> request) throws Exception {
        bulkSize.record(size);
        inFlight.incrementAndGet();
        long start = System.nanoTime();
        try {
            return request.call();
        } finally {
            bulkLatency.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            inFlight.decrementAndGet();
        }
    }

    /** Reports, as a gauge, how many records the task holds that OpenSearch has not acknowledged yet. */
    public void bufferedRecords(java.util.function.IntSupplier buffered) {
        // A strong reference: Micrometer holds a gauge's object weakly, and the task's lambda has no other holder, so
        // the gauge would read NaN after the first garbage collection. close() removes it with the task.
        keep(Gauge.builder("lockstep.sink.buffered.records", buffered, b -> b.getAsInt()).strongReference(true)
                .description("Records held by the task and not acknowledged by OpenSearch yet (waiting or in flight)")
                .tags(tags).register(registry));
    }

    /** Reports, as a gauge, how many indices this task sees in their first load (index.first.load.settings). */
    public void firstLoadIndices(java.util.function.IntSupplier loading) {
        keep(Gauge.builder("lockstep.sink.first.load.indices", loading, l -> l.getAsInt()).strongReference(true)
                .description("Indices in their first load: filled by a snapshot, refreshed per index.first.load.settings until it ends")
                .tags(tags).register(registry));
    }

    public void pausedPartitions(int count) {
        pausedPartitions.set(count);
    }

    private synchronized <M extends Meter> M keep(M meter) {
        meters.add(meter);
        return meter;
    }

    @Override
    public synchronized void close() {
        meters.forEach(registry::remove);
        meters.clear();
        byIndex.clear();
    }
}
