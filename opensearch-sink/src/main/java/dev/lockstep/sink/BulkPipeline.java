package dev.lockstep.sink;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.TopicPartition;

/**
 * Groups a task's document operations into bulk requests and keeps up to {@code maxInFlight} of them in flight
 * while the task goes on converting records.
 *
 * <p>The one ordering rule: a document is never in two bulks in flight. An operation whose document is in a
 * bulk still in flight waits (and so does every later operation on it) until that bulk finishes; within a
 * bulk only one operation per document is sent, standing for the others: the one OpenSearch would keep with
 * {@code external_gte} (the newest, unless an older one has a higher version). So neither the order in
 * which bulks finish nor the retries of their items can reorder two operations on one document.
 *
 * <p>A full bulk (count or estimated bytes) leaves as soon as a request slot is free. A bulk that is not full
 * leaves when no bulk is in flight (and its oldest operation has lingered {@code lingerMs}): a trickle of records
 * gathers into one bulk at a time instead of many small ones side by side. Behind a bulk in flight it waits at most
 * {@code partialWaitMs} (its oldest sendable operation's age), then goes side by side with it if a request slot is
 * free: under a steady load no bulk fills, and a change must not wait for a whole slow round trip of the one before.
 * Not when a tenth of a bulk or more waits: that is a backlog, where fewer, larger bulks cost the node less. When a bulk finishes, its
 * records are finished in the {@link OffsetTracker}; rejected operations and failures are kept for the task
 * thread, which alone may talk to Connect (the errant record reporter, pausing partitions).
 */
final class BulkPipeline implements AutoCloseable {

    /** Sends one bulk until every operation is acknowledged or rejected; throws only on a failure for good. */
    @FunctionalInterface
    interface Sender {
        List<BulkWriter.Rejection> send(List<DocumentOperation> operations);
    }

    /** An operation OpenSearch rejected for good, with the records it stood for. */
    record Rejected(BulkWriter.Rejection rejection, List<OffsetTracker.Entry> entries) {
    }

    private record Waiting(DocumentOperation operation, OffsetTracker.Entry entry, long bytes, long sinceNanos) {
    }

    /**
     * The one operation that has the effect of {@code earlier} then {@code later} on one document, as OpenSearch would
     * apply them in that order with {@code external_gte}: the later one, unless its version is lower. A record in the
     * topic after a newer change (a reconciler's repair read before that change committed) must not win by position.
     */
    static DocumentOperation standsFor(DocumentOperation earlier, DocumentOperation later) {
        if (earlier == null || earlier.version() == null || later.version() == null || later.version() >= earlier.version()) {
            return later;
        }
        return earlier;
    }

    private static final class Slot {
        DocumentOperation operation;
        final List<OffsetTracker.Entry> entries = new ArrayList<>(1);
    }

    private final Sender sender;
    private final OffsetTracker tracker;
    private final int batchSize;
    private final long batchMaxBytes;
    private final long lingerNanos;
    /** How long a bulk that is not full waits behind the bulks in flight; negative: until they finish. */
    private final long partialWaitNanos;
    /** Operations waiting from which a bulk that is not full no longer goes side by side: a tenth of batch.size. */
    private final int backlog;
    private final int maxInFlight;
    private final ExecutorService bulks;
    private final ScheduledExecutorService lingerTimer;

    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    private long waitingBytes;
    private final Set<String> inFlightDocuments = new HashSet<>();
    private int inFlightBulks;
    private int inFlightRecords;
    private final List<Rejected> rejected = new ArrayList<>();
    private RuntimeException failure;
    private boolean lingerScheduled;
    private boolean closed;

    BulkPipeline(Sender sender, OffsetTracker tracker, int batchSize, long batchMaxBytes, long lingerMs, int maxInFlight,
            String threadName) {
        this(sender, tracker, batchSize, batchMaxBytes, lingerMs, -1, maxInFlight, threadName);
    }

