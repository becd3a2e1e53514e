package dev.lockstep.smt;

import dev.lockstep.smt.hash.FieldMapping;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.header.Headers;
import org.apache.kafka.connect.transforms.Transformation;

/**
 * Turns a Debezium change event into a search document.
 *
 * <ul>
 *   <li>key: the document id, made from the record key (the primary key) by {@link DocumentId};</li>
 *   <li>value: for create, read (snapshot) and update, the after-image as a schemaless map with
 *       {@link SearchValues search-friendly types}; for delete, {@code null} (a tombstone for that id);</li>
 *   <li>Debezium's own compaction tombstones (null value after a delete) are dropped by default, since the
 *       delete event already produced the tombstone; truncate and message events are dropped.</li>
 * </ul>
 * A value without Debezium's envelope (no {@code op} field, e.g. after ExtractNewRecordState) is taken as the
 * row itself. Headers pass through; a row with a schema adds {@link Lineage#FIELD_TYPES}, each field's column type
 * ({@link FieldTypes}), from which the sink maps the index. A record that cannot become a document (no key: a table
 * without a primary key; a key or row that cannot be converted) goes to the dead-letter topic, see {@link DeadLetters}.
 */
public class ToSearchDocument<R extends ConnectRecord<R>> implements Transformation<R> {

    public static final String OVERVIEW_DOC = "Turns a Debezium change event into a search document: "
            + "the key becomes the document id, the after-image the document, a delete a tombstone.";

    public static final String ID_SEPARATOR_CONFIG = "id.separator";
    private static final String ID_SEPARATOR_DOC = "Separator between the columns of a composite primary key in the "
            + "document id. Inside each column's text, '\\' and the separator are escaped with '\\', so ids stay unambiguous.";

    public static final String ID_FIELDS_CONFIG = "id.fields";
    private static final String ID_FIELDS_DOC = "Key fields that form the document id, in order. Empty: every field "
            + "of the key, in key-schema order (the primary key's column order). Required for schemaless composite keys.";

    public static final String NUMERIC_FORMAT_CONFIG = "numeric.format";
    private static final String NUMERIC_FORMAT_DOC = "How exact numerics are written: 'string' keeps every digit as "
            + "text (\"19.90\"); 'number' writes a JSON number, which the search engine may store as a double.";

    public static final String TOMBSTONES_CONFIG = "debezium.tombstones";
    private static final String TOMBSTONES_DOC = "What to do with Debezium's compaction tombstones (a null value after a "
            + "delete event): 'drop' (the delete event already deleted the document) or 'delete' (delete by key again).";

    public static final String METADATA_FIELD_CONFIG = "metadata.field";
    private static final String METADATA_FIELD_DOC = "Name of the object field that carries Lockstep's lineage in each "
            + "document, taken from the record's headers when present: hash (with hash_hi and hash_lo, from ContentHash), "
            + "version, commit_lsn, txid and source_ts_ms (from SyncHeaders). Empty: no such field.";

    public static final String TRUNCATE_HANDLING_CONFIG = "truncate.handling";
    private static final String TRUNCATE_HANDLING_DOC = "What to do with a truncate event: 'drop' it (the default; the "
            + "reconciler finds and repairs what a truncate leaves behind), or 'route' it unchanged to the topic named by "
            + "truncate.topic (in a source connector's chain, e.g. Debezium's, so a control topic records every truncate; "
            + "in a sink connector's chain use 'drop').";

    public static final String TRUNCATE_TOPIC_CONFIG = "truncate.topic";
    private static final String TRUNCATE_TOPIC_DOC = "Control topic for truncate events when truncate.handling=route; "
            + "${topic} is replaced by the event's topic.";

