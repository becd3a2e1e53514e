package dev.lockstep.smt.hash;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;

/**
 * The SQL twin of {@link CanonicalValues}: generates the PostgreSQL expression that computes a row's canonical
 * text and hash on the server, with built-in functions only (no extension). The expression depends on no
 * session setting (TimeZone, DateStyle, IntervalStyle, extra_float_digits, bytea_output): every value is
 * formatted explicitly. See docs/canonical-hash.md.
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

    /** The expression of a row's canonical text; {@code alias} qualifies the columns (the table's alias). */
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
            parts.put(fieldBytes, literal(fieldBytes.length + ":" + field) + " || " + valueExpression(column, ref));
        }
        StringBuilder sb = new StringBuilder(literal(CanonicalRow.FORMAT_TAG));
        parts.values().forEach(p -> sb.append("\n  || ").append(p));
        return sb.toString();
    }

    /** The expression of the row's SHA-256 (bytea). */
    public static String digest(List<Column> columns, FieldMapping mapping, String alias) {
        return "sha256(convert_to(" + canonicalText(columns, mapping, alias) + ", 'UTF8'))";
    }

    /** The unsigned 32-bit high half of a digest expression, as bigint. */
    public static String hashHi(String digest) {
        return "('x' || substr(encode(" + digest + ", 'hex'), 1, 8))::bit(32)::bigint";
    }

    /** The unsigned 32-bit low half of a digest expression, as bigint. */
    public static String hashLo(String digest) {
        return "('x' || substr(encode(" + digest + ", 'hex'), 9, 8))::bit(32)::bigint";
    }

    /**
     * A query returning {@code keyColumns..., hash_hi, hash_lo} for every row of the table; the digest is
     * computed once per row.
     */
    public static String selectHashes(String schema, String table, List<Column> columns, FieldMapping mapping, List<String> keyColumns) {
        StringBuilder keys = new StringBuilder();
        for (String key : keyColumns) {
            keys.append("t.").append(identifier(key)).append(", ");
        }
        return "SELECT " + keys + hashHi("d.digest") + " AS hash_hi, " + hashLo("d.digest") + " AS hash_lo\n"
                + "  FROM " + identifier(schema) + "." + identifier(table) + " t\n"
                + "  CROSS JOIN LATERAL (SELECT " + digest(columns, mapping, "t") + " AS digest) d";
    }

    /** {@code 'N'} for NULL, else {@code 'V' || <len> || ':' || <text>}; arrays as {@code 'A' || <n> || ':' ...}. */
    static String valueExpression(Column column, String ref) {
        if (!column.array()) {
            return scalar(textExpression(column, ref));
        }
        String element = scalar(textExpression(column, "u.e"));
        return "CASE WHEN " + ref + " IS NULL THEN 'N' ELSE 'A' || coalesce(cardinality(" + ref + "), 0) || ':' || coalesce(("
                + "SELECT string_agg(" + element + ", '' ORDER BY u.o) FROM unnest(" + ref + ") WITH ORDINALITY AS u(e, o)), '') END";
    }

    private static String scalar(String text) {
        return "coalesce('V' || octet_length(" + text + ") || ':' || " + text + ", 'N')";
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
