package dev.lockstep.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SegmentTest {
    @Test
    void topLevelIntegerSegmentsTileTheWholeKeySpace() {
        List<Segment> parts = Segment.ALL.splitIntegers(1, 1_000, 4);
        assertThat(parts).containsExactly(new Segment(null, 251L), new Segment(251L, 501L), new Segment(501L, 751L),
                new Segment(751L, null));
    }

    @Test
    void aSegmentSplitsWithinItsBoundsAndStopsAtSingleKeys() {
        assertThat(new Segment(10L, 20L).splitIntegers(0, 1_000, 3)).containsExactly(new Segment(10L, 14L), new Segment(14L, 18L),
                new Segment(18L, 20L));
        assertThat(new Segment(7L, 8L).splitIntegers(0, 1_000, 16)).containsExactly(new Segment(7L, 8L));
    }

    @Test
    void textSegmentsSplitAtGivenCuts() {
        assertThat(new Segment("a", null).splitAt(List.of("f", "m"))).containsExactly(new Segment("a", "f"), new Segment("f", "m"),
                new Segment("m", null));
    }
}