    public static final ConfigDef CONFIG_DEF = DeadLetters.addTo(FieldMapping.addTo(new ConfigDef()
            .define(ID_SEPARATOR_CONFIG, ConfigDef.Type.STRING, "|", new SeparatorValidator(),
                    ConfigDef.Importance.MEDIUM, ID_SEPARATOR_DOC)
            .define(ID_FIELDS_CONFIG, ConfigDef.Type.LIST, "", ConfigDef.Importance.MEDIUM, ID_FIELDS_DOC)
            .define(NUMERIC_FORMAT_CONFIG, ConfigDef.Type.STRING, "string",
                    ConfigDef.CaseInsensitiveValidString.in("string", "number"), ConfigDef.Importance.MEDIUM, NUMERIC_FORMAT_DOC)
            .define(TOMBSTONES_CONFIG, ConfigDef.Type.STRING, "drop",
                    ConfigDef.CaseInsensitiveValidString.in("drop", "delete"), ConfigDef.Importance.LOW, TOMBSTONES_DOC)
            .define(METADATA_FIELD_CONFIG, ConfigDef.Type.STRING, "lockstep", ConfigDef.Importance.LOW, METADATA_FIELD_DOC)
            .define(TRUNCATE_HANDLING_CONFIG, ConfigDef.Type.STRING, "drop",
                    ConfigDef.CaseInsensitiveValidString.in("drop", "route"), ConfigDef.Importance.LOW, TRUNCATE_HANDLING_DOC)
            .define(TRUNCATE_TOPIC_CONFIG, ConfigDef.Type.STRING, "${topic}.truncates", ConfigDef.Importance.LOW, TRUNCATE_TOPIC_DOC),
            "Field mapping"));

    private DocumentId documentId;
    private SearchValues.NumericFormat numericFormat;
    private boolean dropDebeziumTombstones;
    private FieldMapping mapping;
    private String metadataField;
    private String truncateTopic;
    private DeadLetters deadLetters;
    /** The field types header of each row schema seen: Debezium keeps one schema object per table version. */
    private final Map<Schema, String> fieldTypesBySchema = new IdentityHashMap<>();

    @Override
    public void configure(Map<String, ?> props) {
        AbstractConfig config = new AbstractConfig(CONFIG_DEF, props);
        documentId = new DocumentId(config.getString(ID_SEPARATOR_CONFIG), config.getList(ID_FIELDS_CONFIG));
        numericFormat = SearchValues.NumericFormat.valueOf(config.getString(NUMERIC_FORMAT_CONFIG).toUpperCase(Locale.ROOT));
        dropDebeziumTombstones = config.getString(TOMBSTONES_CONFIG).equalsIgnoreCase("drop");
        mapping = FieldMapping.from(config);
        metadataField = config.getString(METADATA_FIELD_CONFIG);
        truncateTopic = config.getString(TRUNCATE_HANDLING_CONFIG).equalsIgnoreCase("route") ? config.getString(TRUNCATE_TOPIC_CONFIG) : null;
        deadLetters = DeadLetters.from(config, "ToSearchDocument");
    }

    @Override
    public R apply(R record) {
        if (DeadLetters.isDeadLetter(record)) {
            return record; // an earlier transform of the chain could not handle it
        }
        try {
            return convert(record);
        } catch (RecordFailure failure) {
            return deadLetters.route(record, failure);
        } catch (RuntimeException unexpected) {
            // Whatever else one record's content provokes must not stop the stream of every other record either.
            return deadLetters.route(record, new RecordFailure(FailureReason.BAD_EVENT, "cannot handle the record at "
                    + RecordLocation.of(record) + ": " + unexpected, unexpected));
        }
    }

