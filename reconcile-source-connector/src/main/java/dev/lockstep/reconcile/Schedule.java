package dev.lockstep.reconcile;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * When a table's next run is due: {@code schedule.interval.ms} after the last run's start, or, with
 * {@code schedule.cron} (a Unix cron expression, in UTC), the first time it names after the last run's start. A
 * table never reconciled runs {@code schedule.initial.delay.ms} after the task started (with cron: at the first time
 * after the start). A time that passed while the worker was down is due at once, once.
 */
final class Schedule {
    private static final CronParser PARSER = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));

    private final long intervalMs;
    private final long initialDelayMs;
    private final ExecutionTime cron;

    Schedule(long intervalMs, long initialDelayMs, String cron) {
        this.intervalMs = intervalMs;
        this.initialDelayMs = initialDelayMs;
        this.cron = cron == null || cron.isBlank() ? null : ExecutionTime.forCron(parse(cron));
    }

    static Schedule of(ReconcileConfig config) {
        return new Schedule(config.getLong(ReconcileConfig.SCHEDULE_INTERVAL_MS), config.getLong(ReconcileConfig.SCHEDULE_INITIAL_DELAY_MS),
                config.getString(ReconcileConfig.SCHEDULE_CRON));
    }

    /** Epoch ms of the next run of a table whose last run started at {@code lastRunStartMs} (0: never). */
    long nextRun(long lastRunStartMs, long taskStartedMs) {
        if (cron != null) {
            ZonedDateTime after = Instant.ofEpochMilli(lastRunStartMs == 0 ? taskStartedMs : lastRunStartMs).atZone(ZoneOffset.UTC);
            return cron.nextExecution(after).map(t -> t.toInstant().toEpochMilli()).orElse(Long.MAX_VALUE);
        }
        return lastRunStartMs == 0 ? taskStartedMs + initialDelayMs : lastRunStartMs + intervalMs;
    }

    static Cron parse(String expression) {
        return PARSER.parse(expression).validate();
    }

    static final class CronValidator implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            if (value == null || value.toString().isBlank()) {
                return;
            }
            try {
                parse(value.toString());
            } catch (IllegalArgumentException e) {
                throw new ConfigException(name, value, "not a Unix cron expression (minute hour day-of-month month day-of-week, e.g. "
                        + "'0 3 * * *' for 03:00 UTC every day): " + e.getMessage());
            }
        }

        @Override
        public String toString() {
            return "a Unix cron expression, e.g. 0 3 * * *, or empty";
        }
    }
}
