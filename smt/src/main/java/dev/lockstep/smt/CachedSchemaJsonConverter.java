package dev.lockstep.smt;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.json.JsonConverterConfig;
import org.apache.kafka.connect.storage.Converter;
import org.apache.kafka.connect.storage.ConverterType;

/**
 * Kafka's JsonConverter for topics of schema'd JSON ({@code {"schema": …, "payload": …}}, as Debezium writes them in
 * the change-event layout), reading each record's schema only once: same configuration, same results.
 *
 * <p>Why: every Debezium change event carries its whole schema, several times larger than its payload. The
 * JsonConverter parses both into a tree of nodes, then hashes and compares the schema's tree to find it in its cache;
 * on the change-event layout that was two thirds of the sink task's CPU (a profile of {@code bin/lockstep-bench sink
 * 200000 change-events}, docs/benchmarks.md). This converter finds the schema by its bytes instead (a compact
 * {@code {"schema":} prefix followed by bytes equal to a recent schema's), and reads the payload with a streaming
 * parser straight into Connect data ({@link JsonPayloadReader}).
 *
 * <p>Everything else is the JsonConverter's: the first record of each schema, records it cannot read that way
 * (other layouts, unexpected tokens, errors, which then get exactly the JsonConverter's message), writing, and every
 * configuration ({@code schemas.enable=false} or {@code schema.content} turn the shortcut off).
 */
public class CachedSchemaJsonConverter implements Converter {
    private static final byte[] SCHEMA_PREFIX = "{\"schema\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PAYLOAD_INFIX = ",\"payload\":".getBytes(StandardCharsets.US_ASCII);
    /** Schemas compared byte for byte before the map is consulted: topics rarely interleave more. */
    private static final int RECENT = 8;

    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(JsonReadFeature.ALLOW_LEADING_ZEROS_FOR_NUMBERS) // as the JsonConverter's deserializer
            .build();

    private final JsonConverter delegate = new JsonConverter();
    private boolean shortcut;
    private JsonPayloadReader payloads;
    /** Schema bytes → the JsonConverter's Schema for them, least recently used first. */
    private Map<SchemaBytes, Schema> schemas;
    private final SchemaBytes[] recent = new SchemaBytes[RECENT];
    private final Schema[] recentSchemas = new Schema[RECENT];
    private int nextRecent;
    /** Set while reading a record whose schema bytes were not seen yet: the JsonConverter's Schema is kept for them. */
    private SchemaBytes unknownSchema;
    /** Records the JsonConverter read itself (first of a schema, or not the well-formed case); tests watch it. */
    private long readByJsonConverter;

