package dev.lockstep.smt.hash;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * The SQL twin of {@link CanonicalValues}: generates the PostgreSQL expression that computes a row's canonical
 * text and hash on the server, with built-in functions only (no extension). The expression depends on no
 * session setting (TimeZone, DateStyle, IntervalStyle, extra_float_digits, bytea_output): every value is
 * formatted explicitly. See docs/canonical-hash.md.
 *
 * <p>Run the queries with {@code SET jit = off}. The expression is large, and PostgreSQL's planner estimates
 * it costly enough to JIT-compile it with LLVM (by default from 100,000 cost units, about 130,000 rows of a
 * products-like table, with inlining and optimization from 500,000): that costs up to a second per query, and
 * for a table with many columns (arrays above all) it took minutes and gigabytes, in a loop that does not even
 * answer {@code pg_terminate_backend}. See docs/benchmarks.md.
 */
public final class HashSql {

    /**
     * A column as the generator needs it: its name, its base type name ({@code pg_type.typname}; for an array,
     * the element's), whether it is a one-dimensional array, the declared length of {@code char(n)} (else -1),
     * and whether the type is an enum.
     */
    public record Column(String name, String type, boolean array, int charLength, boolean enumType) {
        public static Column of(String name, String type) {
            return new Column(name, type, false, -1, false);
        }

        public static Column arrayOf(String name, String elementType) {
            return new Column(name, elementType, true, -1, false);
        }
    }

    private HashSql() {
    }

