package dev.lockstep.sink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockstep.sink.metrics.SinkMetrics;
import dev.lockstep.smt.FieldTypes;
import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.opensearch.client.opensearch.OpenSearchClient;
import org.opensearch.client.opensearch.generic.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps each index's mapping in step with the column types the records announce (the header
 * {@code lockstep.field.types}): creates a missing index with every field mapped, and puts the mapping of a new
 * field (ADD COLUMN, RENAME COLUMN) before the first document that has it is indexed. Each distinct header is
 * handled once per index and task, so the cost per record is one set lookup.
 *
 * <p>A field whose index mapping has another type than its column now asks for (a type change OpenSearch cannot
 * apply in place) keeps its mapping: values that still parse are indexed, the others stay in {@code _source}
 * (ignore_malformed); it is logged once with the index, field and both types, and shown by the gauge
 * {@code lockstep_sink_mapping_conflicts}. Rebuilding the index applies the new mapping.
 */
final class IndexFields {
    private static final Logger log = LoggerFactory.getLogger(IndexFields.class);

    private final OpenSearchClient client;
    private final IndexDefinition definition;
    private final FieldMappings.Options options;
    private final SinkMetrics metrics;
    private final boolean autoCreate;
    private final boolean derive;
    private final boolean versioned;
    private final Map<String, Known> indices = new HashMap<>();
    private FirstLoad firstLoad;

    /** What the task knows of one index: its field mappings as OpenSearch has them, and the headers already handled. */
    private static final class Known {
        final boolean exists;
        final Map<String, JsonNode> fields = new HashMap<>();
        /** The column type each field was mapped from ({@code _meta.lockstep.column_types}), where recorded. */
        final Map<String, String> columnTypes = new HashMap<>();
        final Set<String> handled = new HashSet<>();
        /** field and column type of each conflict already reported */
        final Set<String> conflicts = new HashSet<>();

        Known(boolean exists) {
            this.exists = exists;
        }
    }

    IndexFields(OpenSearchClient client, IndexDefinition definition, FieldMappings.Options options, SinkMetrics metrics,
            boolean autoCreate, boolean derive, boolean versioned) {
        this.client = client;
        this.definition = definition;
        this.options = options;
        this.metrics = metrics;
        this.autoCreate = autoCreate;
        this.derive = derive;
        this.versioned = versioned;
    }



    /** Where indices this task creates, or finds mid-load, have their first load tracked. */
    void firstLoad(FirstLoad firstLoad) {
        this.firstLoad = firstLoad;
    }

    /** Whether the index needs no request before a record with this field types header (null: none) is indexed. */
    boolean ready(String index, String fieldTypes) {
        Known known = indices.get(index);
        return known != null && (fieldTypes == null || !derive || !known.exists || known.handled.contains(fieldTypes));
    }

    /**
     * Makes the index ready for records with these field types headers (nulls allowed): creates it when missing,
     * puts the mappings of new fields. Throws IOException (or a RuntimeException of the client) when OpenSearch
     * cannot be asked: the caller retries the whole batch.
     */
    synchronized void prepare(String index, Iterable<String> fieldTypesHeaders) throws IOException {
        Iterator<String> headers = fieldTypesHeaders.iterator();
        String first = null;
        while (first == null && headers.hasNext()) {
            first = headers.next();
        }
        try {
            Known known = indices.get(index);
            if (known == null) {
                known = load(index, first);
                indices.put(index, known);
            }
            if (!derive || !known.exists) {
                return;
            }
            for (String header : fieldTypesHeaders) {
                if (header != null && !known.handled.contains(header)) {
                    apply(index, known, header);
                    known.handled.add(header);
                }
            }
        } catch (Refused e) {
            // Not the sink's to fix, nor a reason to stop: a user who may write documents but not manage indices
            // gets the index as it is. A user who may not write either fails on the bulk, with its reason.
            log.warn("The sink's user may not read, create or map index {} ({}): its fields are not mapped from their column "
                    + "types; grant the user the index's manage or create_index permission, or create the index yourself", index,
                    e.getMessage());
            indices.put(index, new Known(false));
        }
    }

