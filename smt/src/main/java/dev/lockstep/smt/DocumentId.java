package dev.lockstep.smt;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;

/**
 * Turns a record key (a primary key) into an OpenSearch document id.
 *
 * <p>Encoding (see docs/document-ids.md): a single-column key is the column's value as text, unchanged.
 * A composite key joins its columns' text forms, in key order, with the separator; inside each part the
 * escape character {@code \} and the separator are preceded by {@code \}. With a fixed number of parts
 * this is unambiguous: {@code (1, "a|b")} becomes {@code 1|a\|b}, which no other key produces.
 */
public final class DocumentId {
    public static final char ESCAPE = '\\';

    private final String separator;
    private final List<String> fields;

    /**
     * @param separator separator between the parts of a composite key; not empty, must not contain {@code \}
     * @param fields    key fields to use, in order; empty means every key field in key-schema order
     */
    public DocumentId(String separator, List<String> fields) {
        if (separator == null || separator.isEmpty() || separator.indexOf(ESCAPE) >= 0) {
            throw new IllegalArgumentException("separator must be non-empty and must not contain '\\'");
        }
        this.separator = separator;
        this.fields = List.copyOf(fields);
    }

    /** Encodes the key; throws {@link DataException} naming the offending field (the caller adds the record). */
    public String encode(Object key, Schema keySchema) {
        if (key == null) {
            throw new DataException("record has no key: a document id needs the table's primary key");
        }
        List<String> parts = new ArrayList<>();
        if (key instanceof Struct struct) {
            List<String> names = fields.isEmpty() ? fieldNames(struct.schema()) : fields;
            for (String name : names) {
                Field field = struct.schema().field(name);
                if (field == null) {
                    throw new DataException("key has no field '" + name + "' (key fields: " + fieldNames(struct.schema()) + ")");
                }
                parts.add(part(name, SearchValues.normalise(struct.get(field), field.schema(), SearchValues.NumericFormat.STRING)));
            }
        } else if (key instanceof Map<?, ?> map) {
            List<String> names = fields;
            if (names.isEmpty()) {
                if (map.size() != 1) {
                    // A schemaless map has no column order; guessing one would make ids depend on the converter.
                    throw new DataException("schemaless key with " + map.size()
                            + " fields: set 'id.fields' to give the primary key columns in order");
                }
                names = List.of(String.valueOf(map.keySet().iterator().next()));
            }
            for (String name : names) {
                if (!map.containsKey(name)) {
                    throw new DataException("key has no field '" + name + "' (key fields: " + map.keySet() + ")");
                }
                parts.add(part(name, SearchValues.normalise(map.get(name), null, SearchValues.NumericFormat.STRING)));
            }
        } else {
            parts.add(part("<key>", SearchValues.normalise(key, keySchema, SearchValues.NumericFormat.STRING)));
        }
        if (parts.size() == 1) {
            return parts.get(0);
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < parts.size(); i++) {
            if (i > 0) {
                sb.append(separator);
            }
            escapeInto(sb, parts.get(i));
        }
        return sb.toString();
    }

    /** Splits an id made by {@link #encode} back into its parts (used by tests and, later, the reconciler). */
    public List<String> decode(String id, int partCount) {
        if (partCount == 1) {
            return List.of(id);
        }
        List<String> parts = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c == ESCAPE && id.startsWith(separator, i + 1)) {
                current.append(separator);
                i += separator.length();
            } else if (c == ESCAPE && i + 1 < id.length()) {
                current.append(id.charAt(++i));
            } else if (id.startsWith(separator, i)) {
                parts.add(current.toString());
                current.setLength(0);
                i += separator.length() - 1;
            } else {
                current.append(c);
            }
        }
        parts.add(current.toString());
        if (parts.size() != partCount) {
            throw new IllegalArgumentException("id '" + id + "' has " + parts.size() + " parts, expected " + partCount);
        }
        return parts;
    }

    private void escapeInto(StringBuilder sb, String part) {
        for (int i = 0; i < part.length(); i++) {
            char c = part.charAt(i);
            if (c == ESCAPE) {
                sb.append(ESCAPE).append(ESCAPE);
            } else if (part.startsWith(separator, i)) {
                sb.append(ESCAPE).append(separator);
                i += separator.length() - 1;
            } else {
                sb.append(c);
            }
        }
    }

    private static String part(String name, Object value) {
        if (value == null) {
            throw new DataException("key field '" + name + "' is null: a primary key column cannot be null");
        }
        if (value instanceof Map || value instanceof List) {
            throw new DataException("key field '" + name + "' is a " + value.getClass().getSimpleName()
                    + ": only scalar key columns can form a document id");
        }
        return Objects.toString(value);
    }

    private static List<String> fieldNames(Schema schema) {
        return schema.fields().stream().map(Field::name).toList();
    }
}
