package dev.lockstep.sink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.sink.FieldMappings.JsonMapping;
import dev.lockstep.sink.FieldMappings.Options;
import dev.lockstep.sink.FieldMappings.TimestampMapping;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every row of the table in docs/mappings.md. */
class FieldMappingsTest {
    private static final Options DEFAULTS = Options.DEFAULTS;

    private static String mapping(String type) {
        return mapping(type, DEFAULTS);
    }

    private static String mapping(String type, Options options) {
        var m = FieldMappings.of(type, options);
        return m == null ? null : m.toString();
    }

    @Test
    void integersAreLongsSoWideningNeedsNoNewMapping() {
        assertThat(mapping("smallint")).isEqualTo("{\"type\":\"long\",\"ignore_malformed\":true}");
        assertThat(mapping("integer")).isEqualTo("{\"type\":\"long\",\"ignore_malformed\":true}");
        assertThat(mapping("bigint")).isEqualTo("{\"type\":\"long\",\"ignore_malformed\":true}");
    }

    @Test
    void numericsAreDoublesWithTheExactTextWhereADoubleWouldRoundIt() {
        assertThat(mapping("numeric(12,2)")).isEqualTo("{\"type\":\"double\",\"ignore_malformed\":true}");
        assertThat(mapping("numeric(15,4)")).isEqualTo("{\"type\":\"double\",\"ignore_malformed\":true}");
        assertThat(mapping("numeric(16,2)"))
                .isEqualTo("{\"type\":\"double\",\"ignore_malformed\":true,\"fields\":{\"exact\":{\"type\":\"keyword\"}}}");
        assertThat(mapping("numeric"))
                .isEqualTo("{\"type\":\"double\",\"ignore_malformed\":true,\"fields\":{\"exact\":{\"type\":\"keyword\"}}}");
    }

    @Test
    void floatingPoint() {
        assertThat(mapping("real")).isEqualTo("{\"type\":\"float\",\"ignore_malformed\":true}");
        assertThat(mapping("double")).isEqualTo("{\"type\":\"double\",\"ignore_malformed\":true}");
    }

    @Test
    void textIsTextWithAKeywordAsDynamicMappingMakesIt() {
        assertThat(mapping("text"))
                .isEqualTo("{\"type\":\"text\",\"fields\":{\"keyword\":{\"type\":\"keyword\",\"ignore_above\":256}}}");
    }

    @Test
    void identifiersAndEnumsAreKeywords() {
        assertThat(mapping("uuid")).isEqualTo("{\"type\":\"keyword\"}");
        assertThat(mapping("enum")).isEqualTo("{\"type\":\"keyword\"}");
    }

    @Test
    void booleans() {
        assertThat(mapping("boolean")).isEqualTo("{\"type\":\"boolean\"}");
    }

    @Test
    void datesAndTimestampsKeepTheirPrecision() {
        String date = "{\"type\":\"date\",\"format\":\"strict_date_optional_time\",\"ignore_malformed\":true}";
        String nanos = "{\"type\":\"date_nanos\",\"format\":\"strict_date_optional_time_nanos\",\"ignore_malformed\":true}";
        assertThat(mapping("date")).isEqualTo(date);
        assertThat(mapping("timestamp(3)")).isEqualTo(date);
        assertThat(mapping("timestamptz(0)")).isEqualTo(date);
        assertThat(mapping("timestamp(6)")).isEqualTo(nanos);
        assertThat(mapping("timestamptz(6)")).isEqualTo(nanos);
        assertThat(mapping("timestamp(9)")).isEqualTo(nanos);
        assertThat(mapping("timestamptz(6)", new Options(JsonMapping.FLAT_OBJECT, TimestampMapping.DATE))).isEqualTo(date);
    }

    @Test
    void timesAndIntervalsAreKeywordsOrMicroseconds() {
        assertThat(mapping("time")).isEqualTo("{\"type\":\"keyword\"}");
        assertThat(mapping("timetz")).isEqualTo("{\"type\":\"keyword\"}");
        assertThat(mapping("interval")).isEqualTo("{\"type\":\"keyword\"}");
        assertThat(mapping("interval_micros")).isEqualTo("{\"type\":\"long\",\"ignore_malformed\":true}");
    }

    @Test
    void bytesAreBinary() {
        assertThat(mapping("bytea")).isEqualTo("{\"type\":\"binary\"}");
    }

    @Test
    void jsonIsFlatObjectOrAsConfigured() {
        assertThat(mapping("json")).isEqualTo("{\"type\":\"flat_object\"}");
        assertThat(mapping("json", new Options(JsonMapping.OBJECT, TimestampMapping.DATE_NANOS))).isEqualTo("{\"type\":\"object\"}");
        assertThat(mapping("json", new Options(JsonMapping.DISABLED, TimestampMapping.DATE_NANOS)))
                .isEqualTo("{\"type\":\"object\",\"enabled\":false}");
    }

    @Test
    void arraysTakeTheirElementsMapping() {
        assertThat(mapping("numeric(5,1)[]")).isEqualTo(mapping("numeric(5,1)"));
        assertThat(mapping("text[]")).isEqualTo(mapping("text"));
        assertThat(mapping("uuid[]")).isEqualTo("{\"type\":\"keyword\"}");
    }

    @Test
    void unknownTypesAreLeftToDynamicMapping() {
        assertThat(mapping("other")).isNull();
        assertThat(mapping("geometry")).isNull();
        Map<String, String> types = new LinkedHashMap<>();
        types.put("id", "bigint");
        types.put("shape", "other");
        types.put("price", "numeric(12,2)");
        assertThat(FieldMappings.properties(types, DEFAULTS)).containsOnlyKeys("id", "price");
    }
}
