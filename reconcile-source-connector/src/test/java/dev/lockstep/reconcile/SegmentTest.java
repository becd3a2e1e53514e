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

    @Test
    void gridSegmentsTileTheKeySpaceAndStayPutWhileTheTableGrows() {
        List<Segment> parts = Segment.ALL.splitOnGrid(1, 1_000_000, 10);
        assertThat(parts.get(0).lo()).isNull();
        assertThat(parts.get(parts.size() - 1).hi()).isNull();
        for (int i = 1; i < parts.size(); i++) {
            assertThat(parts.get(i).lo()).isEqualTo(parts.get(i - 1).hi());
            assertThat((Long) parts.get(i).lo() % 65_536).isZero();
        }
        assertThat(parts).hasSizeBetween(10, 20);
        // 10% more rows at the end: every segment but the last keeps its bounds.
        List<Segment> grown = Segment.ALL.splitOnGrid(1, 1_100_000, 10);
        assertThat(grown.subList(0, parts.size() - 1)).isEqualTo(parts.subList(0, parts.size() - 1));
    }

    @Test
    void gridSegmentsSurviveExtremeKeys() {
        // The whole long range overflows the span: one segment, still covering everything.
        assertThat(Segment.ALL.splitOnGrid(Long.MIN_VALUE, Long.MAX_VALUE, 4)).containsExactly(Segment.ALL);
        assertThat(Segment.ALL.splitOnGrid(Long.MAX_VALUE - 10, Long.MAX_VALUE, 4)).hasSizeBetween(2, 8);
        assertThat(Segment.ALL.splitOnGrid(-100, -1, 4)).hasSizeBetween(4, 8);
        assertThat(Segment.ALL.splitOnGrid(5, 5, 4)).containsExactly(Segment.ALL);
    }
}
