package dev.lockstep.sink;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.StringReader;
import org.opensearch.client.json.JsonpMapper;
import org.opensearch.client.opensearch._types.mapping.TypeMapping;
import org.opensearch.client.opensearch.indices.CreateIndexRequest;
import org.opensearch.client.opensearch.indices.IndexSettings;

/**
 * How the sink creates an index: the user's settings and mappings ({@code index.settings},
 * {@code index.mappings}) plus an explicit mapping of the lineage object, so hash halves are summable longs and
 * times are dates whatever dynamic mapping would guess.
 */
final class IndexDefinition {
    static final ObjectMapper JSON = new ObjectMapper();

    private final String settings;
    private final String mappings;

    IndexDefinition(OpenSearchSinkConfig config) {
        String settingsJson = config.getString(OpenSearchSinkConfig.INDEX_SETTINGS);
        this.settings = settingsJson == null || settingsJson.isBlank() ? null : settingsJson;
        this.mappings = mappings(config.getString(OpenSearchSinkConfig.INDEX_MAPPINGS), config.getString(OpenSearchSinkConfig.LINEAGE_FIELD));
    }

    /** The user's mappings with the lineage object's properties added (the user's own definition of it wins). */
    static String mappings(String userMappings, String lineageField) {
        try {
            ObjectNode root = userMappings == null || userMappings.isBlank() ? JSON.createObjectNode() : (ObjectNode) JSON.readTree(userMappings);
            if (lineageField != null && !lineageField.isBlank()) {
                ObjectNode properties = root.has("properties") ? (ObjectNode) root.get("properties") : root.putObject("properties");
                if (!properties.has(lineageField)) {
                    ObjectNode lineage = properties.putObject(lineageField).putObject("properties");
                    lineage.putObject("id").put("type", "keyword");
                    lineage.putObject("hash").put("type", "keyword");
                    lineage.putObject("hash_hi").put("type", "long");
                    lineage.putObject("hash_lo").put("type", "long");
                    lineage.putObject("version").put("type", "long");
                    lineage.putObject("commit_lsn").put("type", "long");
                    lineage.putObject("txid").put("type", "long");
                    lineage.putObject("source_ts_ms").put("type", "date").put("format", "epoch_millis");
                    lineage.putObject("indexed_at").put("type", "date").put("format", "epoch_millis");
                }
            }
            return root.isEmpty() ? null : JSON.writeValueAsString(root);
        } catch (IOException | ClassCastException e) {
            throw new IllegalArgumentException(OpenSearchSinkConfig.INDEX_MAPPINGS + " is not a JSON object: " + e.getMessage(), e);
        }
    }

    CreateIndexRequest request(String index, JsonpMapper mapper) {
        return CreateIndexRequest.of(b -> {
            b.index(index);
            if (settings != null) {
                b.settings(IndexSettings._DESERIALIZER.deserialize(mapper.jsonProvider().createParser(new StringReader(settings)), mapper));
            }
            if (mappings != null) {
                b.mappings(TypeMapping._DESERIALIZER.deserialize(mapper.jsonProvider().createParser(new StringReader(mappings)), mapper));
            }
            return b;
        });
    }
}
