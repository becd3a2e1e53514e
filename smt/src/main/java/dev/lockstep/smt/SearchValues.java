package dev.lockstep.smt;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;

/**
 * Converts Connect values (with Debezium's logical types) into plain Java values that serialise to sane
 * search fields: exact numerics, ISO-8601 UTC times, base64 bytes, JSON as objects, arrays as lists.
 */
public final class SearchValues {

    /** How exact numerics (PostgreSQL numeric/decimal) are written into documents. */
    public enum NumericFormat {
        /** Exact text, e.g. "19.90": nothing is lost, even beyond double precision. */
        STRING,
        /** A JSON number with every digit kept; the search engine may still store it as a double. */
        NUMBER
    }

    static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);

    private static final long MICROS_PER_SECOND = 1_000_000L;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private SearchValues() {
    }

    /** Normalises a value described by {@code schema}; {@code schema} may be null for schemaless values. */
    public static Object normalise(Object value, Schema schema, NumericFormat numericFormat) {
        if (value == null) {
            return null;
        }
        String logical = schema == null ? null : schema.name();
        if (logical != null) {
            Object converted = logical(logical, value, numericFormat);
            if (converted != NOT_LOGICAL) {
                return converted;
            }
        }
        if (value instanceof Struct struct) {
            return toMap(struct, numericFormat);
        }
        if (value instanceof List<?> list) {
            Schema elementSchema = schema == null ? null : schema.valueSchema();
            List<Object> out = new ArrayList<>(list.size());
            for (Object element : list) {
                out.add(normalise(element, elementSchema, numericFormat));
            }
            return out;
        }
        if (value instanceof Map<?, ?> map) {
            Schema valueSchema = schema == null ? null : schema.valueSchema();
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                out.put(String.valueOf(e.getKey()), normalise(e.getValue(), valueSchema, numericFormat));
            }
            return out;
        }
        if (value instanceof byte[] || value instanceof ByteBuffer) {
            return Base64.getEncoder().encodeToString(bytes(value));
        }
        if (value instanceof BigDecimal decimal) {
            return numeric(decimal, numericFormat);
        }
        if (value instanceof java.util.Date date) {
            // A Connect Date/Time/Timestamp without its logical name (schemaless): treat as an instant.
            return DateTimeFormatter.ISO_INSTANT.format(date.toInstant());
        }
        return value;
    }

    /** A Struct (a row) as an ordered map of normalised field values. */
    public static Map<String, Object> toMap(Struct struct, NumericFormat numericFormat) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Field field : struct.schema().fields()) {
            out.put(field.name(), normalise(struct.get(field), field.schema(), numericFormat));
        }
        return out;
    }

    private static final Object NOT_LOGICAL = new Object();

    private static Object logical(String name, Object value, NumericFormat numericFormat) {
        switch (name) {
            case Decimal.LOGICAL_NAME:
                return numeric((BigDecimal) value, numericFormat);
            case "io.debezium.data.VariableScaleDecimal": {
                Struct s = (Struct) value;
                byte[] unscaled = bytes(s.get("value"));
                if (unscaled == null) {
                    return null; // NaN / infinity have no exact form; Debezium sends them without a value
                }
                return numeric(new BigDecimal(new BigInteger(unscaled), s.getInt32("scale")), numericFormat);
            }
            case "io.debezium.time.Date":
            case org.apache.kafka.connect.data.Date.LOGICAL_NAME:
                return value instanceof java.util.Date d
                        ? LocalDate.ofEpochDay(Math.floorDiv(d.getTime(), 86_400_000L)).toString()
                        : LocalDate.ofEpochDay(((Number) value).longValue()).toString();
            case "io.debezium.time.Time":
                return LocalTime.ofNanoOfDay(((Number) value).longValue() * 1_000_000L).toString();
            case "io.debezium.time.MicroTime":
                return LocalTime.ofNanoOfDay(((Number) value).longValue() * 1_000L).toString();
            case "io.debezium.time.NanoTime":
                return LocalTime.ofNanoOfDay(((Number) value).longValue()).toString();
            case org.apache.kafka.connect.data.Time.LOGICAL_NAME:
                return LocalTime.ofNanoOfDay(((java.util.Date) value).getTime() * 1_000_000L).toString();
            case "io.debezium.time.Timestamp":
                return iso(Instant.ofEpochMilli(((Number) value).longValue()));
            case "io.debezium.time.MicroTimestamp": {
                long micros = ((Number) value).longValue();
                return iso(Instant.ofEpochSecond(Math.floorDiv(micros, MICROS_PER_SECOND),
                        Math.floorMod(micros, MICROS_PER_SECOND) * 1_000L));
            }
            case "io.debezium.time.NanoTimestamp": {
                long nanos = ((Number) value).longValue();
                return iso(Instant.ofEpochSecond(Math.floorDiv(nanos, NANOS_PER_SECOND), Math.floorMod(nanos, NANOS_PER_SECOND)));
            }
            case org.apache.kafka.connect.data.Timestamp.LOGICAL_NAME:
                return iso(((java.util.Date) value).toInstant());
            case "io.debezium.time.ZonedTimestamp":
                return zonedTimestamp(value.toString());
            case "io.debezium.data.Json":
                return parseJson(value.toString());
            default:
                return NOT_LOGICAL;
        }
    }

    private static Object numeric(BigDecimal decimal, NumericFormat numericFormat) {
        return numericFormat == NumericFormat.STRING ? decimal.toPlainString() : decimal;
    }

    private static String iso(Instant instant) {
        return DateTimeFormatter.ISO_INSTANT.format(instant);
    }

    /** Debezium sends timestamptz as ISO text with an offset; search wants one zone, UTC. */
    private static String zonedTimestamp(String text) {
        try {
            return iso(IsoTimestamps.instant(text));
        } catch (DateTimeParseException e) {
            // 'infinity' and '-infinity' have no instant; keep them as PostgreSQL spells them.
            return text.toLowerCase(Locale.ROOT);
        }
    }

    private static Object parseJson(String text) {
        try {
            return JSON.readValue(text, Object.class);
        } catch (JsonProcessingException e) {
            throw new DataException("value of logical type io.debezium.data.Json is not valid JSON: " + e.getOriginalMessage());
        }
    }

    /** The bytes of a Connect BYTES value (a byte[] or a ByteBuffer, whose position is left alone). */
    public static byte[] bytes(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof byte[] b) {
            return b;
        }
        ByteBuffer copy = ((ByteBuffer) value).duplicate();
        byte[] bytes = new byte[copy.remaining()];
        copy.get(bytes);
        return bytes;
    }
}
