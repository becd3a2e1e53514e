package dev.lockstep.sink;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.util.RawValue;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.connect.errors.DataException;

/**
 * A document that arrives as JSON text (a topic of search documents read with the ByteArrayConverter or
 * StringConverter): sent to OpenSearch as it is, never turned into objects and back. One streaming pass checks
 * that it is a single JSON object and finds where the lineage object ends, so the id copy and the indexing
 * time can be spliced in: this path costs a scan of the text, which is what lets the sink keep up with a
 * plain bulk loader.
 */
final class JsonDocument {
    private static final JsonFactory JSON = new JsonFactory();

    private JsonDocument() {
    }

    /**
     * The document text with {@code lineageField.id} and {@code lineageField.indexed_at} added (unless already
     * present), ready to be written raw into a bulk body. {@code lineageField} empty: the text unchanged.
     *
     * @throws DataException when the text is not one JSON object, or the lineage field is not an object
     */
    static RawValue withLineage(byte[] utf8, String lineageField, String id, long indexedAtMs) {
        return withLineage(new String(utf8, StandardCharsets.UTF_8), lineageField, id, indexedAtMs);
    }

    static RawValue withLineage(String json, String lineageField, String id, long indexedAtMs) {
        int lineageEnd = -1; // char offset of the lineage object's closing brace
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
                lineageEnd = (int) p.currentTokenLocation().getCharOffset();
            }
            if (t != JsonToken.END_OBJECT) {
                throw new DataException("value is not a JSON object: " + preview(json));
            }
            documentEnd = (int) p.currentTokenLocation().getCharOffset();
            if (p.nextToken() != null) {
                throw new DataException("value holds more than one JSON value: " + preview(json));
            }
        } catch (IOException e) {
            throw new DataException("value is not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")", e);
        }
        if (lineageField.isEmpty() || (hasId && hasIndexedAt)) {
            return new RawValue(json);
        }
        StringBuilder added = new StringBuilder(64);
        if (!hasId) {
            added.append("\"id\":\"").append(JsonStringEncoder.getInstance().quoteAsString(id)).append('"');
        }
        if (!hasIndexedAt) {
            added.append(added.length() > 0 ? "," : "").append("\"indexed_at\":").append(indexedAtMs);
        }
        StringBuilder out = new StringBuilder(json.length() + added.length() + lineageField.length() + 8);
        if (lineageEnd >= 0) {
            out.append(json, 0, lineageEnd).append(lineageEmpty ? "" : ",").append(added).append(json, lineageEnd, json.length());
        } else {
            out.append(json, 0, documentEnd).append(documentEmpty ? "" : ",").append('"')
                    .append(JsonStringEncoder.getInstance().quoteAsString(lineageField)).append("\":{").append(added).append('}')
                    .append(json, documentEnd, json.length());
        }
        return new RawValue(out.toString());
    }

    private static String preview(String json) {
        return json.length() <= 80 ? json : json.substring(0, 80) + "...";
    }
}
