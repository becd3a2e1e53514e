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
}
