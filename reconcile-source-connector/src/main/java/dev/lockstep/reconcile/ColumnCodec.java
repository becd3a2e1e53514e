package dev.lockstep.reconcile;

import dev.lockstep.smt.hash.HashSql;
import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;

/**
 * How one PostgreSQL column is read and what Connect value it becomes: the value Debezium's PostgreSQL connector
 * gives the column with the settings Lockstep ships (decimal.handling.mode=string, interval.handling.mode=string,
 * time.precision.mode=adaptive, binary.handling.mode=bytes). The transforms then turn the reconciler's rows into
 * the very documents and hashes they make from Debezium's events. Each value is selected with an expression that
 * depends on no session setting.
 */
final class ColumnCodec {
    private final HashSql.Column column;
    private final Schema schema;

    private ColumnCodec(HashSql.Column column, Schema schema) {
        this.column = column;
        this.schema = schema;
    }

    /** The codec of a column, or an {@link IllegalArgumentException} naming the column whose type is not supported. */
    static ColumnCodec of(HashSql.Column column, boolean optional) {
        Schema element = elementSchema(column);
        SchemaBuilder builder = column.array() ? SchemaBuilder.array(optionalCopy(element)) : copy(element);
        if (column.type().equals("numeric")) {
            // As Debezium with the shipped datatype.propagate.source.type: the sink maps this string as a number.
            builder.parameter("__debezium.source.column.type", column.array() ? "_NUMERIC" : "NUMERIC");
        }
        if (optional) {
            builder.optional();
        }
        return new ColumnCodec(column, builder.build());
    }

    String name() {
        return column.name();
    }

    HashSql.Column column() {
        return column;
    }

    Schema schema() {
        return schema;
    }

    /** The select-list expression of the column of table alias {@code alias}. */
    String select(String alias) {
        String ref = alias + "." + quote(column.name());
        if (!column.array()) {
            return scalarExpression(ref);
        }
        String element = scalarExpression("u.e");
        if (element.equals("u.e")) {
            return ref;
        }
        return "CASE WHEN " + ref + " IS NULL THEN NULL ELSE coalesce((SELECT array_agg(" + element
                + " ORDER BY u.o) FROM unnest(" + ref + ") WITH ORDINALITY AS u(e, o)), '{}') END";
    }

    /** Reads the column's value (selected with {@link #select}) as the Connect value Debezium gives it. */
    Object read(ResultSet rs, int index) throws SQLException {
        if (!column.array()) {
            return scalar(rs.getObject(index));
        }
        Array array = rs.getArray(index);
        if (array == null) {
            return null;
        }
        Object[] elements = (Object[]) array.getArray();
        List<Object> out = new ArrayList<>(elements.length);
        for (Object e : elements) {
            out.add(scalar(e));
        }
        return out;
    }

    private Object scalar(Object value) {
        if (value == null) {
            return null;
        }
        return switch (schema.type() == Schema.Type.ARRAY ? schema.valueSchema().type() : schema.type()) {
            case INT16 -> ((Number) value).shortValue();
            case INT32 -> ((Number) value).intValue();
            case INT64 -> ((Number) value).longValue();
            case FLOAT32 -> ((Number) value).floatValue();
            case FLOAT64 -> ((Number) value).doubleValue();
            case BOOLEAN -> value;
            case BYTES -> value;
            default -> value.toString();
        };
    }

    private String scalarExpression(String x) {
        if (column.enumType()) {
            return x + "::text";
        }
        return switch (column.type()) {
            case "int2", "int4", "int8", "float4", "float8", "bool", "bytea", "text", "varchar", "bpchar", "name" -> x;
            case "numeric", "uuid", "json", "jsonb", "citext", "xml" -> x + "::text";
            case "date" -> "(" + x + " - DATE '1970-01-01')";
            case "time" -> "(extract(epoch from " + x + ") * 1000000)::int8";
            case "timestamp" -> "(extract(epoch from " + x + ") * 1000000)::int8";
            case "timestamptz" -> "CASE WHEN isfinite(" + x + ") THEN to_char(" + x
                    + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') ELSE " + x + "::text END";
            case "interval" -> "('P' || extract(year from " + x + ")::int8 || 'Y' || extract(month from " + x + ")::int8 || 'M' || "
                    + "extract(day from " + x + ")::int8 || 'DT' || extract(hour from " + x + ")::int8 || 'H' || extract(minute from "
                    + x + ")::int8 || 'M' || trim_scale(extract(second from " + x + ")) || 'S')";
            default -> throw unsupported();
        };
    }

    private static Schema elementSchema(HashSql.Column column) {
        if (column.enumType()) {
            return Schema.STRING_SCHEMA;
        }
        return switch (column.type()) {
            case "int2" -> Schema.INT16_SCHEMA;
            case "int4" -> Schema.INT32_SCHEMA;
            case "int8" -> Schema.INT64_SCHEMA;
            case "float4" -> Schema.FLOAT32_SCHEMA;
            case "float8" -> Schema.FLOAT64_SCHEMA;
            case "bool" -> Schema.BOOLEAN_SCHEMA;
            case "bytea" -> Schema.BYTES_SCHEMA;
            case "text", "varchar", "bpchar", "name", "citext", "numeric" -> Schema.STRING_SCHEMA;
            case "xml" -> named(Schema.STRING_SCHEMA, "io.debezium.data.Xml");
            case "uuid" -> named(Schema.STRING_SCHEMA, "io.debezium.data.Uuid");
            case "json", "jsonb" -> named(Schema.STRING_SCHEMA, "io.debezium.data.Json");
            case "date" -> named(Schema.INT32_SCHEMA, "io.debezium.time.Date");
            case "time" -> named(Schema.INT64_SCHEMA, "io.debezium.time.MicroTime");
            case "timestamp" -> named(Schema.INT64_SCHEMA, "io.debezium.time.MicroTimestamp");
            case "timestamptz" -> named(Schema.STRING_SCHEMA, "io.debezium.time.ZonedTimestamp");
            case "interval" -> named(Schema.STRING_SCHEMA, "io.debezium.time.Interval");
            default -> throw new IllegalArgumentException("column '" + column.name() + "' has type " + column.type()
                    + (column.array() ? "[]" : "") + ", which the reconciler cannot compare (see docs/canonical-hash.md)");
        };
    }

    private IllegalArgumentException unsupported() {
        return new IllegalArgumentException("column '" + column.name() + "' has type " + column.type()
                + (column.array() ? "[]" : "") + ", which the reconciler cannot compare (see docs/canonical-hash.md)");
    }

    private static Schema named(Schema base, String name) {
        return SchemaBuilder.type(base.type()).name(name).version(1).build();
    }

    private static SchemaBuilder copy(Schema s) {
        SchemaBuilder b = SchemaBuilder.type(s.type());
        if (s.name() != null) {
            b.name(s.name());
        }
        if (s.version() != null) {
            b.version(s.version());
        }
        return b;
    }

    private static Schema optionalCopy(Schema s) {
        return copy(s).optional().build();
    }

    static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    @Override
    public String toString() {
        return column.name() + " " + column.type() + (column.array() ? "[]" : "") + " -> " + schema.type()
                + (schema.name() == null ? "" : " " + schema.name());
    }
}
