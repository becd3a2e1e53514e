package dev.lockstep.smt.hash;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The canonical form of a row (docs/canonical-hash.md): fields sorted by the UTF-8 bytes of their names, each
 * written as {@code <len>:<name>} followed by {@code N} (NULL), {@code V<len>:<text>} (a value) or
 * {@code A<count>:} and its elements (an array). Every length counts UTF-8 bytes, so no two different rows
 * encode alike. A field that is absent is simply not written, which differs from a NULL.
 */
public final class CanonicalRow {
    public static final String FORMAT_TAG = "LSR1";

    /** A field's canonical value: NULL, a scalar's canonical text, or an array of those. */
    public sealed interface Value permits Null, Text, Array {
    }

    public record Null() implements Value {
    }

    public record Text(String text) implements Value {
    }

    /** A one-dimensional array; an element is {@code null} for SQL NULL. */
    public record Array(List<String> elements) implements Value {
    }

    public static final Value NULL = new Null();

    private final TreeMap<byte[], Value> fields = new TreeMap<>(Arrays::compareUnsigned);

    public CanonicalRow put(String name, Value value) {
        fields.put(name.getBytes(StandardCharsets.UTF_8), value);
        return this;
    }

    public static CanonicalRow of(Map<String, Value> values) {
        CanonicalRow row = new CanonicalRow();
        values.forEach(row::put);
        return row;
    }

    /** The canonical text; its UTF-8 bytes are what is hashed. */
    public String encode() {
        StringBuilder sb = new StringBuilder(64 + fields.size() * 24).append(FORMAT_TAG);
        for (Map.Entry<byte[], Value> field : fields.entrySet()) {
            byte[] name = field.getKey();
            sb.append(name.length).append(':').append(new String(name, StandardCharsets.UTF_8));
            Value value = field.getValue();
            if (value instanceof Text t) {
                scalar(sb, t.text());
            } else if (value instanceof Array a) {
                sb.append('A').append(a.elements().size()).append(':');
                for (String element : a.elements()) {
                    if (element == null) {
                        sb.append('N');
                    } else {
                        scalar(sb, element);
                    }
                }
            } else {
                sb.append('N');
            }
        }
        return sb.toString();
    }

    public RowHash hash() {
        return RowHash.of(encode());
    }

    private static void scalar(StringBuilder sb, String text) {
        sb.append('V').append(utf8Length(text)).append(':').append(text);
    }

    /** UTF-8 byte count without allocating the bytes. */
    static int utf8Length(CharSequence s) {
        int bytes = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }
}
