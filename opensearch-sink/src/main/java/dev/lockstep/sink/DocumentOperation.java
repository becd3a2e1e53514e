package dev.lockstep.sink;

import java.util.Map;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * One record's effect on the index: index {@code document} (a Map, or JSON text as a {@link JsonDocument})
 * under {@code id}, or delete {@code id} when it is null. With a {@code version} (from the lineage header {@code lockstep.version}), the operation is
 * {@code external_gte}: OpenSearch applies it only if no newer version of the document was indexed, so a replay,
 * a re-emitted old record or a reordered retry can never make a document older. {@code index} is the concrete index
 * (or alias) written; {@code name} the index name the record resolved to ({@link IndexTargets}).
 */
record DocumentOperation(SinkRecord record, String index, String id, Object document, Long version, String name, boolean primary) {

    /** An operation on the index the record's name resolves to (no write alias). */
    DocumentOperation(SinkRecord record, String index, String id, Object document, Long version) {
        this(record, index, id, document, version, index, true);
    }

    /**
     * The same operation on another concrete index of the name: the first target is the primary, whose outcome the
     * meters count (labelled by the name users search), so dual writes during a rebuild do not count twice.
     */
    DocumentOperation to(String target, boolean primary) {
        return new DocumentOperation(record, target, id, document, version, name, primary);
    }

    boolean isDelete() {
        return document == null;
    }

    /**
     * About the bytes this operation adds to a bulk body, without serialising it: bulks are bounded by
     * batch.max.bytes before the bulk threads serialise them.
     */
    long estimatedBytes() {
        return 64 + index.length() + id.length() + estimate(document);
    }

    private static long estimate(Object value) {
        if (value == null) {
            return 4;
        }
        if (value instanceof JsonDocument json) {
            return json.utf8().length;
        }
        if (value instanceof CharSequence text) {
            return text.length() + 2L;
        }
        if (value instanceof Map<?, ?> map) {
            long bytes = 2;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                bytes += String.valueOf(e.getKey()).length() + 4L + estimate(e.getValue());
            }
            return bytes;
        }
        if (value instanceof java.util.Collection<?> list) {
            long bytes = 2;
            for (Object item : list) {
                bytes += 1 + estimate(item);
            }
            return bytes;
        }
        if (value instanceof byte[] bytes) {
            return bytes.length * 4L / 3 + 4;
        }
        return 12; // numbers, booleans, dates
    }

    /** Key of the document this operation touches: within one bulk only the last operation per key matters. */
    String documentKey() {
        return index + '\u0000' + id;
    }
}
