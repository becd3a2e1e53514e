package dev.lockstep.smt.hash;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import dev.lockstep.smt.SearchValues;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;

/**
 * Canonical text of Debezium's representation of PostgreSQL values, per docs/canonical-hash.md. The SQL twin
 * is {@link HashSql}; both are held to docs/canonical-hash-vectors.json.
 */
public final class CanonicalValues {
    private static final HexFormat HEX = HexFormat.of();
    private static final long MICROS_PER_DAY = 86_400_000_000L;
    private static final Pattern ISO_INTERVAL = Pattern.compile(
            "P(?:(-?\\d+)Y)?(?:(-?\\d+)M)?(?:(-?\\d+)D)?(?:T(?:(-?\\d+)H)?(?:(-?\\d+)M)?(?:(-?\\d+(?:\\.\\d+)?)S)?)?");

    private CanonicalValues() {
    }

    /** The canonical row of a Debezium after-image (Struct) or a schemaless row (Map). */
    public static CanonicalRow row(Object row, FieldMapping mapping) {
        CanonicalRow canonical = new CanonicalRow();
        if (row instanceof Struct struct) {
            for (Field field : struct.schema().fields()) {
                String name = mapping.map(field.name());
                if (name != null) {
                    canonical.put(name, value(field.name(), struct.get(field), field.schema()));
                }
            }
        } else if (row instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                String name = mapping.map(String.valueOf(e.getKey()));
                if (name != null) {
                    canonical.put(name, value(name, e.getValue(), null));
                }
            }
        } else {
            throw new DataException("cannot hash a row of type " + (row == null ? "null" : row.getClass().getName()));
        }
        return canonical;
    }

    /** One field's canonical value; {@code schema} may be null for schemaless values. */
    public static CanonicalRow.Value value(String field, Object value, Schema schema) {
        if (value == null) {
            return CanonicalRow.NULL;
        }
        if (value instanceof List<?> list) {
            Schema elementSchema = schema == null ? null : schema.valueSchema();
            List<String> elements = new ArrayList<>(list.size());
            for (Object element : list) {
                if (element instanceof List) {
                    throw new DataException("field '" + field + "': multi-dimensional arrays have no canonical form");
                }
                elements.add(element == null ? null : text(field, element, elementSchema));
            }
            return new CanonicalRow.Array(elements);
        }
        return new CanonicalRow.Text(text(field, value, schema));
    }

    /** Canonical text of a non-null scalar. */
    public static String text(String field, Object value, Schema schema) {
        String logical = schema == null ? null : schema.name();
        if (logical != null) {
            switch (logical) {
                case Decimal.LOGICAL_NAME:
                    return ((BigDecimal) value).toPlainString();
                case "io.debezium.data.VariableScaleDecimal": {
                    Struct s = (Struct) value;
                    Object unscaled = s.get("value");
                    if (unscaled == null) {
                        throw new DataException("field '" + field + "': numeric NaN/Infinity in precise mode has no value; "
                                + "use decimal.handling.mode=string");
                    }
                    return new BigDecimal(new BigInteger(SearchValues.bytes(unscaled)), s.getInt32("scale")).toPlainString();
                }
                case "io.debezium.time.Date":
                    return date(LocalDate.ofEpochDay(((Number) value).longValue()));
                case org.apache.kafka.connect.data.Date.LOGICAL_NAME:
                    return date(LocalDate.ofEpochDay(Math.floorDiv(((java.util.Date) value).getTime(), 86_400_000L)));
                case "io.debezium.time.IsoDate":
                    return date(LocalDate.parse(value.toString().replaceAll("Z$", "")));
                case "io.debezium.time.Time":
                    return time(((Number) value).longValue() * 1_000L);
                case "io.debezium.time.MicroTime":
                    return time(((Number) value).longValue());
                case "io.debezium.time.NanoTime":
                    return time(Math.floorDiv(((Number) value).longValue(), 1_000L));
                case org.apache.kafka.connect.data.Time.LOGICAL_NAME:
                    return time(((java.util.Date) value).getTime() * 1_000L);
                case "io.debezium.time.IsoTime":
                    return time(LocalTime.parse(value.toString().replaceAll("Z$", "")).toNanoOfDay() / 1_000L);
                case "io.debezium.time.Timestamp":
                    return timestamp(((Number) value).longValue() * 1_000L);
                case "io.debezium.time.MicroTimestamp":
                    return timestamp(((Number) value).longValue());
                case "io.debezium.time.NanoTimestamp":
                    return timestamp(Math.floorDiv(((Number) value).longValue(), 1_000L));
                case org.apache.kafka.connect.data.Timestamp.LOGICAL_NAME:
                    return timestamp(((java.util.Date) value).getTime() * 1_000L);
                case "io.debezium.time.IsoTimestamp":
                    return timestamp(micros(LocalDateTime.parse(value.toString().replaceAll("Z$", "")).toInstant(ZoneOffset.UTC)));
                case "io.debezium.time.ZonedTimestamp":
                    return zonedTimestamp(field, value.toString());
                case "io.debezium.time.Interval":
                    return interval(field, value.toString());
                case "io.debezium.time.MicroDuration":
                    // Debezium's numeric interval folds months and days into microseconds (approximately): exact
                    // only for intervals without months or days. interval.handling.mode=string is exact.
                    return "0,0," + ((Number) value).longValue();
                case "io.debezium.data.Json":
                case "io.debezium.data.Enum":
                case "io.debezium.data.Uuid":
                case "io.debezium.data.Xml":
                    return value.toString();
                default:
                    if (value instanceof Struct) {
                        throw new DataException("field '" + field + "' has logical type " + logical + ", which has no canonical form");
                    }
                    // Other logical names on plain types (e.g. a user's own) fall through to the plain type rules.
            }
        }
        if (value instanceof String s) {
            return s;
        }
        if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte
                || value instanceof BigInteger) {
            return value.toString();
        }
        if (value instanceof Boolean b) {
            return b ? "true" : "false";
        }
        if (value instanceof Double d) {
            return HEX.toHexDigits(Double.doubleToLongBits(d));
        }
        if (value instanceof Float f) {
            return HEX.toHexDigits(Float.floatToIntBits(f));
        }
        if (value instanceof byte[] || value instanceof ByteBuffer) {
            return HEX.formatHex(SearchValues.bytes(value));
        }
        if (value instanceof BigDecimal d) {
            return d.toPlainString();
        }
        throw new DataException("field '" + field + "' is a " + value.getClass().getName()
                + (logical == null ? "" : " of logical type " + logical) + ", which has no canonical form");
    }

    // Formatting by hand, not with String.format: this runs for every date and time of every row hashed.

    static String date(LocalDate d) {
        return date(new StringBuilder(10), d).toString();
    }

    private static StringBuilder date(StringBuilder b, LocalDate d) {
        return padded(padded(padded(b, d.getYear(), 4).append('-'), d.getMonthValue(), 2).append('-'), d.getDayOfMonth(), 2);
    }

    static String time(long microOfDay) {
        long m = Math.floorMod(microOfDay, MICROS_PER_DAY);
        if (microOfDay == MICROS_PER_DAY) {
            return "24:00:00.000000"; // PostgreSQL's time allows 24:00:00
        }
        return time(new StringBuilder(15), m).toString();
    }

    private static StringBuilder time(StringBuilder b, long m) {
        return padded(padded(padded(padded(b, m / 3_600_000_000L, 2).append(':'), m / 60_000_000L % 60, 2).append(':'),
                m / 1_000_000L % 60, 2).append('.'), m % 1_000_000L, 6);
    }

    static String timestamp(long epochMicros) {
        long days = Math.floorDiv(epochMicros, MICROS_PER_DAY);
        return time(date(new StringBuilder(27), LocalDate.ofEpochDay(days)).append('T'), Math.floorMod(epochMicros, MICROS_PER_DAY))
                .toString();
    }

    /** What String.format("%0<width>d", value) writes: zero-padded to width, a minus sign counting as a digit. */
    static StringBuilder padded(StringBuilder b, long value, int width) {
        String digits = Long.toString(Math.abs(value));
        if (value < 0) {
            b.append('-');
            width--;
        }
        for (int i = digits.length(); i < width; i++) {
            b.append('0');
        }
        return b.append(digits);
    }

    private static String zonedTimestamp(String field, String text) {
        if (text.equals("infinity") || text.equals("-infinity")) {
            return text;
        }
        try {
            return timestamp(micros(dev.lockstep.smt.IsoTimestamps.instant(text))) + "Z";
        } catch (DateTimeParseException e) {
            throw new DataException("field '" + field + "': '" + text + "' is not an ISO-8601 timestamp with offset");
        }
    }

    private static long micros(Instant instant) {
        return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000L), instant.getNano() / 1_000L);
    }

    /** Debezium's string interval (ISO-8601, e.g. P1Y2M3DT4H5M6.78S) as months,days,microseconds. */
    static String interval(String field, String text) {
        Matcher m = ISO_INTERVAL.matcher(text);
        if (!m.matches()) {
            throw new DataException("field '" + field + "': '" + text + "' is not an ISO-8601 interval");
        }
        long months = num(m.group(1)) * 12 + num(m.group(2));
        long days = num(m.group(3));
        BigDecimal seconds = m.group(6) == null ? BigDecimal.ZERO : new BigDecimal(m.group(6));
        // Debezium formats the seconds through a double ("3.656317999S" for 3.656318): PostgreSQL keeps
        // microseconds, so the nearest microsecond is the stored value.
        long micros = Duration.ofHours(num(m.group(4))).plusMinutes(num(m.group(5))).toNanos() / 1_000L
                + seconds.movePointRight(6).setScale(0, java.math.RoundingMode.HALF_EVEN).longValueExact();
        return months + "," + days + "," + micros;
    }

    private static long num(String group) {
        return group == null ? 0 : Long.parseLong(group);
    }
}
