package dev.lockstep.sink;

import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * Which offsets a task may commit: per partition, the offset after the longest run of records, from the last
 * commit on, that are all finished (acknowledged by OpenSearch, or handled as malformed). Bulks finish in any
 * order; an offset is never committed past a record that is still waiting, so a task that stops or fails
 * gets every unfinished record again.
 *
 * <p>Records are tracked in the order the task receives them, which per partition is offset order. Offsets
 * are those of the record as consumed ({@code originalKafkaOffset}), since a transform may change the topic.
 */
final class OffsetTracker {

    /** One record's place; {@link #finish} it once each of its operations is acknowledged or handled. */
    static final class Entry {
        private final Partition partition;
        private final long offset;
        /** Operations of the record still to finish: one per target index (two while an index is rebuilt). */
        private int unfinishedOperations;
        private boolean finished;

        private Entry(Partition partition, long offset, int operations) {
            this.partition = partition;
            this.offset = offset;
            this.unfinishedOperations = operations;
        }

        TopicPartition topicPartition() {
            return partition.topicPartition;
        }
    }

    private static final class Partition {
        final TopicPartition topicPartition;
        final ArrayDeque<Entry> unfinishedFromHead = new ArrayDeque<>();
        long committable = -1; // next offset to consume once committed; -1 until a record finished

        Partition(TopicPartition topicPartition) {
            this.topicPartition = topicPartition;
        }
    }

    private final Map<TopicPartition, Partition> partitions = new HashMap<>();
    private int tracked;

    synchronized Entry track(SinkRecord record) {
        return track(record, 1);
    }

    /** Tracks a record written by {@code operations} operations: it is finished when each of them finished. */
    synchronized Entry track(SinkRecord record, int operations) {
        TopicPartition tp = new TopicPartition(record.originalTopic(), record.originalKafkaPartition());
        Partition partition = partitions.computeIfAbsent(tp, Partition::new);
        Entry entry = new Entry(partition, record.originalKafkaOffset(), operations);
        partition.unfinishedFromHead.addLast(entry);
        tracked++;
        return entry;
    }

    /** Marks one operation of the record finished (the record, with its last). Harmless for a partition closed meanwhile. */
    synchronized void finish(Entry entry) {
        if (entry.finished || --entry.unfinishedOperations > 0) {
            return;
        }
        entry.finished = true;
        Partition partition = entry.partition;
        if (partitions.get(partition.topicPartition) != partition) {
            return; // the partition was revoked: its records belong to another task now
        }
        while (!partition.unfinishedFromHead.isEmpty() && partition.unfinishedFromHead.peekFirst().finished) {
            partition.committable = partition.unfinishedFromHead.pollFirst().offset + 1;
            tracked--;
        }
    }

    /** Offsets safe to commit, for every partition where a record finished since it was assigned. */
    synchronized Map<TopicPartition, OffsetAndMetadata> committable() {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        partitions.forEach((tp, p) -> {
            if (p.committable >= 0) {
                offsets.put(tp, new OffsetAndMetadata(p.committable));
            }
        });
        return offsets;
    }

    /** Records tracked and not yet part of a committable run. */
    synchronized int unfinished() {
        return tracked;
    }

    /** Forgets revoked partitions: whatever was unfinished there is redelivered to their next owner. */
    synchronized void forget(Collection<TopicPartition> revoked) {
        for (TopicPartition tp : revoked) {
            Partition p = partitions.remove(tp);
            if (p != null) {
                tracked -= p.unfinishedFromHead.size();
            }
        }
    }
}
