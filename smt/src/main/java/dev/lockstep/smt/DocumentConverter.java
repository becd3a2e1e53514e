package dev.lockstep.smt;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.storage.Converter;

/**
 * Writes search documents (what {@link ToSearchDocument} makes) as plain JSON objects, for topics of documents
 * that the sink sends to OpenSearch as they are.
 *
 * <p>Connect's JsonConverter without schemas cannot write the exact numbers that {@code json}/{@code jsonb}
 * columns may hold (BigDecimal, BigInteger); Jackson writes them digit for digit. Reading gives the
 * document back as a schemaless map, with exact numbers again.
 *
 * <p>Records on their way to the dead-letter topic (header {@code lockstep.error.reason}) are written as plain JSON
 * of the record's value, see {@link #fromConnectData(String, Headers, Schema, Object)}.
 */
public class DocumentConverter implements Converter {

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
    }

    @Override
    public ConfigDef config() {
        return new ConfigDef();
    }

    @Override
    public byte[] fromConnectData(String topic, Schema schema, Object value) {
        if (value == null) {
            return null; // a delete: a tombstone in a topic of documents
        }
        Object document = value instanceof Struct struct ? SearchValues.toMap(struct, SearchValues.NumericFormat.STRING) : value;
        try {
            return SearchValues.JSON.writeValueAsBytes(document);
        } catch (JsonProcessingException e) {
            throw new DataException("cannot write the document for topic " + topic + " as JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * A dead letter ({@link DeadLetters}) keeps the record it was: its value, usually Debezium's change event, is
     * written as plain JSON without search conversions, which may be what failed, so that writing it cannot fail.
     */
    @Override
    public byte[] fromConnectData(String topic, Headers headers, Schema schema, Object value) {
        if (value == null || headers == null || headers.lastHeader(DeadLetters.REASON) == null) {
            return fromConnectData(topic, schema, value);
        }
        try {
            return SearchValues.JSON.writeValueAsBytes(PlainValues.of(value));
        } catch (JsonProcessingException | RuntimeException e) {
            return SearchValues.JSON.createObjectNode().put("unwritable", String.valueOf(value)).toString()
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    @Override
    public SchemaAndValue toConnectData(String topic, byte[] value) {
        if (value == null) {
            return SchemaAndValue.NULL;
        }
        try {
            return new SchemaAndValue(null, SearchValues.JSON.readValue(value, Object.class));
        } catch (IOException e) {
            throw new DataException("a record of topic " + topic + " is not JSON: " + e.getMessage(), e);
        }
    }
}