    BulkPipeline(Sender sender, OffsetTracker tracker, int batchSize, long batchMaxBytes, long lingerMs, long partialWaitMs, int maxInFlight,
            String threadName) {
        this.partialWaitNanos = partialWaitMs < 0 ? -1 : TimeUnit.MILLISECONDS.toNanos(partialWaitMs);
        this.backlog = Math.max(1, batchSize / 10);
        this.sender = sender;
        this.tracker = tracker;
        this.batchSize = batchSize;
        this.batchMaxBytes = batchMaxBytes;
        this.lingerNanos = TimeUnit.MILLISECONDS.toNanos(lingerMs);
        this.maxInFlight = maxInFlight;
        AtomicInteger threads = new AtomicInteger();
        this.bulks = Executors.newFixedThreadPool(maxInFlight, r -> daemon(r, threadName + "-" + threads.incrementAndGet()));
        this.lingerTimer = lingerMs > 0 || partialWaitMs >= 0
                ? Executors.newSingleThreadScheduledExecutor(r -> daemon(r, threadName + "-linger")) : null;
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Queues an operation for the record tracked as {@code entry}; {@link #dispatch} sends what is ready. */
    synchronized void add(DocumentOperation operation, OffsetTracker.Entry entry) {
        long bytes = operation.estimatedBytes();
        waiting.addLast(new Waiting(operation, entry, bytes, System.nanoTime()));
        waitingBytes += bytes;
    }

    /** Sends every bulk that is ready, as far as free request slots allow. */
    synchronized void dispatch() {
        while (!closed && failure == null && inFlightBulks < maxInFlight && !waiting.isEmpty()) {
            boolean full = waiting.size() >= batchSize || waitingBytes >= batchMaxBytes;
            if (!full && inFlightBulks > 0) {
                // A bulk that is not full waits for the one in flight, gathering what arrives meanwhile: under a
                // steady trickle the node gets one bulk at a time (less work per document), and only a backlog of full
                // bulks is pipelined up to maxInFlight. Its completion dispatches again. But not longer than
                // partialWaitNanos: then the changes waiting go side by side rather than wait for a slow round trip.
                if (partialWaitNanos < 0 || waiting.size() >= backlog) {
                    // A tenth of a bulk or more waiting is a backlog (a poll of large records): a bigger bulk costs the
                    // node less per document than two side by side, and latency is lost already.
                    return;
                }
                long age = oldestSendableAge();
                if (age < 0) {
                    return; // all that waits touches documents in flight
                }
                if (age < partialWaitNanos) {
                    scheduleLinger(partialWaitNanos - age);
                    return;
                }
            }
            if (lingerNanos > 0 && !full) {
                long age = System.nanoTime() - waiting.peekFirst().sinceNanos();
                if (age < lingerNanos) {
                    scheduleLinger(lingerNanos - age);
                    return;
                }
            }
            Map<String, Slot> batch = new LinkedHashMap<>();
            Set<String> held = new HashSet<>(); // documents with an earlier operation still waiting or in flight
            long bytes = 0;
            int records = 0;
            for (Iterator<Waiting> it = waiting.iterator(); it.hasNext() && batch.size() < batchSize && bytes < batchMaxBytes; ) {
                Waiting w = it.next();
                String document = w.operation().documentKey();
                if (inFlightDocuments.contains(document) || held.contains(document)) {
                    held.add(document);
                    continue;
                }
                Slot slot = batch.computeIfAbsent(document, d -> new Slot());
                slot.operation = standsFor(slot.operation, w.operation());
                slot.entries.add(w.entry());
                bytes += w.bytes();
                records++;
                waitingBytes -= w.bytes();
                it.remove();
            }
            if (batch.isEmpty()) {
                return; // all that waits touches documents in flight; their bulks dispatch again when they finish
            }
            inFlightDocuments.addAll(batch.keySet());
            inFlightBulks++;
            inFlightRecords += records;
            List<Slot> slots = new ArrayList<>(batch.values());
            int count = records;
            bulks.execute(() -> send(slots, count));
        }
    }

    /** How long the oldest waiting operation whose document is not in flight has waited; -1 when there is none. */
    private long oldestSendableAge() {
        for (Waiting w : waiting) {
            if (!inFlightDocuments.contains(w.operation().documentKey())) {
                return System.nanoTime() - w.sinceNanos();
            }
        }
        return -1;
    }

    private void scheduleLinger(long delayNanos) {
        if (lingerScheduled) {
            return;
        }
        lingerScheduled = true;
        lingerTimer.schedule(() -> {
            synchronized (this) {
                lingerScheduled = false;
                dispatch();
            }
        }, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void send(List<Slot> slots, int records) {
        List<DocumentOperation> operations = new ArrayList<>(slots.size());
        slots.forEach(s -> operations.add(s.operation));
        List<BulkWriter.Rejection> rejections = List.of();
        RuntimeException error = null;
        try {
            rejections = sender.send(operations);
        } catch (RuntimeException e) {
            error = e;
        }
        synchronized (this) {
            inFlightBulks--;
            inFlightRecords -= records;
            slots.forEach(s -> inFlightDocuments.remove(s.operation.documentKey()));
            if (!closed) {
                if (error != null) {
                    failure = failure == null ? error : failure; // the task fails on its next put or preCommit
                } else {
                    Map<DocumentOperation, BulkWriter.Rejection> byOperation = new IdentityHashMap<>();
                    rejections.forEach(r -> byOperation.put(r.operation(), r));
                    for (Slot slot : slots) {
                        BulkWriter.Rejection rejection = byOperation.get(slot.operation);
                        if (rejection == null) {
                            slot.entries.forEach(tracker::finish);
                        } else {
                            rejected.add(new Rejected(rejection, slot.entries));
                        }
                    }
                }
                dispatch();
            }
            notifyAll();
        }
    }

    /** Records held and not yet acknowledged: waiting for a bulk, or in one that is in flight. */
    synchronized int buffered() {
        return waiting.size() + inFlightRecords;
    }

    /** Whether an operation on one of these indices waits or is in flight (a scan: for checks a few times a second). */
    synchronized boolean holdsAny(java.util.Collection<String> indices) {
        for (Waiting w : waiting) {
            if (indices.contains(w.operation().index())) {
                return true;
            }
        }
        for (String document : inFlightDocuments) {
            int end = document.indexOf('\u0000');
            if (end > 0 && indices.contains(document.substring(0, end))) {
                return true;
            }
        }
        return false;
    }

    synchronized int inFlightBulks() {
        return inFlightBulks;
    }

    /** Waits until fewer than {@code limit} records are buffered; false if that did not happen in time. */
    synchronized boolean awaitBufferedBelow(int limit, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (buffered() >= limit && failure == null && !closed) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }

    /** Operations rejected for good since the last call. */
    synchronized List<Rejected> takeRejected() {
        if (rejected.isEmpty()) {
            return List.of();
        }
        List<Rejected> taken = new ArrayList<>(rejected);
        rejected.clear();
        return taken;
    }

    /** The first failure for good of a bulk (e.g. authentication), or null. */
    synchronized RuntimeException failure() {
        return failure;
    }

    /** Drops the waiting operations of revoked partitions; bulks in flight finish (documents carry versions). */
    synchronized void drop(Collection<TopicPartition> revoked) {
        Set<TopicPartition> gone = new HashSet<>(revoked);
        for (Iterator<Waiting> it = waiting.iterator(); it.hasNext(); ) {
            Waiting w = it.next();
            if (gone.contains(w.entry().topicPartition())) {
                waitingBytes -= w.bytes();
                it.remove();
            }
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        waiting.clear();
        bulks.shutdownNow();
        if (lingerTimer != null) {
            lingerTimer.shutdownNow();
        }
        notifyAll();
    }
}