    /** Reads a table's columns from the catalog, in ordinal order. */
    public static List<Column> columns(Connection connection, String schema, String table) throws SQLException {
        String sql = """
                SELECT a.attname,
                       coalesce(et.typname, t.typname) AS base_type,
                       et.oid IS NOT NULL AS is_array,
                       CASE WHEN coalesce(et.typname, t.typname) = 'bpchar' AND a.atttypmod > 4 THEN a.atttypmod - 4 ELSE -1 END,
                       coalesce(et.typtype, t.typtype) = 'e' AS is_enum
                  FROM pg_attribute a
                  JOIN pg_class c ON c.oid = a.attrelid
                  JOIN pg_namespace n ON n.oid = c.relnamespace
                  JOIN pg_type t ON t.oid = a.atttypid
                  LEFT JOIN pg_type et ON t.typcategory = 'A' AND et.oid = t.typelem
                 WHERE n.nspname = ? AND c.relname = ? AND a.attnum > 0 AND NOT a.attisdropped
                 ORDER BY a.attnum""";
        List<Column> columns = new ArrayList<>();
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            ps.setString(1, schema);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.add(new Column(rs.getString(1), rs.getString(2), rs.getBoolean(3), rs.getInt(4), rs.getBoolean(5)));
                }
            }
        }
        if (columns.isEmpty()) {
            throw new SQLException("table " + schema + "." + table + " not found or has no columns");
        }
        return columns;
    }

    /**
     * The expression of a row's canonical text; {@code alias} qualifies the columns (the table's alias).
     *
     * <p>The expression is written for speed (docs/benchmarks.md, "Where the SQL time went"): each field's name
     * is folded into the literal of its value's first part, values with a fixed-length canonical text (boolean,
     * real, double, uuid, and dates, times and timestamps within years 1 to 9999) carry their length as a
     * literal instead of formatting the value twice, {@code char(n)} is read through its output function instead
     * of {@code rpad}, and arrays of up to {@value #INLINE_ARRAY_ELEMENTS} elements are encoded element by
     * element without a subquery. The text is byte for byte the one docs/canonical-hash.md defines.
     */
    public static String canonicalText(List<Column> columns, FieldMapping mapping, String alias) {
        // Fields in the order of their mapped names' UTF-8 bytes, as CanonicalRow sorts them.
        TreeMap<byte[], String> parts = new TreeMap<>(Arrays::compareUnsigned);
        for (Column column : columns) {
            String field = mapping.map(column.name());
            if (field == null) {
                continue;
            }
            byte[] fieldBytes = field.getBytes(StandardCharsets.UTF_8);
            String ref = alias + "." + identifier(column.name());
            parts.put(fieldBytes, valueExpression(fieldBytes.length + ":" + field, column, ref));
        }
        StringBuilder sb = new StringBuilder(literal(CanonicalRow.FORMAT_TAG));
        parts.values().forEach(p -> sb.append("\n  || ").append(p));
        return sb.toString();
    }

    /**
     * The expression of the row's SHA-256 (bytea). Every reference to it computes it again: to use it twice
     * (both halves), compute it once in a subquery that the planner cannot flatten ({@code OFFSET 0}) and split
     * the subquery's column with {@link #hashHiFromColumn} and {@link #hashLoFromColumn}, as
     * {@link #selectHashes} and {@link #sumHashes} do.
     */
    public static String digest(List<Column> columns, FieldMapping mapping, String alias) {
        return "sha256(convert_to(" + canonicalText(columns, mapping, alias) + ", 'UTF8'))";
    }

    /** The unsigned 32-bit high half of a digest expression, as bigint. The digest is referenced once. */
    public static String hashHi(String digest) {
        return "('x' || encode(substr(" + digest + ", 1, 4), 'hex'))::bit(32)::bigint";
    }

    /** The unsigned 32-bit low half of a digest expression, as bigint. The digest is referenced once. */
    public static String hashLo(String digest) {
        return "('x' || encode(substr(" + digest + ", 5, 4), 'hex'))::bit(32)::bigint";
    }

    /**
     * The content hash (the digest's first 8 bytes, big-endian) as a signed bigint: {@code hash_hi * 2^32 +
     * hash_lo} in two's complement. The digest is referenced once.
     */
    public static String hash64(String digest) {
        return "('x' || encode(substr(" + digest + ", 1, 8), 'hex'))::bit(64)::bigint";
    }

    /**
     * {@code hash_hi} from a digest <em>column</em> (a subquery's output, for instance), with integer arithmetic
     * on its bytes: cheaper than {@link #hashHi}, but it reads the column four times, so never pass it the digest
     * expression itself (that would compute the digest four times).
     */
    public static String hashHiFromColumn(String digestColumn) {
        return bytesToBigint(digestColumn, 0);
    }

    /** {@code hash_lo} from a digest column; see {@link #hashHiFromColumn}. */
    public static String hashLoFromColumn(String digestColumn) {
        return bytesToBigint(digestColumn, 4);
    }

    private static String bytesToBigint(String d, int from) {
        return "(get_byte(" + d + ", " + from + ") * 16777216::bigint + get_byte(" + d + ", " + (from + 1) + ") * 65536 + get_byte(" + d + ", "
                + (from + 2) + ") * 256 + get_byte(" + d + ", " + (from + 3) + "))";
    }

    /**
     * A query returning {@code keyColumns..., hash_hi, hash_lo} for every row of the table; the digest is
     * computed once per row (in a subquery that {@code OFFSET 0} keeps the planner from flattening).
     */
    public static String selectHashes(String schema, String table, List<Column> columns, FieldMapping mapping, List<String> keyColumns) {
        StringBuilder inner = new StringBuilder();
        StringBuilder outer = new StringBuilder();
        for (String key : keyColumns) {
            inner.append("t.").append(identifier(key)).append(", ");
            outer.append("d.").append(identifier(key)).append(", ");
        }
        return "SELECT " + outer + hashHiFromColumn("d." + DIGEST_COLUMN) + " AS hash_hi, " + hashLoFromColumn("d." + DIGEST_COLUMN) + " AS hash_lo\n"
                + "  FROM (SELECT " + inner + digest(columns, mapping, "t") + " AS " + DIGEST_COLUMN + "\n"
                + "          FROM " + identifier(schema) + "." + identifier(table) + " t OFFSET 0) d";
    }

    /**
     * A query returning one row {@code rows, sum_hi, sum_lo} (bigint, numeric, numeric): the number of rows of
     * the table that satisfy {@code where} and the sums of their {@code hash_hi} and {@code hash_lo}. The digest
     * is computed once per row. {@code where} is a condition on the columns qualified by {@code t} (it may hold
     * {@code ?} parameters, e.g. {@code t."id" >= ? AND t."id" < ?}), or null for the whole table.
     */
    public static String sumHashes(String schema, String table, List<Column> columns, FieldMapping mapping, String where) {
        return "SELECT count(*) AS rows, sum(" + hashHiFromColumn("d." + DIGEST_COLUMN) + ") AS sum_hi, sum(" + hashLoFromColumn("d." + DIGEST_COLUMN)
                + ") AS sum_lo\n"
                + "  FROM (SELECT " + digest(columns, mapping, "t") + " AS " + DIGEST_COLUMN + "\n"
                + "          FROM " + identifier(schema) + "." + identifier(table) + " t"
                + (where == null || where.isBlank() ? "" : " WHERE " + where) + " OFFSET 0) d";
    }

    /** The column of the inner subquery of {@link #selectHashes} and {@link #sumHashes} that holds the digest. */
    static final String DIGEST_COLUMN = "lockstep_digest";

    /**
     * Arrays of up to this many elements (one-dimensional, lower bound 1) of the {@link #INLINE_ARRAY_TYPES} are
     * encoded without a subquery. The expression grows with the square of it: 4 keeps it small (large expressions
     * cost planning time, and JIT compilation time when {@code jit} is on).
     */
    static final int INLINE_ARRAY_ELEMENTS = 4;

    /** Element types (and enums) whose arrays are encoded inline when small: their element expressions are short. */
    static final Set<String> INLINE_ARRAY_TYPES = Set.of("text", "varchar", "name", "citext", "bpchar", "int2", "int4", "int8", "numeric",
            "bool", "uuid");

    /**
     * The canonical text of one field: its {@code prefix} (the field's {@code length ":" name}; empty for an array
     * element) followed by {@code N}, {@code V<len>:<text>} or, for arrays, {@code A<n>:<elements>}.
     */
    static String valueExpression(String prefix, Column column, String ref) {
        if (!column.array()) {
            return scalar(prefix, column, ref);
        }
        Column element = new Column(column.name(), column.type(), false, column.charLength(), column.enumType());
        String elementText = scalar("", element, "u.e");
        String general = "CASE WHEN " + ref + " IS NULL THEN " + literal(prefix + "N") + " WHEN cardinality(" + ref + ") = 0 THEN " + literal(prefix + "A0:")
                + " ELSE " + literal(prefix + "A") + " || coalesce(cardinality(" + ref + "), 0) || ':' || coalesce((SELECT string_agg(" + elementText
                + ", '' ORDER BY u.o) FROM unnest(" + ref + ") WITH ORDINALITY AS u(e, o)), '') END";
        if (!INLINE_ARRAY_TYPES.contains(column.type()) && !column.enumType()) {
            return general;
        }
        // Small arrays: one branch per cardinality, each element read by subscript. Anything else (longer arrays,
        // other lower bounds, more dimensions, empty, NULL) takes the general form above, which unnests.
        StringBuilder inline = new StringBuilder("CASE WHEN array_ndims(" + ref + ") = 1 AND array_lower(" + ref + ", 1) = 1 THEN CASE cardinality("
                + ref + ")");
        for (int n = 1; n <= INLINE_ARRAY_ELEMENTS; n++) {
            inline.append(" WHEN ").append(n).append(" THEN ").append(literal(prefix + "A" + n + ":"));
            for (int i = 1; i <= n; i++) {
                inline.append(" || ").append(scalar("", element, ref + "[" + i + "]"));
            }
        }
        inline.append(" END END");
        return "coalesce(" + inline + ", " + general + ")";
    }

    /** {@code prefix} followed by {@code N} for NULL, else by {@code V<len>:<text>}. */
    private static String scalar(String prefix, Column column, String x) {
        String n = literal(prefix + "N");
        if (column.enumType()) {
            return general(prefix, x + "::text");
        }
        return switch (column.type()) {
            case "bool" -> "CASE " + x + " WHEN true THEN " + literal(prefix + "V4:true") + " WHEN false THEN " + literal(prefix + "V5:false")
                    + " ELSE " + n + " END";
            case "float4" -> fixed(prefix, x, 8, "encode(float4send(" + x + "), 'hex')");
            case "float8" -> fixed(prefix, x, 16, "encode(float8send(" + x + "), 'hex')");
            case "uuid" -> fixed(prefix, x, 36, x + "::text");
            // A char(n) value is stored padded with spaces to n characters (its input and its length coercion pad
            // it), so its output function returns rpad(x::text, n), and octet_length(x) is that text's length.
            case "bpchar" -> column.charLength() > 0
                    ? "CASE WHEN " + x + " IS NULL THEN " + n + " ELSE " + literal(prefix + "V") + " || octet_length(" + x + ") || ':' || textin(bpcharout("
                            + x + ")) END"
                    : general(prefix, x + "::text");
            case "bytea" -> "CASE WHEN " + x + " IS NULL THEN " + n + " ELSE " + literal(prefix + "V") + " || (2 * octet_length(" + x
                    + ")) || ':' || encode(" + x + ", 'hex') END";
            // Within years 1 to 9999 these texts have a fixed length; outside (and for infinity) the general form.
            case "date" -> inRange(prefix, x, "DATE '0001-01-01'", "DATE '10000-01-01'", 10, "to_char(" + x + ", 'YYYY-MM-DD')", column);
            case "time" -> fixed(prefix, x, 15, textExpression(column, x));
            case "timestamp" -> inRange(prefix, x, "TIMESTAMP '0001-01-01'", "TIMESTAMP '10000-01-01'", 26,
                    "to_char(" + x + ", 'YYYY-MM-DD\"T\"HH24:MI:SS.US')", column);
            case "timestamptz" -> inRange(prefix, x, "TIMESTAMPTZ '0001-01-01 00:00:00+00'", "TIMESTAMPTZ '10000-01-01 00:00:00+00'", 27,
                    "to_char(" + x + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')", column);
            default -> general(prefix, textExpression(column, x));
        };
    }

    /** {@code coalesce(prefix 'V' || octet_length(text) || ':' || text, prefix 'N')}: the text is computed twice. */
    private static String general(String prefix, String text) {
        return "coalesce(" + literal(prefix + "V") + " || octet_length(" + text + ") || ':' || " + text + ", " + literal(prefix + "N") + ")";
    }

    /** A value whose text always has {@code length} bytes. */
    private static String fixed(String prefix, String x, int length, String text) {
        return "CASE WHEN " + x + " IS NULL THEN " + literal(prefix + "N") + " ELSE " + literal(prefix + "V" + length + ":") + " || " + text + " END";
    }

    /** A value whose text has {@code length} bytes when {@code from <= x < to}; else (NULL too) the general form. */
    private static String inRange(String prefix, String x, String from, String to, int length, String text, Column column) {
        return "CASE WHEN " + x + " >= " + from + " AND " + x + " < " + to + " THEN " + literal(prefix + "V" + length + ":") + " || " + text
                + " ELSE " + general(prefix, textExpression(column, x)) + " END";
    }

    /** The canonical text of one non-array value; NULL in, NULL out. */
    static String textExpression(Column column, String x) {
        if (column.enumType()) {
            return x + "::text";
        }
        return switch (column.type()) {
            case "int2", "int4", "int8", "numeric", "text", "varchar", "name", "uuid", "json", "jsonb", "xml", "citext" -> x + "::text";
            case "bpchar" -> column.charLength() > 0 ? "rpad(" + x + "::text, " + column.charLength() + ")" : x + "::text";
            case "float4" -> "encode(float4send(" + x + "), 'hex')";
            case "float8" -> "encode(float8send(" + x + "), 'hex')";
            case "bool" -> "CASE " + x + " WHEN true THEN 'true' WHEN false THEN 'false' END";
            case "bytea" -> "encode(" + x + ", 'hex')";
            case "date" -> "to_char(" + x + ", 'YYYY-MM-DD')";
            case "time" -> "CASE WHEN " + x + " = TIME '24:00' THEN '24:00:00.000000' ELSE to_char(TIMESTAMP '2000-01-01' + " + x
                    + ", 'HH24:MI:SS.US') END";
            case "timestamp" -> "to_char(" + x + ", 'YYYY-MM-DD\"T\"HH24:MI:SS.US')";
            case "timestamptz" -> "CASE WHEN isfinite(" + x + ") THEN to_char(" + x + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') ELSE "
                    + x + "::text END";
            case "interval" -> "((extract(year from " + x + ") * 12 + extract(month from " + x + "))::bigint || ',' || extract(day from "
                    + x + ")::bigint || ',' || (extract(hour from " + x + ") * 3600000000 + extract(minute from " + x
                    + ") * 60000000 + extract(microseconds from " + x + "))::bigint)";
            default -> throw new IllegalArgumentException("column '" + column.name() + "' has type " + column.type()
                    + (column.array() ? "[]" : "") + ", which has no canonical form (see docs/canonical-hash.md)");
        };
    }

    static String identifier(String name) {
        return '"' + name.replace("\"", "\"\"") + '"';
    }

    static String literal(String text) {
        return "'" + text.replace("'", "''") + "'";
    }
}
