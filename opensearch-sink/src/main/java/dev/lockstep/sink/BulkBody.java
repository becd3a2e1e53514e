package dev.lockstep.sink;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code _bulk} wire format, written and read with Jackson's streaming API.
 *
 * <p>Why not opensearch-java's typed {@code BulkRequest}/{@code BulkResponse}: each bulk built request objects,
 * serialised them through JSON-P and deserialised every response item into typed objects, work on the worker's
 * CPU between one bulk and the next, which the node waits for. Here documents that arrive as JSON text are
 * copied into the body as they are, and a response without errors is read no further than its
 * {@code "errors":false}; the request still goes through opensearch-java's transport (TLS, auth, nodes).
 */
final class BulkBody {
    /** Only what the sink reads of each item: its status and, when it failed, the error's type and reason. */
    static final String FILTER_PATH = "errors,items.*.status,items.*.error.type,items.*.error.reason";

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonFactory JSON = MAPPER.getFactory();

    /** One item of a bulk response that has errors, in the order of the request's operations. */
    record Item(int status, String errorType, String errorReason) {
        boolean failed() {
            return errorType != null;
        }
    }

    private BulkBody() {
    }

    /** The NDJSON body for the operations, in order; documents given as JSON text are copied unchanged. */
    static byte[] write(List<DocumentOperation> operations) {
        long estimate = 0;
        for (DocumentOperation op : operations) {
            estimate += op.estimatedBytes();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 16, estimate + 1024));
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.setRootValueSeparator(null);
            for (DocumentOperation op : operations) {
                g.writeStartObject();
                g.writeObjectFieldStart(op.isDelete() ? "delete" : "index");
                g.writeStringField("_index", op.index());
                g.writeStringField("_id", op.id());
                if (op.version() != null) {
                    g.writeNumberField("version", op.version());
                    g.writeStringField("version_type", "external_gte");
                }
                g.writeEndObject();
                g.writeEndObject();
                g.writeRaw('\n');
                if (!op.isDelete()) {
                    if (op.document() instanceof JsonDocument json) {
                        g.flush(); // the generator's buffer first, then the document's bytes as they are
                        out.writeBytes(json.utf8());
                    } else {
                        MAPPER.writeValue(g, op.document());
                    }
                    g.writeRaw('\n');
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a bulk body", e); // writing to memory: only a serialiser failure
        }
        return out.toByteArray();
    }

    /**
     * The items of a {@code _bulk} response read with {@link #FILTER_PATH}; an empty list when the response says
     * {@code "errors":false}, since then every operation was acknowledged.
     */
    static List<Item> read(InputStream response, int operations) throws IOException {
        try (JsonParser p = JSON.createParser(response)) {
            expect(p.nextToken() == JsonToken.START_OBJECT, "not a JSON object");
            List<Item> items = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                if (field.equals("errors")) {
                    if (value == JsonToken.VALUE_FALSE) {
                        return List.of();
                    }
                } else if (field.equals("items")) {
                    expect(value == JsonToken.START_ARRAY, "items is not an array");
                    items = new ArrayList<>(operations);
                    while (p.nextToken() == JsonToken.START_OBJECT) {
                        expect(p.nextToken() == JsonToken.FIELD_NAME && p.nextToken() == JsonToken.START_OBJECT,
                                "an item is not {\"<action>\":{...}}");
                        items.add(item(p));
                        expect(p.nextToken() == JsonToken.END_OBJECT, "an item has more than one action");
                    }
                } else {
                    p.skipChildren();
                }
            }
            expect(items != null && items.size() == operations, "expected " + operations + " items, got "
                    + (items == null ? "none" : items.size()));
            return items;
        }
    }

    private static Item item(JsonParser p) throws IOException {
        int status = 0;
        String type = null;
        String reason = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            p.nextToken();
            if (field.equals("status")) {
                status = p.getIntValue();
            } else if (field.equals("error") && p.currentToken() == JsonToken.START_OBJECT) {
                type = "unknown";
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    p.nextToken();
                    if (name.equals("type")) {
                        type = p.getValueAsString();
                    } else if (name.equals("reason")) {
                        reason = p.getValueAsString();
                    } else {
                        p.skipChildren();
                    }
                }
            } else {
                p.skipChildren();
            }
        }
        return new Item(status, type, reason);
    }

    /** "type: reason" of an error response's {@code error} object, or the start of the text when it has none. */
    static String describeError(byte[] response) {
        try {
            com.fasterxml.jackson.databind.JsonNode error = MAPPER.readTree(response).path("error");
            if (error.isObject()) {
                return error.path("type").asText("unknown") + ": " + error.path("reason").asText("");
            }
            if (error.isTextual()) {
                return error.asText();
            }
        } catch (IOException e) {
            // not JSON (e.g. "Unauthorized" from the security plugin): the text itself says it
        }
        String text = new String(response, java.nio.charset.StandardCharsets.UTF_8).strip();
        return text.length() <= 300 ? text : text.substring(0, 300) + "...";
    }

    private static void expect(boolean condition, String problem) throws IOException {
        if (!condition) {
            throw new IOException("unexpected _bulk response: " + problem);
        }
    }
}
