package dev.lockstep.smt;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;

/**
 * How many records each transform could not turn into a document, per table, reason and handling, in this worker.
 * The transforms of a Debezium task and the sink's metrics registry are loaded by the same plugin class loader (the
 * Lockstep bundle), so the registry sees these counts without the transforms depending on it: it
 * {@link #subscribe subscribes} and gets every counter, present and future. The counts live as long as the worker.
 */
public final class RejectedRecordCounts {
    /** Sent by the transform to its errors.topic (a source connector's chain). */
    public static final String ERRORS_TOPIC = "errors_topic";
    /** Thrown, for Connect's errors.tolerance (a sink connector's chain: its dead-letter queue; or errors.topic empty). */
    public static final String THROWN = "thrown";

    /** One counter's identity; the fields are the metric's tags. */
    public record Key(String transform, String table, String reason, String handling) {
    }

    private static final Map<Key, LongAdder> COUNTS = new ConcurrentHashMap<>();
    private static final List<BiConsumer<Key, LongAdder>> LISTENERS = new CopyOnWriteArrayList<>();

    private RejectedRecordCounts() {
    }

    static void increment(Key key) {
        LongAdder count = COUNTS.get(key);
        if (count == null) {
            count = register(key);
        }
        count.increment();
    }

    private static synchronized LongAdder register(Key key) {
        LongAdder existing = COUNTS.get(key);
        if (existing != null) {
            return existing;
        }
        LongAdder count = new LongAdder();
        COUNTS.put(key, count);
        LISTENERS.forEach(l -> l.accept(key, count));
        return count;
    }

    /** Calls {@code listener} with every counter that exists now and with each new one, once. */
    public static synchronized void subscribe(BiConsumer<Key, LongAdder> listener) {
        LISTENERS.add(listener);
        COUNTS.forEach(listener);
    }

    /** The count so far (0 when none), for tests and reports. */
    public static long count(Key key) {
        LongAdder count = COUNTS.get(key);
        return count == null ? 0 : count.sum();
    }
}