    /** OpenSearch refused a request for lack of rights (401, 403). */
    static final class Refused extends IOException {
        Refused(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * The index's current field mappings; creates it (fields mapped from {@code fieldTypes}) when it is missing. With
     * index.versioned a missing name becomes {@code <name>_v1} behind the search alias {@code <name>} and the write
     * alias {@code <name>.writes} ({@link IndexTargets}); the records go through the alias until the targets are read.
     */
    private Known load(String index, String fieldTypes) throws IOException {
        return load(index, fieldTypes, true);
    }

    private Known load(String index, String fieldTypes, boolean mayCreate) throws IOException {
        JsonNode current = request("GET", "/" + index + "/_mapping", null);
        if (current != null) {
            if (firstLoad != null && current.fieldNames().hasNext()) {
                firstLoad.found(index, current.fieldNames().next(), mappingsOf(current));
            }
            return known(mappingsOf(current));
        }
        if (!autoCreate) {
            return new Known(false);
        }
        if (!mayCreate) {
            throw new IOException("index " + IndexVersions.firstVersion(index) + " exists, but the alias " + index + " does not: add the alias "
                    + "(POST _aliases) or delete " + IndexVersions.firstVersion(index) + ", or set index.versioned=false");
        }
        Map<String, ObjectNode> derived = derive && fieldTypes != null ? derived(FieldTypes.decode(fieldTypes)) : Map.of();
        String concrete = versioned ? IndexVersions.firstVersion(index) : index;
        Map<String, String> columnTypes = derive && fieldTypes != null ? FieldTypes.decode(fieldTypes) : Map.of();
        ObjectNode body = definition.createBodyNode(derived, columnTypes, versioned ? List.of(index, IndexVersions.writeAlias(index)) : List.of());
        List<String> loadKeys = firstLoad == null ? List.of() : firstLoad.prepareCreate(body);
        int status;
        String answer;
        try (Response response = execute("PUT", "/" + concrete, body.toString())) {
            status = response.getStatus();
            answer = GenericRequests.bodyText(response);
        }
        if (status < 300) {
            if (firstLoad != null) {
                firstLoad.started(index, concrete, loadKeys);
            }
            log.info("Created index {}{} with the fields of its columns mapped: {}", concrete, versioned ? " behind the alias " + index : "",
                    derived.keySet());
            Known known = known(definition.mappings(derived, columnTypes));
            if (fieldTypes != null) {
                known.handled.add(fieldTypes);
            }
            return known;
        }
        if (!answer.contains("resource_already_exists_exception")) {
            throw new IOException("cannot create index " + concrete + " (status " + status + "): " + answer);
        }
        return load(index, fieldTypes, false); // another task created it meanwhile
    }

    private static Known known(JsonNode mappings) {
        Known known = new Known(true);
        mappings.path("properties").fields().forEachRemaining(e -> known.fields.put(e.getKey(), e.getValue()));
        mappings.path("_meta").path("lockstep").path("column_types").fields()
                .forEachRemaining(e -> known.columnTypes.put(e.getKey(), e.getValue().asText()));
        return known;
    }

    /**
     * The mappings in an answer of {@code GET /<name>/_mapping}: keyed by the concrete index, which for an alias is
     * not the name asked for. An alias of several indices answers for each: their mappings are alike, the first is used.
     */
    static JsonNode mappingsOf(JsonNode answer) {
        Iterator<JsonNode> indices = answer.elements();
        return indices.hasNext() ? indices.next().path("mappings") : IndexDefinition.JSON.createObjectNode();
    }

    /** Puts the mappings of the header's new fields; reports the fields whose type the index cannot take. */
    private void apply(String index, Known known, String header) throws IOException {
        Map<String, String> types = FieldTypes.decode(header);
        Map<String, ObjectNode> wanted = derived(types);
        ObjectNode missing = IndexDefinition.JSON.createObjectNode();
        wanted.forEach((field, mapping) -> {
            JsonNode current = known.fields.get(field);
            if (current == null) {
                missing.set(field, mapping);
            } else if (!mapping.path("type").asText("object").equals(current.path("type").asText("object"))) {
                if (types.get(field).equals(known.columnTypes.get(field))) {
                    return; // the column's type is the one the field was mapped from: another mapping was chosen for it
                }
                if (known.conflicts.add(field + ':' + types.get(field))) {
                    conflict(index, field, types.get(field), current, mapping);
                }
            } else if (!hasSubfields(current, mapping)) {
                missing.set(field, mapping); // e.g. numeric(12,2) to numeric(20,2): the exact subfield is added
            }
        });
        if (missing.isEmpty()) {
            return;
        }
        ObjectNode body = IndexDefinition.JSON.createObjectNode();
        body.set("properties", missing);
        // Record the column types the new fields are mapped from, so a later mismatch tells a column type change (to
        // rebuild for) from a mapping someone chose. _meta is replaced whole: merged into the index's current one.
        JsonNode latest = request("GET", "/" + index + "/_mapping", null);
        ObjectNode meta = latest != null && mappingsOf(latest).path("_meta").isObject()
                ? (ObjectNode) mappingsOf(latest).path("_meta").deepCopy() : IndexDefinition.JSON.createObjectNode();
        ObjectNode recorded = IndexDefinition.columnTypes(meta);
        missing.fieldNames().forEachRemaining(f -> recorded.put(f, types.get(f)));
        body.set("_meta", meta);
        try (Response response = execute("PUT", "/" + index + "/_mapping", body.toString())) {
            if (response.getStatus() >= 500 || response.getStatus() == 429) {
                throw new IOException("cannot put mappings of index " + index + " (status " + response.getStatus() + "): " + GenericRequests.bodyText(response));
            }
            if (response.getStatus() >= 300) {
                // A field another writer (or dynamic mapping) mapped meanwhile with another type: keep the index's.
                log.warn("OpenSearch refused the mappings {} for index {}: {}; fields keep the index's mappings", missing, index,
                        GenericRequests.bodyText(response));
                JsonNode current = request("GET", "/" + index + "/_mapping", null);
                known.fields.clear();
                if (current != null) {
                    mappingsOf(current).path("properties").fields()
                            .forEachRemaining(e -> known.fields.put(e.getKey(), e.getValue()));
                }
                return;
            }
        }
        missing.fields().forEachRemaining(e -> known.fields.put(e.getKey(), e.getValue()));
        missing.fieldNames().forEachRemaining(f -> known.columnTypes.put(f, types.get(f)));
        log.info("Index {}: mapped fields {} from their column types", index, missing);
    }

    private void conflict(String index, String field, String columnType, JsonNode current, JsonNode wanted) {
        String indexType = current.path("type").asText("object");
        log.warn("Index {}, field {}: the column's type is now {}, which maps to {}, but the index maps the field as {}, "
                        + "and OpenSearch cannot change a field's type in place. Values that parse as {} are still indexed; "
                        + "the others stay in _source (listed in _ignored) or, for types without ignore_malformed, are "
                        + "rejected. Rebuild the index to apply the new mapping.",
                index, field, columnType, wanted.path("type").asText("object"), indexType, indexType);
        metrics.mappingConflict(index, field, columnType, indexType);
        requestRebuild(index, field, columnType, wanted);
    }

    /**
     * Notes in the index's {@code _meta} ({@code lockstep.rebuild.fields}) the mapping a field's column type now asks
     * for: the reconciler rebuilds the index into its next version with it ({@code rebuild.on.mapping.conflict}).
     * Best effort: a sink that may not map the index only logs the conflict.
     */
    private void requestRebuild(String index, String field, String columnType, JsonNode wanted) {
        try {
            JsonNode current = request("GET", "/" + index + "/_mapping", null);
            if (current == null) {
                return;
            }
            JsonNode existing = mappingsOf(current).path("_meta");
            ObjectNode meta = existing.isObject() ? (ObjectNode) existing.deepCopy() : IndexDefinition.JSON.createObjectNode();
            ObjectNode lockstep = meta.has("lockstep") && meta.get("lockstep").isObject() ? (ObjectNode) meta.get("lockstep") : meta.putObject("lockstep");
            ObjectNode rebuild = lockstep.has("rebuild") && lockstep.get("rebuild").isObject() ? (ObjectNode) lockstep.get("rebuild")
                    : lockstep.putObject("rebuild");
            if (!rebuild.has("requested_at")) {
                rebuild.put("requested_at", System.currentTimeMillis());
            }
            ObjectNode fields = rebuild.has("fields") && rebuild.get("fields").isObject() ? (ObjectNode) rebuild.get("fields") : rebuild.putObject("fields");
            fields.putObject(field).put("column_type", columnType).set("mapping", wanted);
            ObjectNode body = IndexDefinition.JSON.createObjectNode();
            body.set("_meta", meta);
            try (Response response = execute("PUT", "/" + index + "/_mapping", body.toString())) {
                if (response.getStatus() >= 300) {
                    log.warn("Index {}: cannot note the rebuild its field {} needs (status {}): {}", index, field, response.getStatus(),
                            GenericRequests.bodyText(response));
                }
            }
        } catch (IOException | RuntimeException e) {
            log.warn("Index {}: cannot note the rebuild its field {} needs: {}", index, field, e.toString());
        }
    }

    /** Whether the current mapping has every subfield ("fields") the wanted one has. */
    private static boolean hasSubfields(JsonNode current, JsonNode wanted) {
        Iterator<String> names = wanted.path("fields").fieldNames();
        while (names.hasNext()) {
            if (!current.path("fields").has(names.next())) {
                return false;
            }
        }
        return true;
    }

    /** The mapping of each field: the user's (index.mappings) where given, else the one derived from its type. */
    private Map<String, ObjectNode> derived(Map<String, String> types) {
        Map<String, ObjectNode> out = new LinkedHashMap<>();
        FieldMappings.properties(types, options).forEach((field, mapping) -> {
            JsonNode user = definition.userProperty(field);
            out.put(field, user != null ? (ObjectNode) user : mapping);
        });
        return out;
    }

    /** The JSON answer of a request, or null on 404. */
    private JsonNode request(String method, String endpoint, String body) throws IOException {
        try (Response response = execute(method, endpoint, body)) {
            if (response.getStatus() == 404) {
                return null;
            }
            String text = GenericRequests.bodyText(response);
            if (response.getStatus() >= 300) {
                throw new IOException(method + " " + endpoint + " answered " + response.getStatus() + ": " + text);
            }
            return IndexDefinition.JSON.readTree(text);
        }
    }

    private Response execute(String method, String endpoint, String body) throws IOException {
        Response response;
        try {
            response = GenericRequests.send(client, method, endpoint, body);
        } catch (IOException e) {
            int status = OpenSearchClients.statusOf(e);
            if (status == 401 || status == 403) {
                throw new Refused(method + " " + endpoint + ": " + status + " " + e.getMessage(), e);
            }
            throw e;
        }
        if (response.getStatus() == 401 || response.getStatus() == 403) {
            String text = GenericRequests.bodyText(response);
            response.close();
            throw new Refused(method + " " + endpoint + ": " + response.getStatus() + " " + text, null);
        }
        return response;
    }
}
