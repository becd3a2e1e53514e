package dev.lockstep.smt;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RejectedRecordWarningsTest {
    private final AtomicLong now = new AtomicLong(-5); // nanoTime may be negative
    private final RejectedRecordWarnings warnings = new RejectedRecordWarnings(now::get);

    @Test
    void oneLinePerTableAndReasonPerIntervalWithTheCountOfTheOthers() {
        String first = warnings.warn("ToSearchDocument", "public.pgbench_history", FailureReason.NO_KEY, "record has no key", "it went to lockstep-dlq");
        assertThat(first).contains("table public.pgbench_history").contains("no_key").contains("lockstep-dlq")
                .contains("message.key.columns");
        for (int i = 0; i < 999; i++) {
            assertThat(warnings.warn("ToSearchDocument", "public.pgbench_history", FailureReason.NO_KEY, "record has no key", "it went to lockstep-dlq"))
                    .isNull();
        }
        assertThat(warnings.warn("ToSearchDocument", "public.other", FailureReason.NO_KEY, "record has no key", "it went to lockstep-dlq"))
                .as("another table has its own line").isNotNull();
        now.addAndGet(RejectedRecordWarnings.INTERVAL.toNanos());
        assertThat(warnings.warn("ToSearchDocument", "public.pgbench_history", FailureReason.NO_KEY, "record has no key", "it went to lockstep-dlq"))
                .startsWith("999 more records of public.pgbench_history in the last 60 s");
    }
}
