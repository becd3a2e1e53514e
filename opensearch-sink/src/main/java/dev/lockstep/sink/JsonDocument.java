package dev.lockstep.sink;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.connect.errors.DataException;

/**
 * A document that arrives as JSON text (a topic of search documents read with the ByteArrayConverter or
 * StringConverter): sent to OpenSearch as the bytes it came as, never turned into objects, chars or back. One
 * streaming pass over the UTF-8 bytes checks that it is a single JSON object and finds where the lineage object
 * ends, so the id copy and the indexing time can be spliced in; {@link BulkBody} copies the bytes into the bulk
 * body. This path costs a scan of the bytes and one copy, which is what lets the sink keep up with a plain bulk loader.
 *
 * @param utf8 the document, one JSON object on one line or several (JSON text has no raw line breaks inside strings;
 *             {@link BulkBody} needs none between tokens either, so the scan checks that too)
 */
record JsonDocument(byte[] utf8) {
    private static final JsonFactory JSON = new JsonFactory();
    private static final byte[] EMPTY = new byte[0];

    /**
     * The document with {@code lineageField.id} and {@code lineageField.indexed_at} added (unless already present),
     * ready to be copied into a bulk body. {@code lineageField} empty: the bytes unchanged.
     *
     * @throws DataException when the text is not one JSON object, or the lineage field is not an object
     */
    static JsonDocument withLineage(String json, String lineageField, String id, long indexedAtMs) {
        return withLineage(json.getBytes(StandardCharsets.UTF_8), lineageField, id, indexedAtMs);
    }

    static JsonDocument withLineage(byte[] json, String lineageField, String id, long indexedAtMs) {
        int lineageEnd = -1; // byte offset of the lineage object's closing brace
        boolean lineageEmpty = true;
        boolean hasId = false;
        boolean hasIndexedAt = false;
        int documentEnd;
        boolean documentEmpty = true;
        try (JsonParser p = JSON.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new DataException("value is not a JSON object: " + preview(json));
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                documentEmpty = false;
                boolean isLineage = !lineageField.isEmpty() && lineageField.equals(p.currentName());
                JsonToken value = p.nextToken();
                if (!isLineage) {
                    p.skipChildren();
                    continue;
                }
                if (value == JsonToken.VALUE_NULL) {
                    throw new DataException("field '" + lineageField + "' is null, but lineage.field names it as Lockstep's "
                            + "lineage object; set lineage.field to another name");
                }
                if (value != JsonToken.START_OBJECT) {
                    throw new DataException("field '" + lineageField + "' is a JSON " + value.asString() + ", but lineage.field "
                            + "names it as Lockstep's lineage object; set lineage.field to another name");
                }
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    lineageEmpty = false;
                    hasId |= p.currentName().equals("id");
                    hasIndexedAt |= p.currentName().equals("indexed_at");
                    p.nextToken();
                    p.skipChildren();
                }
                lineageEnd = (int) p.currentTokenLocation().getByteOffset();
            }
            if (t != JsonToken.END_OBJECT) {
                throw new DataException("value is not a JSON object: " + preview(json));
            }
            documentEnd = (int) p.currentTokenLocation().getByteOffset();
            if (p.nextToken() != null) {
                throw new DataException("value holds more than one JSON value: " + preview(json));
            }
        } catch (IOException e) {
            throw new DataException("value is not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")", e);
        }
        byte[] body = singleLine(json);
        if (lineageField.isEmpty() || (hasId && hasIndexedAt)) {
            return new JsonDocument(body);
        }
        StringBuilder added = new StringBuilder(64);
        if (!hasId) {
            added.append("\"id\":\"").append(JsonStringEncoder.getInstance().quoteAsString(id)).append('"');
        }
        if (!hasIndexedAt) {
            added.append(added.length() > 0 ? "," : "").append("\"indexed_at\":").append(indexedAtMs);
        }
        byte[] insert;
        int at;
        if (lineageEnd >= 0) {
            insert = ((lineageEmpty ? "" : ",") + added).getBytes(StandardCharsets.UTF_8);
            at = lineageEnd;
        } else {
            insert = ((documentEmpty ? "" : ",") + '"' + new String(JsonStringEncoder.getInstance().quoteAsString(lineageField)) + "\":{" + added + '}')
                    .getBytes(StandardCharsets.UTF_8);
            at = documentEnd;
        }
        byte[] out = new byte[body.length + insert.length];
        System.arraycopy(body, 0, out, 0, at);
        System.arraycopy(insert, 0, out, at, insert.length);
        System.arraycopy(body, at, out, at + insert.length, body.length - at);
        return new JsonDocument(out);
    }

    /**
     * The bytes with every line break between tokens made a space (same length, so offsets hold): a bulk body is one
     * JSON value per line. Inside JSON strings a line break is always escaped, so only whitespace is touched.
     */
    private static byte[] singleLine(byte[] json) {
        byte[] out = null;
        for (int i = 0; i < json.length; i++) {
            if (json[i] == '\n' || json[i] == '\r') {
                if (out == null) {
                    out = json.clone();
                }
                out[i] = ' ';
            }
        }
        return out == null ? json : out;
    }

    /** The document as text (tests, messages). */
    String text() {
        return new String(utf8, StandardCharsets.UTF_8);
    }

    private static String preview(byte[] json) {
        String text = new String(json, 0, Math.min(json.length, 240), StandardCharsets.UTF_8);
        return text.length() <= 80 && json.length <= 240 ? text : text.substring(0, Math.min(80, text.length())) + "...";
    }
}
