package dev.lockstep.sink;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** The pipeline's ordering rule and offset bookkeeping, with a sender standing in for OpenSearch. */
class BulkPipelineTest {

    /** A sender that records each bulk's ids, then holds it until {@code release} opens (at most 10 s). */
    private static BulkPipeline.Sender recordingUntil(java.util.concurrent.CountDownLatch release, List<List<String>> bulks) {
        return operations -> {
            bulks.add(operations.stream().map(DocumentOperation::id).toList());
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return List.of();
        };
    }

    private static DocumentOperation op(int partition, long offset, String id) {
        SinkRecord record = new SinkRecord("t", partition, null, id, null, Map.of("n", offset), offset);
        return new DocumentOperation(record, "idx", id, Map.of("n", offset), offset);
    }

    /**
     * Bulks finish in random order after random delays, some items fail transiently inside the sender; yet no
     * document is ever in two bulks at once, each document's operations are sent in offset order, the last
     * one sent is the newest, and every offset ends up committable.
     */
    @Test
    void bulksFinishingInAnyOrderNeverReorderADocumentsOperations() throws Exception {
        Set<String> inFlight = ConcurrentHashMap.newKeySet();
        Map<String, List<Long>> sentPerDocument = new ConcurrentHashMap<>();
        List<String> violations = new CopyOnWriteArrayList<>();
        Random random = new Random(42);
        BulkPipeline.Sender sender = operations -> {
            for (DocumentOperation o : operations) {
                if (!inFlight.add(o.id())) {
                    violations.add("document " + o.id() + " in two bulks at once");
                }
            }
            try {
                Thread.sleep(random.nextInt(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (DocumentOperation o : operations) {
                sentPerDocument.computeIfAbsent(o.id(), k -> Collections.synchronizedList(new ArrayList<>())).add(o.version());
                inFlight.remove(o.id());
            }
            return List.of();
        };
        OffsetTracker tracker = new OffsetTracker();
        Map<String, Long> newest = new HashMap<>();
        try (BulkPipeline pipeline = new BulkPipeline(sender, tracker, 7, 1 << 20, 0, 4, "test")) {
            long offset = 0;
            for (int put = 0; put < 200; put++) {
                for (int i = 0; i < 25; i++, offset++) {
                    int partition = (int) (offset % 2);
                    String id = "d" + random.nextInt(20); // few documents: many operations on each
                    DocumentOperation o = op(partition, offset, id);
                    newest.put(id, offset);
                    pipeline.add(o, tracker.track(o.record()));
                }
                pipeline.dispatch();
            }
            long total = offset;
            Awaitility.await().atMost(30, TimeUnit.SECONDS).until(() -> pipeline.buffered() == 0);
            assertThat(violations).isEmpty();
            sentPerDocument.forEach((id, versions) -> {
                assertThat(versions).as("operations sent for %s", id).isSorted();
                assertThat(versions.get(versions.size() - 1)).as("last operation sent for %s", id).isEqualTo(newest.get(id));
            });
            // Offsets alternate between the partitions: partition 0 ends at total - 2, partition 1 at total - 1.
            assertThat(tracker.committable()).isEqualTo(Map.of(
                    new TopicPartition("t", 0), new OffsetAndMetadata(total - 1),
                    new TopicPartition("t", 1), new OffsetAndMetadata(total)));
            assertThat(tracker.unfinished()).isZero();
        }
    }

    /** Within one bulk, a later record with a lower version (a repair read before a newer change) does not win by position. */
    @Test
    void withinABulkTheHighestVersionStandsForADocument() {
        List<DocumentOperation> sent = new CopyOnWriteArrayList<>();
        BulkPipeline.Sender sender = operations -> {
            sent.addAll(operations);
            return List.of();
        };
        OffsetTracker tracker = new OffsetTracker();
        try (BulkPipeline pipeline = new BulkPipeline(sender, tracker, 10, 1 << 20, 60_000, 1, "versions")) {
            SinkRecord change = new SinkRecord("t", 0, null, "d", null, Map.of("state", "new"), 0);
            SinkRecord repair = new SinkRecord("t", 0, null, "d", null, Map.of("state", "old"), 1);
            SinkRecord replay = new SinkRecord("t", 0, null, "e", null, Map.of("state", "same"), 2);
            SinkRecord again = new SinkRecord("t", 0, null, "e", null, Map.of("state", "again"), 3);
            List<DocumentOperation> ops = List.of(new DocumentOperation(change, "idx", "d", change.value(), 500L),
                    new DocumentOperation(repair, "idx", "d", repair.value(), 400L),
                    new DocumentOperation(replay, "idx", "e", replay.value(), 7L),
                    new DocumentOperation(again, "idx", "e", again.value(), 7L));
            for (DocumentOperation o : ops) {
                pipeline.add(o, tracker.track(o.record()));
            }
            for (int i = 4; i < 10; i++) { // fill the bulk (10 operations) so it leaves without lingering
                DocumentOperation o = op(0, i, "f" + i);
                pipeline.add(o, tracker.track(o.record()));
            }
            pipeline.dispatch();
            Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> pipeline.buffered() == 0);
        }
        Map<String, Object> byId = new HashMap<>();
        sent.forEach(o -> byId.put(o.id(), o.document()));
        assertThat(byId.get("d")).isEqualTo(Map.of("state", "new"));
        assertThat(byId.get("e")).isEqualTo(Map.of("state", "again")); // an equal version: the later one, as external_gte
    }

    @Test
    void aBulkLeavesWhenFullOrAtOnceWithoutLinger() {
        List<List<String>> bulks = new CopyOnWriteArrayList<>();
        BulkPipeline.Sender sender = operations -> {
            bulks.add(operations.stream().map(DocumentOperation::id).toList());
            return List.of();
        };
        OffsetTracker tracker = new OffsetTracker();
        try (BulkPipeline lingering = new BulkPipeline(sender, tracker, 3, 1 << 20, 60_000, 2, "linger")) {
            for (int i = 0; i < 2; i++) {
                DocumentOperation o = op(0, i, "a" + i);
                lingering.add(o, tracker.track(o.record()));
            }
            lingering.dispatch();
            assertThat(lingering.inFlightBulks()).isZero();
            assertThat(bulks).isEmpty(); // not full, and a minute of linger left
            DocumentOperation third = op(0, 2, "a2");
            lingering.add(third, tracker.track(third.record()));
            lingering.dispatch();
            Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> bulks.size() == 1);
            assertThat(bulks.get(0)).containsExactly("a0", "a1", "a2");
        }
        bulks.clear();
        try (BulkPipeline eager = new BulkPipeline(sender, tracker, 3, 1 << 20, 0, 2, "eager")) {
            DocumentOperation o = op(0, 3, "b");
            eager.add(o, tracker.track(o.record()));
            eager.dispatch();
            Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> bulks.size() == 1);
        }
    }

