package dev.lockstep.sink;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class OffsetTrackerTest {
    private static final TopicPartition P0 = new TopicPartition("t", 0);
    private static final TopicPartition P1 = new TopicPartition("t", 1);

    private static SinkRecord record(int partition, long offset) {
        return new SinkRecord("t", partition, null, "k", null, "v", offset);
    }

    @Test
    void commitsOnlyUpToTheFirstUnfinishedRecordOfEachPartition() {
        OffsetTracker tracker = new OffsetTracker();
        List<OffsetTracker.Entry> p0 = new ArrayList<>();
        for (long offset = 10; offset < 15; offset++) {
            p0.add(tracker.track(record(0, offset)));
        }
        OffsetTracker.Entry p1 = tracker.track(record(1, 7));
        assertThat(tracker.committable()).isEmpty();

        // A bulk in the middle is still failing: 10 finished, 11 not, 12..14 finished.
        tracker.finish(p0.get(0));
        tracker.finish(p0.get(2));
        tracker.finish(p0.get(3));
        tracker.finish(p0.get(4));
        assertThat(tracker.committable()).isEqualTo(Map.of(P0, new OffsetAndMetadata(11)));
        assertThat(tracker.unfinished()).isEqualTo(5);

        tracker.finish(p0.get(1));
        tracker.finish(p1);
        assertThat(tracker.committable()).isEqualTo(Map.of(P0, new OffsetAndMetadata(15), P1, new OffsetAndMetadata(8)));
        assertThat(tracker.unfinished()).isZero();
    }

    @Test
    void aRecordWrittenToTwoIndicesIsFinishedOnlyWithItsSecondOperation() {
        OffsetTracker tracker = new OffsetTracker();
        OffsetTracker.Entry dual = tracker.track(record(0, 5), 2); // an index being rebuilt: both versions are written
        tracker.finish(dual);
        assertThat(tracker.committable()).isEmpty();
        tracker.finish(dual);
        assertThat(tracker.committable()).containsEntry(new TopicPartition("t", 0), new OffsetAndMetadata(6));
        assertThat(tracker.unfinished()).isZero();
    }

    @Test
    void usesTheOffsetAsConsumedWhenATransformChangedTheTopic() {
        OffsetTracker tracker = new OffsetTracker();
        SinkRecord routed = record(0, 41).newRecord("t-truncates", 3, null, "k", null, "v", null);
        tracker.finish(tracker.track(routed));
        assertThat(tracker.committable()).isEqualTo(Map.of(P0, new OffsetAndMetadata(42)));
    }

    @Test
    void aRevokedPartitionIsForgottenAndLateFinishesDoNotBringItBack() {
        OffsetTracker tracker = new OffsetTracker();
        OffsetTracker.Entry first = tracker.track(record(0, 1));
        OffsetTracker.Entry second = tracker.track(record(0, 2));
        tracker.finish(first);
        tracker.forget(List.of(P0));
        tracker.finish(second); // a bulk that was in flight when the partition was revoked
        assertThat(tracker.committable()).isEmpty();
        assertThat(tracker.unfinished()).isZero();

        tracker.finish(tracker.track(record(0, 2))); // assigned again, redelivered from the committed offset
        assertThat(tracker.committable()).isEqualTo(Map.of(P0, new OffsetAndMetadata(3)));
    }
}
