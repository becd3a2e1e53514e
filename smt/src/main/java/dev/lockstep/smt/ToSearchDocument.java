package dev.lockstep.smt;

import java.util.Locale;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
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
 * row itself. Headers pass through unchanged.
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

    public static final ConfigDef CONFIG_DEF = new ConfigDef()
            .define(ID_SEPARATOR_CONFIG, ConfigDef.Type.STRING, "|", new SeparatorValidator(),
                    ConfigDef.Importance.MEDIUM, ID_SEPARATOR_DOC)
            .define(ID_FIELDS_CONFIG, ConfigDef.Type.LIST, "", ConfigDef.Importance.MEDIUM, ID_FIELDS_DOC)
            .define(NUMERIC_FORMAT_CONFIG, ConfigDef.Type.STRING, "string",
                    ConfigDef.CaseInsensitiveValidString.in("string", "number"), ConfigDef.Importance.MEDIUM, NUMERIC_FORMAT_DOC)
            .define(TOMBSTONES_CONFIG, ConfigDef.Type.STRING, "drop",
                    ConfigDef.CaseInsensitiveValidString.in("drop", "delete"), ConfigDef.Importance.LOW, TOMBSTONES_DOC);

    private DocumentId documentId;
    private SearchValues.NumericFormat numericFormat;
    private boolean dropDebeziumTombstones;

    @Override
    public void configure(Map<String, ?> props) {
        AbstractConfig config = new AbstractConfig(CONFIG_DEF, props);
        documentId = new DocumentId(config.getString(ID_SEPARATOR_CONFIG), config.getList(ID_FIELDS_CONFIG));
        numericFormat = SearchValues.NumericFormat.valueOf(config.getString(NUMERIC_FORMAT_CONFIG).toUpperCase(Locale.ROOT));
        dropDebeziumTombstones = config.getString(TOMBSTONES_CONFIG).equalsIgnoreCase("drop");
    }

    @Override
    public R apply(R record) {
        Object value = record.value();
        if (value == null && dropDebeziumTombstones) {
            return null;
        }
        Object row;
        if (value == null) {
            row = null;
        } else {
            ChangeEvent event = ChangeEvent.of(value);
            switch (event.op()) {
                case "c", "r", "u" -> row = event.after();
                case "d" -> row = null;
                case "t", "m" -> {
                    return null; // truncate / logical message: not a row change
                }
                default -> throw new DataException("unknown Debezium op '" + event.op() + "' at " + RecordLocation.of(record));
            }
            if (row == null && !event.op().equals("d")) {
                throw new DataException("Debezium event op '" + event.op() + "' has no 'after' image at " + RecordLocation.of(record));
            }
        }
        String id;
        try {
            id = documentId.encode(record.key(), record.keySchema());
        } catch (DataException e) {
            throw new DataException(e.getMessage() + " at " + RecordLocation.of(record), e);
        }
        Object document;
        try {
            document = row == null ? null : SearchValues.normalise(row, row instanceof Struct s ? s.schema() : null, numericFormat);
        } catch (DataException | ClassCastException e) {
            throw new DataException("cannot convert the row at " + RecordLocation.of(record) + ": " + e.getMessage(), e);
        }
        return record.newRecord(record.topic(), record.kafkaPartition(), Schema.OPTIONAL_STRING_SCHEMA, id,
                null, document, record.timestamp(), record.headers());
    }

    @Override
    public ConfigDef config() {
        return CONFIG_DEF;
    }

    @Override
    public void close() {
    }

    /** The parts of Debezium's envelope this transform reads, from a Struct or a schemaless Map. */
    record ChangeEvent(String op, Object after) {
        static ChangeEvent of(Object value) {
            if (value instanceof Struct struct) {
                if (struct.schema().field("op") == null) {
                    return new ChangeEvent("r", struct);
                }
                return new ChangeEvent(struct.getString("op"), struct.schema().field("after") == null ? null : struct.get("after"));
            }
            if (value instanceof Map<?, ?> map) {
                if (!map.containsKey("op")) {
                    return new ChangeEvent("r", map);
                }
                return new ChangeEvent(String.valueOf(map.get("op")), map.get("after"));
            }
            throw new DataException("value is a " + value.getClass().getName() + ", expected a Debezium change event (Struct or Map)");
        }
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