    private R convert(R record) {
        Object value = record.value();
        if (value == null && dropDebeziumTombstones) {
            return null;
        }
        Object row;
        if (value == null) {
            row = null;
        } else {
            ChangeEvent event;
            try {
                event = ChangeEvent.of(value);
            } catch (RuntimeException e) {
                throw new RecordFailure(FailureReason.BAD_EVENT, e.getMessage() + " at " + RecordLocation.of(record), e);
            }
            String op = String.valueOf(event.op());
            switch (op) {
                case "c", "r", "u" -> row = event.after();
                case "d" -> row = null;
                case "t" -> {
                    if (truncateTopic == null) {
                        return null;
                    }
                    // A source record's partition is chosen by the producer for the control topic; a sink record keeps its own.
                    Integer partition = record instanceof org.apache.kafka.connect.sink.SinkRecord ? record.kafkaPartition() : null;
                    return record.newRecord(truncateTopic.replace("${topic}", record.topic()), partition, record.keySchema(),
                            record.key(), record.valueSchema(), record.value(), record.timestamp(), record.headers());
                }
                case "m" -> {
                    return null; // a logical decoding message, not a row change
                }
                default -> throw new RecordFailure(FailureReason.BAD_EVENT,
                        "unknown Debezium op '" + op + "' at " + RecordLocation.of(record), null);
            }
            if (row == null && !op.equals("d")) {
                throw new RecordFailure(FailureReason.BAD_EVENT,
                        "Debezium event op '" + op + "' has no 'after' image at " + RecordLocation.of(record), null);
            }
        }
        String id;
        try {
            id = documentId.encode(record.key(), record.keySchema());
        } catch (RuntimeException e) {
            throw new RecordFailure(record.key() == null ? FailureReason.NO_KEY : FailureReason.BAD_KEY,
                    e.getMessage() + " at " + RecordLocation.of(record), e);
        }
        Object document;
        try {
            document = row == null ? null : document(row, record.headers());
        } catch (RuntimeException e) {
            // Any exception here is about this one row's data (e.g. a time PostgreSQL allows and java.time does not).
            throw new RecordFailure(FailureReason.BAD_VALUE, "cannot convert the row at " + RecordLocation.of(record) + ": "
                    + e.getMessage(), e);
        }
        Headers headers = record.headers();
        if (row instanceof Struct struct) {
            headers = headers.duplicate();
            headers.remove(Lineage.FIELD_TYPES).addString(Lineage.FIELD_TYPES, fieldTypes(struct.schema()));
        }
        return record.newRecord(record.topic(), record.kafkaPartition(), Schema.OPTIONAL_STRING_SCHEMA, id,
                null, document, record.timestamp(), headers);
    }

    /** The row's mapped fields with search-friendly values, plus the lineage object when headers carry lineage. */
    private Map<String, Object> document(Object row, Headers headers) {
        Map<String, Object> document = new LinkedHashMap<>();
        if (row instanceof Struct struct) {
            for (Field field : struct.schema().fields()) {
                String name = mapping.map(field.name());
                if (name != null) {
                    document.put(name, SearchValues.normalise(struct.get(field), field.schema(), numericFormat));
                }
            }
        } else if (row instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                String name = mapping.map(String.valueOf(e.getKey()));
                if (name != null) {
                    document.put(name, SearchValues.normalise(e.getValue(), null, numericFormat));
                }
            }
        } else {
            throw new DataException("the after-image is a " + row.getClass().getName() + ", expected a Struct or a Map");
        }
        if (!metadataField.isEmpty()) {
            Map<String, Object> lineage = Lineage.fromHeaders(headers);
            if (!lineage.isEmpty()) {
                document.put(metadataField, lineage);
            }
        }
        return document;
    }

    /** The {@link Lineage#FIELD_TYPES} header for rows of this schema: the document's fields and their column types. */
    private String fieldTypes(Schema rowSchema) {
        String cached = fieldTypesBySchema.get(rowSchema);
        if (cached == null) {
            Map<String, String> types = new LinkedHashMap<>();
            for (Field field : rowSchema.fields()) {
                String name = mapping.map(field.name());
                if (name != null) {
                    types.put(name, FieldTypes.of(field.schema()));
                }
            }
            if (fieldTypesBySchema.size() >= 10_000) {
                fieldTypesBySchema.clear(); // schemas made per record by some upstream transform: stay bounded
            }
            cached = FieldTypes.encode(types);
            fieldTypesBySchema.put(rowSchema, cached);
        }
        return cached;
    }

    @Override
    public ConfigDef config() {
        return CONFIG_DEF;
    }

    @Override
    public void close() {
    }

    static final class SeparatorValidator implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            String s = (String) value;
            if (s == null || s.isEmpty()) {
                throw new ConfigException(name, value, "must not be empty");
            }
            if (s.indexOf(DocumentId.ESCAPE) >= 0) {
                throw new ConfigException(name, value, "must not contain '\\', the escape character of document ids");
            }
        }

        @Override
        public String toString() {
            return "non-empty, without '\\'";
        }
    }
}