    @Override
    public ConfigDef config() {
        return JsonConverterConfig.configDef();
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        delegate.configure(configs, isKey);
        Map<String, Object> withType = new java.util.HashMap<>(configs);
        withType.put(JsonConverterConfig.TYPE_CONFIG, isKey ? ConverterType.KEY.getName() : ConverterType.VALUE.getName());
        JsonConverterConfig config = new JsonConverterConfig(withType);
        shortcut = config.schemasEnabled() && config.schemaContent() == null;
        payloads = new JsonPayloadReader(config.replaceNullWithDefault());
        int size = config.schemaCacheSize();
        schemas = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<SchemaBytes, Schema> eldest) {
                return size() > size;
            }
        };
    }

    @Override
    public byte[] fromConnectData(String topic, Schema schema, Object value) {
        return delegate.fromConnectData(topic, schema, value);
    }

    @Override
    public SchemaAndValue toConnectData(String topic, byte[] value) {
        if (!shortcut || value == null) {
            return delegate.toConnectData(topic, value);
        }
        unknownSchema = null;
        try {
            SchemaAndValue read = readRecent(value);
            if (read == null) {
                read = readWithParser(value);
            }
            if (read != null) {
                return read;
            }
        } catch (JsonPayloadReader.Unread | IOException | RuntimeException e) {
            // not the well-formed case: the JsonConverter reads it, or names what is wrong with it
        }
        readByJsonConverter++;
        SchemaAndValue read = delegate.toConnectData(topic, value);
        if (unknownSchema != null && read.schema() != null) {
            schemas.put(unknownSchema, read.schema());
            remember(unknownSchema, read.schema());
        }
        return read;
    }

    long readByJsonConverter() {
        return readByJsonConverter;
    }

    /** The compact layout the JsonConverter writes, whose schema bytes equal a recent one's; null if not. */
    private SchemaAndValue readRecent(byte[] value) throws IOException, JsonPayloadReader.Unread {
        if (!startsWith(value, 0, SCHEMA_PREFIX) || value[value.length - 1] != '}') {
            return null;
        }
        int from = SCHEMA_PREFIX.length;
        for (int i = 0; i < RECENT; i++) {
            SchemaBytes candidate = recent[i];
            if (candidate == null) {
                continue;
            }
            int to = from + candidate.bytes.length;
            if (to + PAYLOAD_INFIX.length < value.length && candidate.matches(value, from, to) && startsWith(value, to, PAYLOAD_INFIX)) {
                int payload = to + PAYLOAD_INFIX.length;
                try (JsonParser p = JSON.createParser(value, payload, value.length - 1 - payload)) {
                    p.nextToken();
                    Object read = payloads.read(recentSchemas[i], p);
                    // one value where the payload was (else the JsonConverter reads the record, or rejects it)
                    return p.nextToken() == null ? new SchemaAndValue(recentSchemas[i], read) : null;
                }
            }
        }
        return null;
    }

    /**
     * Any layout of the envelope, the schema found by its bytes; null for the JsonConverter to read the record, after
     * setting {@link #unknownSchema} when the schema is one it has not read yet.
     */
    private SchemaAndValue readWithParser(byte[] value) throws IOException, JsonPayloadReader.Unread {
        try (JsonParser p = JSON.createParser(value)) {
            if (p.nextToken() != JsonToken.START_OBJECT || p.nextToken() != JsonToken.FIELD_NAME || !"schema".equals(p.currentName())
                    || p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            int from = (int) p.currentTokenLocation().getByteOffset();
            p.skipChildren();
            int to = (int) p.currentLocation().getByteOffset();
            SchemaBytes key = new SchemaBytes(Arrays.copyOfRange(value, from, to));
            Schema schema = schemas.get(key);
            if (schema == null) {
                unknownSchema = key;
                return null;
            }
            remember(key, schema);
            if (p.nextToken() != JsonToken.FIELD_NAME || !"payload".equals(p.currentName())) {
                return null;
            }
            p.nextToken();
            Object read = payloads.read(schema, p);
            return p.nextToken() == JsonToken.END_OBJECT && p.nextToken() == null ? new SchemaAndValue(schema, read) : null;
        }
    }

    private void remember(SchemaBytes key, Schema schema) {
        for (SchemaBytes known : recent) {
            if (key.equals(known)) {
                return;
            }
        }
        recent[nextRecent] = key;
        recentSchemas[nextRecent] = schema;
        nextRecent = (nextRecent + 1) % RECENT;
    }

    private static boolean startsWith(byte[] value, int at, byte[] prefix) {
        return value.length >= at + prefix.length && Arrays.equals(value, at, at + prefix.length, prefix, 0, prefix.length);
    }

    @Override
    public void close() {
        delegate.close();
    }

    /** A schema's exact JSON bytes, as a map key. */
    private static final class SchemaBytes {
        final byte[] bytes;
        private final int hash;

        SchemaBytes(byte[] bytes) {
            this.bytes = bytes;
            this.hash = Arrays.hashCode(bytes);
        }

        boolean matches(byte[] value, int from, int to) {
            return Arrays.equals(value, from, to, bytes, 0, bytes.length);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof SchemaBytes other && hash == other.hash && Arrays.equals(bytes, other.bytes);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
