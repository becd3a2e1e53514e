package dev.lockstep.smt;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.junit.jupiter.api.Test;

class FieldTypesTest {

    /** A Debezium column schema with the source type parameters of datatype.propagate.source.type. */
    private static Schema source(SchemaBuilder b, String type, String length, String scale) {
        b.parameter(FieldTypes.SOURCE_TYPE, type);
        if (length != null) {
            b.parameter(FieldTypes.SOURCE_LENGTH, length);
        }
        if (scale != null) {
            b.parameter(FieldTypes.SOURCE_SCALE, scale);
        }
        return b.optional().build();
    }

    private static Schema named(SchemaBuilder b, String name) {
        return b.name(name).optional().build();
    }

    @Test
    void debeziumSchemasGiveTheColumnTypes() {
        assertThat(FieldTypes.of(Schema.INT16_SCHEMA)).isEqualTo("smallint");
        assertThat(FieldTypes.of(Schema.INT32_SCHEMA)).isEqualTo("integer");
        assertThat(FieldTypes.of(Schema.INT64_SCHEMA)).isEqualTo("bigint");
        assertThat(FieldTypes.of(Schema.FLOAT32_SCHEMA)).isEqualTo("real");
        assertThat(FieldTypes.of(Schema.FLOAT64_SCHEMA)).isEqualTo("double");
        assertThat(FieldTypes.of(Schema.BOOLEAN_SCHEMA)).isEqualTo("boolean");
        assertThat(FieldTypes.of(Schema.STRING_SCHEMA)).isEqualTo("text");
        assertThat(FieldTypes.of(Schema.BYTES_SCHEMA)).isEqualTo("bytea");
        assertThat(FieldTypes.of(named(SchemaBuilder.string(), "io.debezium.data.Uuid"))).isEqualTo("uuid");
        assertThat(FieldTypes.of(named(SchemaBuilder.string(), "io.debezium.data.Enum"))).isEqualTo("enum");
        assertThat(FieldTypes.of(named(SchemaBuilder.string(), "io.debezium.data.Json"))).isEqualTo("json");
        assertThat(FieldTypes.of(named(SchemaBuilder.int32(), "io.debezium.time.Date"))).isEqualTo("date");
        assertThat(FieldTypes.of(named(SchemaBuilder.int64(), "io.debezium.time.Timestamp"))).isEqualTo("timestamp(3)");
        assertThat(FieldTypes.of(named(SchemaBuilder.int64(), "io.debezium.time.MicroTimestamp"))).isEqualTo("timestamp(6)");
        assertThat(FieldTypes.of(named(SchemaBuilder.int64(), "io.debezium.time.NanoTimestamp"))).isEqualTo("timestamp(9)");
        assertThat(FieldTypes.of(named(SchemaBuilder.string(), "io.debezium.time.ZonedTimestamp"))).isEqualTo("timestamptz(6)");
        assertThat(FieldTypes.of(named(SchemaBuilder.int64(), "io.debezium.time.MicroTime"))).isEqualTo("time");
        assertThat(FieldTypes.of(named(SchemaBuilder.string(), "io.debezium.time.ZonedTime"))).isEqualTo("timetz");
        assertThat(FieldTypes.of(named(SchemaBuilder.string(), "io.debezium.time.Interval"))).isEqualTo("interval");
        assertThat(FieldTypes.of(named(SchemaBuilder.int64(), "io.debezium.time.MicroDuration"))).isEqualTo("interval_micros");
        assertThat(FieldTypes.of(Decimal.builder(2).parameter("connect.decimal.precision", "12").build())).isEqualTo("numeric(12,2)");
        assertThat(FieldTypes.of(Decimal.builder(2).build())).isEqualTo("numeric");
        assertThat(FieldTypes.of(named(SchemaBuilder.struct(), "io.debezium.data.VariableScaleDecimal"))).isEqualTo("numeric");
        assertThat(FieldTypes.of(SchemaBuilder.struct().name("io.debezium.data.geometry.Point").build())).isEqualTo("other");
        assertThat(FieldTypes.of(SchemaBuilder.array(Schema.STRING_SCHEMA).build())).isEqualTo("text[]");
    }

    @Test
    void propagatedSourceTypesTellNumericsAndPrecisionsApart() {
        // decimal.handling.mode=string: a numeric is a plain string; the source type says what it is.
        assertThat(FieldTypes.of(source(SchemaBuilder.string(), "NUMERIC", "12", "2"))).isEqualTo("numeric(12,2)");
        assertThat(FieldTypes.of(source(SchemaBuilder.string(), "NUMERIC", "0", null))).isEqualTo("numeric");
        assertThat(FieldTypes.of(source(SchemaBuilder.string(), "MONEY", "2147483647", "0"))).isEqualTo("numeric");
        assertThat(FieldTypes.of(source(SchemaBuilder.string(), "VARCHAR", "20", "0"))).isEqualTo("text");
        assertThat(FieldTypes.of(source(SchemaBuilder.array(Schema.OPTIONAL_STRING_SCHEMA), "_NUMERIC", "5", "1"))).isEqualTo("numeric(5,1)[]");
        assertThat(FieldTypes.of(source(SchemaBuilder.string().name("io.debezium.time.ZonedTimestamp"), "TIMESTAMPTZ", "28", "0")))
                .isEqualTo("timestamptz(0)");
        // decimal.handling.mode=double: the value is a double, whatever the column was.
        assertThat(FieldTypes.of(source(SchemaBuilder.float64(), "NUMERIC", "12", "2"))).isEqualTo("double");
    }

    @Test
    void headerRoundTripsAnyFieldName() {
        Map<String, String> types = new LinkedHashMap<>();
        types.put("id", "bigint");
        types.put("price", "numeric(12,2)");
        types.put("odd, name: (x)\\", "text[]");
        types.put("tags", "numeric(5,1)[]");
        String header = FieldTypes.encode(types);
        assertThat(header).startsWith("id:bigint,price:numeric(12,2),odd\\, name\\: \\(x\\)\\\\:text[],");
        assertThat(FieldTypes.decode(header)).containsExactlyEntriesOf(types);
        assertThat(FieldTypes.decode("")).isEmpty();
    }
}
