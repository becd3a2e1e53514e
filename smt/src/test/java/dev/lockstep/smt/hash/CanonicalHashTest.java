package dev.lockstep.smt.hash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

class CanonicalHashTest {

    @TestFactory
    List<DynamicTest> goldenVectors() throws Exception {
        return GoldenVectors.load().stream().map(v -> DynamicTest.dynamicTest(v.name(), () -> {
            CanonicalRow row = CanonicalValues.row(v.row(), FieldMapping.ALL);
            assertThat(row.encode()).isEqualTo(v.canonicalText());
            RowHash hash = row.hash();
            assertThat(hash.hex()).isEqualTo(v.hash());
            assertThat(hash.hi()).isEqualTo(v.hashHi());
            assertThat(hash.lo()).isEqualTo(v.hashLo());
        })).toList();
    }

    @Test
    void nullEmptyAndAbsentDiffer() {
        String empty = new CanonicalRow().put("x", new CanonicalRow.Text("")).encode();
        String nul = new CanonicalRow().put("x", CanonicalRow.NULL).encode();
        String absent = new CanonicalRow().encode();
        assertThat(List.of(empty, nul, absent)).doesNotHaveDuplicates();
    }

    @Test
    void lengthPrefixesKeepFieldBoundaries() {
        // Without prefixes, ("ab","c") and ("a","bc") would concatenate alike.
        String one = new CanonicalRow().put("x", new CanonicalRow.Text("ab")).put("y", new CanonicalRow.Text("c")).encode();
        String two = new CanonicalRow().put("x", new CanonicalRow.Text("a")).put("y", new CanonicalRow.Text("bc")).encode();
        assertThat(one).isNotEqualTo(two);
        String array = new CanonicalRow().put("x", new CanonicalRow.Array(List.of("a,b"))).encode();
        String array2 = new CanonicalRow().put("x", new CanonicalRow.Array(List.of("a", "b"))).encode();
        assertThat(array).isNotEqualTo(array2);
    }

    @Test
    void utf8LengthCountsBytes() {
        assertThat(CanonicalRow.utf8Length("aé✓😀")).isEqualTo(1 + 2 + 3 + 4);
    }

    @Test
    void hashHalvesAreUnsignedAndRoundTrip() {
        RowHash h = RowHash.of("anything");
        assertThat(h.hi()).isBetween(0L, 0xFFFF_FFFFL);
        assertThat(RowHash.fromHex(h.hex())).isEqualTo(h);
    }

    @Test
    void mappingRenamesAndExcludes() {
        Schema s = SchemaBuilder.struct().field("id", Schema.INT64_SCHEMA).field("descr", Schema.STRING_SCHEMA)
                .field("secret", Schema.STRING_SCHEMA).build();
        Struct row = new Struct(s).put("id", 1L).put("descr", "d").put("secret", "x");
        FieldMapping mapping = new FieldMapping(List.of(), List.of("secret"), Map.of("descr", "description"));
        assertThat(CanonicalValues.row(row, mapping).encode()).isEqualTo("LSR111:descriptionV1:d2:idV1:1");
    }

    @Test
    void unknownLogicalStructIsAnErrorNamingTheField() {
        Schema point = SchemaBuilder.struct().name("io.debezium.data.geometry.Point").field("x", Schema.FLOAT64_SCHEMA).build();
        Schema s = SchemaBuilder.struct().field("where", point).build();
        Struct row = new Struct(s).put("where", new Struct(point).put("x", 1.0));
        assertThatThrownBy(() -> CanonicalValues.row(row, FieldMapping.ALL)).isInstanceOf(DataException.class)
                .hasMessageContaining("'where'").hasMessageContaining("io.debezium.data.geometry.Point");
    }

    @Test
    void multiDimensionalArraysAreRejected() {
        assertThatThrownBy(() -> CanonicalValues.value("m", List.of(List.of(1)), null)).isInstanceOf(DataException.class)
                .hasMessageContaining("'m'");
    }

    @Test
    void handWrittenFormattingMatchesStringFormat() {
        java.util.Random random = new java.util.Random(7);
        for (long v : new long[] {0, 1, 9, 10, 99, 100, 999, 1000, 9999, 10000, 123456, 1234567, -1, -9, -10, -999, -1000, -12345}) {
            for (int width : new int[] {2, 4, 6}) {
                assertThat(CanonicalValues.padded(new StringBuilder(), v, width).toString()).as(v + " width " + width)
                        .isEqualTo(String.format("%0" + width + "d", v));
            }
        }
        for (int i = 0; i < 20_000; i++) {
            java.time.LocalDate d = java.time.LocalDate.ofEpochDay(random.nextLong(-1_000_000, 3_000_000));
            assertThat(CanonicalValues.date(d)).isEqualTo(String.format("%04d-%02d-%02d", d.getYear(), d.getMonthValue(), d.getDayOfMonth()));
            long m = random.nextLong(0, 86_400_000_000L);
            assertThat(CanonicalValues.time(m)).isEqualTo(String.format("%02d:%02d:%02d.%06d", m / 3_600_000_000L, m / 60_000_000L % 60,
                    m / 1_000_000L % 60, m % 1_000_000L));
            long hi = random.nextLong(0, 0x1_0000_0000L);
            long lo = random.nextLong(0, 0x1_0000_0000L);
            assertThat(new RowHash(hi, lo).hex()).isEqualTo(String.format("%08x%08x", hi, lo));
            double x = random.nextDouble() * (random.nextBoolean() ? -1e300 : 1e-300);
            assertThat(java.util.HexFormat.of().toHexDigits(Double.doubleToLongBits(x))).isEqualTo(String.format("%016x", Double.doubleToLongBits(x)));
            float f = (float) x;
            assertThat(java.util.HexFormat.of().toHexDigits(Float.floatToIntBits(f))).isEqualTo(String.format("%08x", Float.floatToIntBits(f)));
        }
        assertThat(CanonicalValues.time(86_400_000_000L)).isEqualTo("24:00:00.000000");
    }
}
