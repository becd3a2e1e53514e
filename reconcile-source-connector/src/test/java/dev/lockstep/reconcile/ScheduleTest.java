package dev.lockstep.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class ScheduleTest {
    private static long at(String instant) {
        return Instant.parse(instant).toEpochMilli();
    }

    @Test
    void anIntervalCountsFromTheLastRunsStartAndANewTableWaitsTheInitialDelay() {
        Schedule s = new Schedule(3_600_000, 60_000, "");
        assertThat(s.nextRun(at("2026-12-03T08:00:00Z"), at("2026-12-03T09:30:00Z"))).isEqualTo(at("2026-12-03T09:00:00Z"));
        assertThat(s.nextRun(0, at("2026-12-03T09:30:00Z"))).isEqualTo(at("2026-12-03T09:31:00Z"));
    }

    @Test
    void cronNamesTheNextTimeAfterTheLastRunInUtc() {
        Schedule s = new Schedule(3_600_000, 60_000, "0 3 * * *");
        assertThat(s.nextRun(at("2026-12-03T03:00:00Z"), at("2026-12-03T09:30:00Z"))).isEqualTo(at("2026-12-04T03:00:00Z"));
        // The worker was down at 03:00 on the 4th: that run is due at once after the restart.
        assertThat(s.nextRun(at("2026-12-03T03:00:00Z"), at("2026-12-05T10:00:00Z"))).isLessThan(at("2026-12-05T10:00:00Z"));
        assertThat(s.nextRun(0, at("2026-12-03T09:30:00Z"))).isEqualTo(at("2026-12-04T03:00:00Z"));
        assertThat(new Schedule(0, 0, "*/15 * * * *").nextRun(at("2026-12-03T08:01:00Z"), 0)).isEqualTo(at("2026-12-03T08:15:00Z"));
    }

    @Test
    void aBadExpressionIsRefusedOnTheField() {
        assertThatThrownBy(() -> new Schedule.CronValidator().ensureValid("schedule.cron", "every day at 3"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("schedule.cron").hasMessageContaining("cron");
        new Schedule.CronValidator().ensureValid("schedule.cron", "");
    }
}
