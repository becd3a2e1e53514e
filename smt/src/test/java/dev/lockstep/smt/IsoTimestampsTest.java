package dev.lockstep.smt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class IsoTimestampsTest {

    @ParameterizedTest
    @ValueSource(strings = {"2026-01-05T09:30:00Z", "2026-01-05T09:30:00.1Z", "2026-01-05T09:30:00.120Z",
            "2026-01-05T09:30:00.123456Z", "2026-01-05T09:30:00.123456789Z", "2024-02-29T23:59:59.999999Z",
            "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999999Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z",
            // other forms go to OffsetDateTime.parse
            "2026-01-05T09:30:00+02:00", "2026-01-05T09:30:00.5-05:30", "+10000-01-01T00:00:00Z", "2026-01-05T09:30Z", "2026-01-05T09:30:00.Z"})
    void sameInstantAsOffsetDateTimeParse(String text) {
        assertThat(IsoTimestamps.instant(text)).isEqualTo(OffsetDateTime.parse(text).toInstant());
    }

    @ParameterizedTest
    @ValueSource(strings = {"2026-13-05T09:30:00Z", "2026-02-30T09:30:00Z", "2023-02-29T00:00:00Z", "2026-01-05T24:00:00Z",
            "2026-01-05T09:60:00Z", "2026-01-05T09:30:60Z", "2026-01-05T09:30:00.1234567890Z",
            "2026-01-05 09:30:00Z", "2026-01-0xT09:30:00Z", "infinity", "", "2026-01-05T09:30:00"})
    void failsWhereOffsetDateTimeParseFails(String text) {
        assertThatThrownBy(() -> OffsetDateTime.parse(text)).isInstanceOf(DateTimeParseException.class);
        assertThatThrownBy(() -> IsoTimestamps.instant(text)).isInstanceOf(DateTimeParseException.class);
    }

    @Test
    void randomInstantsRoundTrip() {
        Random random = new Random(42);
        for (int i = 0; i < 20_000; i++) {
            Instant instant = Instant.ofEpochSecond(random.nextLong(-62_135_596_800L, 253_402_300_799L), random.nextInt(1_000_000_000));
            for (String text : List.of(instant.toString(), instant.truncatedTo(java.time.temporal.ChronoUnit.MICROS).toString(),
                    instant.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString())) {
                assertThat(IsoTimestamps.instant(text)).as(text).isEqualTo(OffsetDateTime.parse(text).toInstant());
            }
        }
    }
}
