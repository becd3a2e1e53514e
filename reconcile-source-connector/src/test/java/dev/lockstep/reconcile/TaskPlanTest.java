package dev.lockstep.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TaskPlanTest {
    private static final ReconcileConfig.TableName BIG = ReconcileConfig.TableName.parse("public.big");
    private static final ReconcileConfig.TableName MID = ReconcileConfig.TableName.parse("public.mid");
    private static final ReconcileConfig.TableName SMALL = ReconcileConfig.TableName.parse("public.small");

    private static Map<ReconcileConfig.TableName, Long> sizes() {
        Map<ReconcileConfig.TableName, Long> rows = new LinkedHashMap<>();
        rows.put(SMALL, 1_000L);
        rows.put(BIG, 10_000_000L);
        rows.put(MID, 3_000_000L);
        return rows;
    }

    private static final TaskPlan.Cutter EQUAL = (t, shares) -> Segment.ALL.splitIntegers(1, 1_000_000, shares);

    @Test
    void fewerTasksThanTablesPacksWholeTablesLargestFirst() {
        List<List<Assignment>> plan = TaskPlan.allocate(sizes(), 2, 100_000, EQUAL);
        assertThat(plan).hasSize(2);
        assertThat(plan.get(0)).containsExactly(Assignment.whole(BIG));
        assertThat(plan.get(1)).containsExactly(Assignment.whole(MID), Assignment.whole(SMALL));
    }

    @Test
    void spareTasksCutTheLargestTablesIntoKeyRangesThatTileThem() {
        List<List<Assignment>> plan = TaskPlan.allocate(sizes(), 6, 100_000, EQUAL);
        assertThat(plan).hasSize(6).allSatisfy(task -> assertThat(task).isNotEmpty());
        List<Assignment> big = plan.stream().flatMap(List::stream).filter(a -> a.table().equals(BIG)).toList();
        List<Assignment> mid = plan.stream().flatMap(List::stream).filter(a -> a.table().equals(MID)).toList();
        // 10M and 3M rows over 5 spare-and-own tasks: 4 shares of 2.5M and 1 of 3M beat 3 of 3.3M and 2 of 1.5M.
        assertThat(big).hasSize(4);
        assertThat(mid).hasSize(1);
        assertThat(big.stream().map(Assignment::keyRange)).containsExactlyInAnyOrder("1/4", "2/4", "3/4", "4/4");
        List<Segment> spans = big.stream().sorted(java.util.Comparator.comparingInt(Assignment::share)).map(Assignment::span).toList();
        assertThat(spans.get(0).lo()).isNull();
        assertThat(spans.get(3).hi()).isNull();
        for (int i = 1; i < spans.size(); i++) {
            assertThat(spans.get(i).lo()).isEqualTo(spans.get(i - 1).hi());
        }
        assertThat(plan.stream().flatMap(List::stream).filter(a -> a.table().equals(SMALL)).toList()).containsExactly(Assignment.whole(SMALL));
    }

    @Test
    void noShareIsSmallerThanTheMinimum() {
        List<List<Assignment>> plan = TaskPlan.allocate(Map.of(SMALL, 1_000L), 8, 500, EQUAL);
        assertThat(plan).hasSize(2);
        assertThat(plan.stream().flatMap(List::stream).map(Assignment::keyRange)).containsExactlyInAnyOrder("1/2", "2/2");
    }

    @Test
    void aTableThatCannotBeCutGoesWhole() {
        List<List<Assignment>> plan = TaskPlan.allocate(Map.of(BIG, 10_000_000L), 4, 100_000, (t, n) -> {
            throw new IllegalStateException("no key");
        });
        assertThat(plan).containsExactly(List.of(Assignment.whole(BIG)));
    }

    @Test
    void assignmentsTravelInTaskConfigsUnchanged() {
        List<Assignment> assignments = List.of(Assignment.whole(SMALL), new Assignment(BIG, new Segment(null, 500L), 1, 2),
                new Assignment(BIG, new Segment(500L, null), 2, 2), new Assignment(MID, new Segment("k\"é", "z"), 2, 3));
        assertThat(Assignment.decode(Assignment.encode(assignments))).isEqualTo(assignments);
        assertThat(assignments.get(0).partition()).isEqualTo(Map.of("table", "public.small"));
        assertThat(assignments.get(1).partition()).isEqualTo(Map.of("table", "public.big", "key_range", "1/2"));
        assertThat(assignments.get(1).ownsKeylessDocuments()).isTrue();
        assertThat(assignments.get(2).ownsKeylessDocuments()).isFalse();
    }
}