    @Test
    void aBulkThatIsNotFullWaitsForTheBulkInFlightAndFullOnesGoSideBySide() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        List<List<String>> bulks = new CopyOnWriteArrayList<>();
        BulkPipeline.Sender sender = recordingUntil(release, bulks);
        OffsetTracker tracker = new OffsetTracker();
        try (BulkPipeline pipeline = new BulkPipeline(sender, tracker, 3, 1 << 20, 0, 4, "nagle")) {
            java.util.function.IntConsumer add = i -> {
                DocumentOperation o = op(0, i, "d" + i);
                pipeline.add(o, tracker.track(o.record()));
            };
            add.accept(0);
            pipeline.dispatch(); // nothing in flight: a partial bulk leaves at once
            Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> bulks.size() == 1);
            add.accept(1);
            add.accept(2);
            pipeline.dispatch(); // two waiting, not full, one bulk in flight: they gather
            assertThat(pipeline.inFlightBulks()).isEqualTo(1);
            add.accept(3);
            add.accept(4);
            add.accept(5);
            pipeline.dispatch(); // five waiting: one full bulk goes side by side, two stay
            Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> bulks.size() == 2);
            assertThat(bulks.get(1)).containsExactly("d1", "d2", "d3");
            assertThat(pipeline.inFlightBulks()).isEqualTo(2);
            release.countDown(); // the bulks finish: the rest leaves as one bulk
            Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> pipeline.buffered() == 0);
            assertThat(bulks).hasSize(3);
            assertThat(bulks.get(2)).containsExactly("d4", "d5");
        }
    }

    @Test
    void aBulkThatIsNotFullGoesSideBySideOnceItWaitedPartialBulkWaitBehindASlowOne() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        List<List<String>> bulks = new CopyOnWriteArrayList<>();
        List<Long> sentAt = new CopyOnWriteArrayList<>();
        BulkPipeline.Sender sender = operations -> {
            sentAt.add(System.nanoTime());
            bulks.add(operations.stream().map(DocumentOperation::id).toList());
            if (bulks.size() == 1) {
                try {
                    release.await(10, TimeUnit.SECONDS); // the first bulk is slow
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return List.of();
        };
        OffsetTracker tracker = new OffsetTracker();
        try (BulkPipeline pipeline = new BulkPipeline(sender, tracker, 100, 1 << 20, 0, 50, 2, "budget")) {
            java.util.function.BiConsumer<Integer, String> add = (i, doc) -> {
                DocumentOperation o = op(0, i, doc);
                pipeline.add(o, tracker.track(o.record()));
            };
            add.accept(0, "hot");
            pipeline.dispatch();
            Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> bulks.size() == 1);
            long queued = System.nanoTime();
            add.accept(1, "hot"); // its document is in flight: it waits for that bulk whatever the budget
            add.accept(2, "cold");
            pipeline.dispatch();
            // After 50 ms behind the slow bulk (not before), the waiting change of another document goes side by side.
            Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> bulks.size() == 2);
            assertThat(sentAt.get(1) - queued).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(50));
            assertThat(bulks.get(1)).containsExactly("cold");
            assertThat(pipeline.buffered()).isEqualTo(2); // the slow bulk's record and the held one
            assertThat(pipeline.holdsAny(List.of("other", "idx"))).as("an operation on idx in flight, one waiting").isTrue();
            assertThat(pipeline.holdsAny(List.of("other"))).isFalse();
            release.countDown();
            Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> pipeline.buffered() == 0);
            assertThat(bulks.get(2)).containsExactly("hot");
            assertThat(pipeline.holdsAny(List.of("idx"))).as("all acknowledged").isFalse();
        }
    }

    @Test
    void aBacklogWaitsForTheBulkInFlightWhateverThePartialWait() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        List<List<String>> bulks = new CopyOnWriteArrayList<>();
        BulkPipeline.Sender sender = recordingUntil(release, bulks);
        OffsetTracker tracker = new OffsetTracker();
        // batch.size 100: ten or more waiting operations are a backlog.
        try (BulkPipeline pipeline = new BulkPipeline(sender, tracker, 100, 1 << 20, 0, 1, 2, "backlog")) {
            DocumentOperation first = op(0, 0, "d0");
            pipeline.add(first, tracker.track(first.record()));
            pipeline.dispatch();
            Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> bulks.size() == 1);
            for (int i = 1; i <= 10; i++) {
                DocumentOperation o = op(0, i, "d" + i);
                pipeline.add(o, tracker.track(o.record()));
            }
            pipeline.dispatch();
            Thread.sleep(200); // far beyond the 1 ms partial wait
            pipeline.dispatch();
            assertThat(bulks).as("ten waiting: they gather behind the bulk in flight").hasSize(1);
            release.countDown();
            Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> pipeline.buffered() == 0);
            assertThat(bulks).hasSize(2);
            assertThat(bulks.get(1)).hasSize(10);
        }
    }

    @Test
    void bulksAreBoundedByEstimatedBytes() {
        List<Integer> sizes = new CopyOnWriteArrayList<>();
        BulkPipeline.Sender sender = operations -> {
            sizes.add(operations.size());
            return List.of();
        };
        OffsetTracker tracker = new OffsetTracker();
        String big = "x".repeat(10_000);
        try (BulkPipeline pipeline = new BulkPipeline(sender, tracker, 1000, 25_000, 0, 1, "bytes")) {
            for (int i = 0; i < 9; i++) {
                SinkRecord record = new SinkRecord("t", 0, null, "d" + i, null, Map.of("s", big), i);
                pipeline.add(new DocumentOperation(record, "idx", "d" + i, Map.of("s", big), null), tracker.track(record));
            }
            pipeline.dispatch();
            Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> pipeline.buffered() == 0);
        }
        assertThat(sizes).containsExactly(3, 3, 3);
    }

    @Test
    void rejectedOperationsWaitForTheTaskBeforeTheirOffsetsCount() {
        OffsetTracker tracker = new OffsetTracker();
        BulkPipeline.Sender sender = operations -> operations.stream().filter(o -> o.id().equals("bad"))
                .map(o -> new BulkWriter.Rejection(o, 400, "mapper_parsing_exception: boom")).toList();
        try (BulkPipeline pipeline = new BulkPipeline(sender, tracker, 10, 1 << 20, 0, 1, "rejects")) {
            String[] ids = {"ok1", "bad", "ok2"};
            for (int i = 0; i < ids.length; i++) {
                DocumentOperation o = op(0, i, ids[i]);
                pipeline.add(o, tracker.track(o.record()));
            }
            pipeline.dispatch();
            Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> pipeline.buffered() == 0);
            assertThat(tracker.committable()).isEqualTo(Map.of(new TopicPartition("t", 0), new OffsetAndMetadata(1)));
            List<BulkPipeline.Rejected> rejected = pipeline.takeRejected();
            assertThat(rejected).singleElement().satisfies(r -> assertThat(r.rejection().operation().id()).isEqualTo("bad"));
            rejected.get(0).entries().forEach(tracker::finish); // what the task does after reporting it
            assertThat(tracker.committable()).isEqualTo(Map.of(new TopicPartition("t", 0), new OffsetAndMetadata(3)));
        }
    }

    @Test
    void aFailureForGoodStopsDispatchingAndIsKeptForTheTask() {
        OffsetTracker tracker = new OffsetTracker();
        BulkPipeline.Sender sender = operations -> {
            throw new org.apache.kafka.connect.errors.ConnectException("status 401");
        };
        try (BulkPipeline pipeline = new BulkPipeline(sender, tracker, 1, 1 << 20, 0, 1, "fails")) {
            for (int i = 0; i < 3; i++) {
                DocumentOperation o = op(0, i, "d" + i);
                pipeline.add(o, tracker.track(o.record()));
            }
            pipeline.dispatch();
            Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> pipeline.failure() != null);
            assertThat(pipeline.failure()).hasMessageContaining("401");
            assertThat(pipeline.buffered()).isEqualTo(2); // nothing more was sent
            assertThat(tracker.committable()).isEmpty();
        }
    }
}
