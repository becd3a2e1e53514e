package dev.lockstep.sink;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The OpenSearch mapping of a field from its column type ({@link dev.lockstep.smt.FieldTypes}): a pure function,
 * the one place that decides it (docs/mappings.md has the table and the reasons). A versioned rebuild can call
 * {@link #properties} to make the mapping of a new index from the same types.
 *
 * <p>Every typed field that a valid PostgreSQL value can fail to parse into (NaN, infinity, a timestamp outside
 * date_nanos' range, a value of a column whose type changed) gets {@code ignore_malformed}: such a value stays in
 * {@code _source}, the field is listed in {@code _ignored}, and the document is indexed, never dead-lettered.
 */
public final class FieldMappings {
    /** Above this many significant digits a double no longer round-trips every numeric(p,s) value. */
    static final int DOUBLE_EXACT_DIGITS = 15;
    /** The keyword subfield that keeps a numeric's exact text where a double would round it. */
    public static final String EXACT_SUBFIELD = "exact";

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    /** How json/jsonb columns are mapped. */
    public enum JsonMapping {
        /** One field for the whole object: every key searchable by path, no mapping growth. Objects only. */
        FLAT_OBJECT,
        /** An object with dynamically mapped subfields: typed, but each distinct key adds a field. */
        OBJECT,
        /** Kept in _source, not indexed: any JSON value. */
        DISABLED
    }

    /** How timestamps with sub-millisecond precision are mapped. */
    public enum TimestampMapping {
        /** date_nanos: the precision is kept; only 1970 to 2262 is indexed (other values stay in _source). */
        DATE_NANOS,
        /** date: milliseconds, any year. */
        DATE
    }

    /** The options that shape derived mappings. */
    public record Options(JsonMapping json, TimestampMapping timestamps) {
        public static final Options DEFAULTS = new Options(JsonMapping.FLAT_OBJECT, TimestampMapping.DATE_NANOS);
    }

    private FieldMappings() {
    }

    /** The mapping of each field with a known mapping, in order; fields of type {@code other} are left to dynamic mapping. */
    public static Map<String, ObjectNode> properties(Map<String, String> typesByField, Options options) {
        Map<String, ObjectNode> out = new LinkedHashMap<>();
        typesByField.forEach((field, type) -> {
            ObjectNode mapping = of(type, options);
            if (mapping != null) {
                out.put(field, mapping);
            }
        });
        return out;
    }

    /** The mapping of a field of this column type, or null to leave it to dynamic mapping. */
    public static ObjectNode of(String type, Options options) {
        if (type.endsWith("[]")) {
            return of(type.substring(0, type.length() - 2), options); // OpenSearch fields are multi-valued
        }
        int paren = type.indexOf('(');
        String base = (paren < 0 ? type : type.substring(0, paren)).toLowerCase(Locale.ROOT);
        int[] params = params(type, paren);
        return switch (base) {
            // All integers as long: widening int to bigint, the common change, then needs no new mapping.
            // ignore_malformed: after integer -> text, text values must not reject the document.
            case "smallint", "integer", "bigint", "interval_micros" -> type("long").put("ignore_malformed", true);
            case "numeric" -> numeric(params.length > 0 ? params[0] : null);
            case "real" -> type("float").put("ignore_malformed", true);
            case "double" -> type("double").put("ignore_malformed", true);
            case "boolean" -> type("boolean");
            case "text" -> text();
            case "uuid", "enum", "time", "timetz", "interval" -> type("keyword");
            case "date" -> date("date", "strict_date_optional_time");
            case "timestamp", "timestamptz" -> params.length > 0 && params[0] <= 3 || options.timestamps() == TimestampMapping.DATE
                    ? date("date", "strict_date_optional_time")
                    : date("date_nanos", "strict_date_optional_time_nanos");
            case "bytea" -> type("binary");
            case "json" -> switch (options.json()) {
                case FLAT_OBJECT -> type("flat_object");
                case OBJECT -> type("object");
                case DISABLED -> type("object").put("enabled", false);
            };
            default -> null;
        };
    }

    /** A number for range queries and sorting; the exact text as a keyword too where a double would round it. */
    private static ObjectNode numeric(Integer precision) {
        ObjectNode mapping = type("double").put("ignore_malformed", true);
        if (precision == null || precision > DOUBLE_EXACT_DIGITS) {
            mapping.putObject("fields").putObject(EXACT_SUBFIELD).put("type", "keyword");
        }
        return mapping;
    }

    /** Full text, plus the keyword subfield OpenSearch's dynamic mapping adds to strings (so existing indices agree). */
    private static ObjectNode text() {
        ObjectNode mapping = type("text");
        mapping.putObject("fields").putObject("keyword").put("type", "keyword").put("ignore_above", 256);
        return mapping;
    }

    private static ObjectNode date(String type, String format) {
        return type(type).put("format", format).put("ignore_malformed", true);
    }

    private static ObjectNode type(String type) {
        return JSON.objectNode().put("type", type);
    }

    /** The integers between the parentheses of numeric(12,2) or timestamp(6); none when absent or unreadable. */
    private static int[] params(String type, int paren) {
        if (paren < 0 || !type.endsWith(")")) {
            return new int[0];
        }
        String[] parts = type.substring(paren + 1, type.length() - 1).split(",");
        int[] out = new int[parts.length];
        try {
            for (int i = 0; i < parts.length; i++) {
                out[i] = Integer.parseInt(parts[i].trim());
            }
        } catch (NumberFormatException e) {
            return new int[0];
        }
        return out;
    }
}
