package dev.lockstep.smt;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;

/**
 * The column type of each document field, as the header {@link Lineage#FIELD_TYPES} carries it from the
 * transform (which sees Debezium's Connect schema) to the sink (which may see only JSON bytes), so the sink can
 * map every field by its type without a PostgreSQL connection.
 *
 * <p>The types are PostgreSQL's, in a small vocabulary that says what the sink must know about the document's
 * value: {@code smallint integer bigint numeric(p,s) numeric real double boolean text uuid enum date
 * timestamp(p) timestamptz(p) time timetz interval interval_micros bytea json other}, with {@code []} for arrays.
 * Debezium's logical names decide first; where Debezium writes a plain string (numeric with
 * {@code decimal.handling.mode=string}, interval with {@code interval.handling.mode=string}), the source type it
 * propagates ({@code datatype.propagate.source.type}) decides.
 *
 * <p>The header is {@code name:type} pairs joined by {@code ,} in field order, e.g.
 * {@code id:bigint,price:numeric(12,2),tags:text[]}; in names, {@code \ , : ( )} are escaped with {@code \}.
 */
public final class FieldTypes {
    static final String SOURCE_TYPE = "__debezium.source.column.type";
    static final String SOURCE_LENGTH = "__debezium.source.column.length";
    static final String SOURCE_SCALE = "__debezium.source.column.scale";
    /** Microseconds: Debezium's timestamptz text and PostgreSQL's default timestamp precision. */
    private static final int DEFAULT_TIMESTAMP_PRECISION = 6;

    private FieldTypes() {
    }

    /** The type of a field with this Connect schema (a column of Debezium's after-image). */
    public static String of(Schema schema) {
        String source = param(schema, SOURCE_TYPE);
        if (schema.type() == Schema.Type.ARRAY) {
            // Debezium names an array column's source type with PostgreSQL's '_' prefix: _NUMERIC for numeric[].
            String element = source != null && source.startsWith("_") ? source.substring(1) : null;
            return scalar(schema.valueSchema(), element, param(schema, SOURCE_LENGTH), param(schema, SOURCE_SCALE)) + "[]";
        }
        return scalar(schema, source, param(schema, SOURCE_LENGTH), param(schema, SOURCE_SCALE));
    }

    private static String scalar(Schema schema, String source, String length, String scale) {
        String sourceType = source == null ? "" : source.toUpperCase(java.util.Locale.ROOT);
        String logical = schema.name() == null ? "" : schema.name();
        switch (logical) {
            case Decimal.LOGICAL_NAME:
                return numeric(param(schema, "connect.decimal.precision") != null ? param(schema, "connect.decimal.precision") : length,
                        param(schema, Decimal.SCALE_FIELD));
            case "io.debezium.data.VariableScaleDecimal":
                return "numeric";
            case "io.debezium.time.Date", org.apache.kafka.connect.data.Date.LOGICAL_NAME:
                return "date";
            case "io.debezium.time.Timestamp", org.apache.kafka.connect.data.Timestamp.LOGICAL_NAME:
                return "timestamp(3)";
            case "io.debezium.time.MicroTimestamp":
                return "timestamp(6)";
            case "io.debezium.time.NanoTimestamp":
                return "timestamp(9)";
            case "io.debezium.time.ZonedTimestamp":
                return "timestamptz(" + precision(scale) + ")";
            case "io.debezium.time.Time", "io.debezium.time.MicroTime", "io.debezium.time.NanoTime",
                    org.apache.kafka.connect.data.Time.LOGICAL_NAME:
                return "time";
            case "io.debezium.time.ZonedTime":
                return "timetz";
            case "io.debezium.time.MicroDuration":
                return "interval_micros";
            case "io.debezium.time.Interval":
                return "interval";
            case "io.debezium.data.Uuid":
                return "uuid";
            case "io.debezium.data.Enum":
                return "enum";
            case "io.debezium.data.Json":
                return "json";
            case "io.debezium.data.Xml":
                return "text";
            default:
                break;
        }
        if (schema.type() == Schema.Type.STRING) {
            switch (sourceType) {
                case "NUMERIC", "DECIMAL":
                    return numeric(length, scale);
                case "MONEY":
                    return "numeric";
                case "INTERVAL":
                    return "interval";
                case "UUID":
                    return "uuid";
                default:
                    return "text";
            }
        }
        return switch (schema.type()) {
            case INT8, INT16 -> "smallint";
            case INT32 -> "integer";
            case INT64 -> "bigint";
            case FLOAT32 -> "real";
            case FLOAT64 -> "double";
            case BOOLEAN -> "boolean";
            case BYTES -> "bytea";
            default -> "other";
        };
    }

    /**
     * numeric(p,s) when the precision is known. Debezium reports an unconstrained numeric with a length above
     * PostgreSQL's 1000-digit limit for declared precisions (131089), so anything above 1000 means "any".
     */
    private static String numeric(String precision, String scale) {
        Integer p = integer(precision);
        Integer s = integer(scale);
        if (p == null || p <= 0 || p > 1000 || s == null) {
            return "numeric";
        }
        return "numeric(" + p + "," + s + ")";
    }

    private static int precision(String scale) {
        Integer s = integer(scale);
        return s == null || s < 0 || s > 9 ? DEFAULT_TIMESTAMP_PRECISION : s;
    }

    private static Integer integer(String text) {
        if (text == null) {
            return null;
        }
        try {
            return Integer.valueOf(text.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String param(Schema schema, String name) {
        Map<String, String> params = schema.parameters();
        return params == null ? null : params.get(name);
    }

    /** The header value for these fields, in order: {@code name:type,…}. */
    public static String encode(Map<String, String> typesByField) {
        StringBuilder sb = new StringBuilder(typesByField.size() * 16);
        for (Map.Entry<String, String> e : typesByField.entrySet()) {
            if (sb.length() > 0) {
                sb.append(',');
            }
            String name = e.getKey();
            for (int i = 0; i < name.length(); i++) {
                char c = name.charAt(i);
                if (c == '\\' || c == ',' || c == ':' || c == '(' || c == ')') {
                    sb.append('\\');
                }
                sb.append(c);
            }
            sb.append(':').append(e.getValue());
        }
        return sb.toString();
    }

    /** The fields and types of a header value made by {@link #encode}. */
    public static Map<String, String> decode(String header) {
        Map<String, String> out = new LinkedHashMap<>();
        StringBuilder name = new StringBuilder();
        int i = 0;
        int n = header.length();
        while (i < n) {
            name.setLength(0);
            while (i < n && header.charAt(i) != ':') {
                char c = header.charAt(i++);
                if (c == '\\' && i < n) {
                    c = header.charAt(i++);
                }
                name.append(c);
            }
            if (i >= n) {
                throw new IllegalArgumentException("field types header without a type after '" + name + "': " + header);
            }
            int start = ++i; // after ':'
            int depth = 0;
            while (i < n && (depth > 0 || header.charAt(i) != ',')) {
                char c = header.charAt(i++);
                depth += c == '(' ? 1 : c == ')' ? -1 : 0;
            }
            out.put(name.toString(), header.substring(start, i));
            i++; // the ','
        }
        return out;
    }
}
