package dev.lockstep.sink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Map;

/**
 * How the sink creates an index: the user's settings and mappings ({@code index.settings},
 * {@code index.mappings}), an explicit mapping of the lineage object (hash halves are summable longs, times are
 * dates whatever dynamic mapping would guess), and the mappings derived from the column types
 * ({@link FieldMappings}) for every field the user did not map.
 */
public final class IndexDefinition {
    static final ObjectMapper JSON = new ObjectMapper();

    private final String settings;
    /** The user's mappings with the lineage object added; never changed after construction. */
    private final ObjectNode base;

    IndexDefinition(OpenSearchSinkConfig config) {
        String settingsJson = config.getString(OpenSearchSinkConfig.INDEX_SETTINGS);
        this.settings = settingsJson == null || settingsJson.isBlank() ? null : settingsJson;
        this.base = base(config.getString(OpenSearchSinkConfig.INDEX_MAPPINGS), config.getString(OpenSearchSinkConfig.LINEAGE_FIELD));
    }

    /** The user's mappings with the lineage object's properties added (the user's own definition of it wins), as JSON or null. */
    public static String mappings(String userMappings, String lineageField) {
        ObjectNode root = base(userMappings, lineageField);
        return root.isEmpty() ? null : root.toString();
    }

    private static ObjectNode base(String userMappings, String lineageField) {
        try {
            ObjectNode root = userMappings == null || userMappings.isBlank() ? JSON.createObjectNode() : (ObjectNode) JSON.readTree(userMappings);
            if (lineageField != null && !lineageField.isBlank()) {
                ObjectNode properties = root.has("properties") ? (ObjectNode) root.get("properties") : root.putObject("properties");
                if (!properties.has(lineageField)) {
                    ObjectNode lineage = properties.putObject(lineageField).putObject("properties");
                    // Kept in _source, neither indexed nor in doc values: unique per document, as searchable keywords
                    // they cost OpenSearch 9-17% of its CPU per document (docs/benchmarks.md), and nothing searches
                    // them (the reconciler sums hash_hi/hash_lo; _id holds the same id).
                    lineage.putObject("id").put("type", "keyword").put("index", false).put("doc_values", false);
                    lineage.putObject("hash").put("type", "keyword").put("index", false).put("doc_values", false);
                    lineage.putObject("hash_hi").put("type", "long");
                    lineage.putObject("hash_lo").put("type", "long");
                    lineage.putObject("version").put("type", "long");
                    lineage.putObject("commit_lsn").put("type", "long");
                    lineage.putObject("txid").put("type", "long");
                    lineage.putObject("source_ts_ms").put("type", "date").put("format", "epoch_millis");
                    lineage.putObject("indexed_at").put("type", "date").put("format", "epoch_millis");
                }
            }
            return root;
        } catch (IOException | ClassCastException e) {
            throw new IllegalArgumentException(OpenSearchSinkConfig.INDEX_MAPPINGS + " is not a JSON object: " + e.getMessage(), e);
        }
    }

    /** The user's mapping of a top-level field (index.mappings wins over derived mappings), or null. */
    JsonNode userProperty(String field) {
        JsonNode property = base.path("properties").get(field);
        return property != null && property.isObject() ? property : null;
    }

    /**
     * The mappings of a new index: the user's and the lineage object's, plus {@code derived} for the other fields,
     * and in {@code _meta.lockstep.column_types} the column type of each field of the header.
     */
    ObjectNode mappings(Map<String, ObjectNode> derived, Map<String, String> columnTypes) {
        ObjectNode root = base.deepCopy();
        if (!columnTypes.isEmpty()) {
            ObjectNode meta = root.has("_meta") && root.get("_meta").isObject() ? (ObjectNode) root.get("_meta") : root.putObject("_meta");
            ObjectNode recorded = columnTypes(meta);
            columnTypes.forEach(recorded::put);
        }
        if (!derived.isEmpty()) {
            ObjectNode properties = root.has("properties") ? (ObjectNode) root.get("properties") : root.putObject("properties");
            derived.forEach((field, mapping) -> {
                if (!properties.has(field)) {
                    properties.set(field, mapping);
                }
            });
        }
        return root;
    }

    /** The object {@code lockstep.column_types} of an index's {@code _meta}, made where missing. */
    static ObjectNode columnTypes(ObjectNode meta) {
        ObjectNode lockstep = meta.has("lockstep") && meta.get("lockstep").isObject() ? (ObjectNode) meta.get("lockstep") : meta.putObject("lockstep");
        return lockstep.has("column_types") && lockstep.get("column_types").isObject() ? (ObjectNode) lockstep.get("column_types")
                : lockstep.putObject("column_types");
    }

    /**
     * The body of {@code PUT /<index>} for a new index, with its aliases. Raw JSON, not the client's typed model, so every mapping
     * type the node knows (flat_object, date_nanos, …) passes as written.
     */
    String createBody(Map<String, ObjectNode> derived, Map<String, String> columnTypes, java.util.List<String> aliases) {
        return createBodyNode(derived, columnTypes, aliases).toString();
    }

    ObjectNode createBodyNode(Map<String, ObjectNode> derived, Map<String, String> columnTypes, java.util.List<String> aliases) {
        ObjectNode body = JSON.createObjectNode();
        if (!aliases.isEmpty()) {
            ObjectNode a = body.putObject("aliases");
            aliases.forEach(alias -> a.putObject(alias));
        }
        if (settings != null) {
            try {
                body.set("settings", JSON.readTree(settings));
            } catch (IOException e) {
                throw new IllegalArgumentException(OpenSearchSinkConfig.INDEX_SETTINGS + " is not JSON: " + e.getMessage(), e);
            }
        }
        ObjectNode mappings = mappings(derived, columnTypes);
        if (!mappings.isEmpty()) {
            body.set("mappings", mappings);
        }
        return body;
    }
}
