package dev.lockstep.smt.hash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The shape of the SQL that {@link HashSql} generates. Whether PostgreSQL computes the right bytes with it is
 * checked on a real server by HashSqlVectorsIT (the golden vectors) and CrossHashIT (random rows against the
 * Java twin); these tests pin the properties that make it cheap.
 */
class HashSqlTest {
    private static final List<HashSql.Column> PRODUCTS = List.of(HashSql.Column.of("id", "int8"), HashSql.Column.of("name", "text"),
            HashSql.Column.of("price", "numeric"), HashSql.Column.arrayOf("tags", "text"), HashSql.Column.of("attrs", "jsonb"),
            HashSql.Column.of("updated_at", "timestamptz"), HashSql.Column.of("active", "bool"));

    private static int count(String haystack, String needle) {
        int n = 0;
        for (int i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }

    @Test
    void fieldsInByteOrderOfTheirMappedNames() {
        String text = HashSql.canonicalText(PRODUCTS, FieldMapping.ALL, "t");
        assertThat(text).startsWith("'LSR1'");
        List<String> order = List.of("'6:active", "'5:attrs", "'2:id", "'4:name", "'5:price", "'4:tags", "'10:updated_at");
        int last = -1;
        for (String field : order) {
            int at = text.indexOf(field);
            assertThat(at).as(field).isGreaterThan(last);
            last = at;
        }
        String renamed = HashSql.canonicalText(PRODUCTS, new FieldMapping(List.of(), List.of("attrs"), Map.of("id", "zz")), "t");
        assertThat(renamed).doesNotContain("attrs").contains("'2:zzV'").contains("t.\"id\"");
    }

    @Test
    void halvesReferenceTheDigestOnce() {
        assertThat(count(HashSql.hashHi("DIGEST"), "DIGEST")).isEqualTo(1);
        assertThat(count(HashSql.hashLo("DIGEST"), "DIGEST")).isEqualTo(1);
        assertThat(count(HashSql.hash64("DIGEST"), "DIGEST")).isEqualTo(1);
        assertThat(HashSql.hashHi("d")).isEqualTo("('x' || encode(substr(d, 1, 4), 'hex'))::bit(32)::bigint");
        assertThat(HashSql.hashLo("d")).isEqualTo("('x' || encode(substr(d, 5, 4), 'hex'))::bit(32)::bigint");
        assertThat(HashSql.hashHiFromColumn("d.c")).isEqualTo("(get_byte(d.c, 0) * 16777216::bigint + get_byte(d.c, 1) * 65536 + get_byte(d.c, 2) * 256 + get_byte(d.c, 3))");
        assertThat(HashSql.hashLoFromColumn("d.c")).contains("get_byte(d.c, 4) * 16777216::bigint").contains("get_byte(d.c, 7))");
    }

    @Test
    void queriesComputeTheDigestOnceInASubqueryThePlannerKeeps() {
        String digest = HashSql.digest(PRODUCTS, FieldMapping.ALL, "t");
        String select = HashSql.selectHashes("public", "products", PRODUCTS, FieldMapping.ALL, List.of("id"));
        assertThat(count(select, digest)).isEqualTo(1);
        assertThat(select).contains("OFFSET 0) d").startsWith("SELECT d.\"id\", ").contains(" AS hash_hi, ").contains(" AS hash_lo")
                .contains(HashSql.hashHiFromColumn("d.lockstep_digest"));
        String sums = HashSql.sumHashes("public", "products", PRODUCTS, FieldMapping.ALL, "t.\"id\" >= ? AND t.\"id\" < ?");
        assertThat(count(sums, digest)).isEqualTo(1);
        assertThat(sums).startsWith("SELECT count(*) AS rows, sum(").contains(" WHERE t.\"id\" >= ? AND t.\"id\" < ? OFFSET 0) d");
        assertThat(HashSql.sumHashes("public", "products", PRODUCTS, FieldMapping.ALL, null)).doesNotContain("WHERE");
    }

    @Test
    void eachValueFormattedOnceWhereItsLengthIsKnown() {
        String tz = HashSql.canonicalText(List.of(HashSql.Column.of("u", "timestamptz")), FieldMapping.ALL, "t");
        // Within years 1..9999: the literal length and one to_char; outside, the general form (one more pair).
        assertThat(tz).contains("'1:uV27:' || to_char(");
        assertThat(count(tz, "to_char(")).isEqualTo(3);
        String flag = HashSql.canonicalText(List.of(HashSql.Column.of("b", "bool")), FieldMapping.ALL, "t");
        assertThat(flag).contains("'1:bV4:true'").contains("'1:bV5:false'").contains("'1:bN'");
        String chars = HashSql.canonicalText(List.of(new HashSql.Column("c", "bpchar", false, 84, false)), FieldMapping.ALL, "t");
        assertThat(chars).doesNotContain("rpad").contains("octet_length(t.\"c\")").contains("textin(bpcharout(t.\"c\"))");
        String unpadded = HashSql.canonicalText(List.of(new HashSql.Column("c", "bpchar", false, -1, false)), FieldMapping.ALL, "t");
        assertThat(unpadded).contains("t.\"c\"::text").doesNotContain("bpcharout");
    }

    @Test
    void smallArraysOfSimpleTypesInlineOthersUnnest() {
        String tags = HashSql.canonicalText(List.of(HashSql.Column.arrayOf("tags", "text")), FieldMapping.ALL, "t");
        assertThat(tags).contains("t.\"tags\"[" + HashSql.INLINE_ARRAY_ELEMENTS + "]").doesNotContain("t.\"tags\"[" + (HashSql.INLINE_ARRAY_ELEMENTS + 1) + "]");
        assertThat(tags).contains("'4:tagsA1:'").contains("unnest(t.\"tags\") WITH ORDINALITY").contains("ORDER BY u.o");
        String stamps = HashSql.canonicalText(List.of(HashSql.Column.arrayOf("ts", "timestamptz")), FieldMapping.ALL, "t");
        assertThat(stamps).doesNotContain("t.\"ts\"[1]").contains("unnest(t.\"ts\") WITH ORDINALITY");
    }

    @Test
    void unsupportedTypesAreRefusedByName() {
        assertThatThrownBy(() -> HashSql.canonicalText(List.of(HashSql.Column.of("p", "point")), FieldMapping.ALL, "t"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'p'").hasMessageContaining("point");
        assertThatThrownBy(() -> HashSql.canonicalText(List.of(HashSql.Column.arrayOf("q", "inet")), FieldMapping.ALL, "t"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'q'");
    }
}
