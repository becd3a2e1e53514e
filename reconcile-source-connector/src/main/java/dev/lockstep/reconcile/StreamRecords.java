package dev.lockstep.reconcile;

import dev.lockstep.smt.ContentHash;
import dev.lockstep.smt.DeadLetters;
import dev.lockstep.smt.DocumentId;
import dev.lockstep.smt.Lineage;
import dev.lockstep.smt.SyncHeaders;
import dev.lockstep.smt.ToSearchDocument;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * The records the stream itself would write for a table's rows, which is what a repair writes into the table's
 * topic: a Debezium-shaped change event (op {@code r} for a row, {@code d} for an id without a row), with a source
 * block that names the reconciler and carries the repair's version as its commit-order LSN; in the documents layout
 * that event then goes through the very transforms of the Debezium source ({@link SyncHeaders}, {@link ContentHash},
 * {@link ToSearchDocument}) with the same options, so a repaired document is byte for byte what the stream makes.
 * Only the two headers the sink reads stay, as the shipped source config's DropHeaders leaves them.
 */
final class StreamRecords {
    static final String CONNECTOR = "lockstep-reconciler";

    private final TableSpec table;
    private final ReconcileConfig.TopicLayout layout;
    private final String connectorName;
    private final String database;
    private final Schema keySchema;
    private final Schema rowSchema;
    private final Schema sourceSchema;
    private final Schema envelopeSchema;
    private final SyncHeaders<SourceRecord> sync = new SyncHeaders<>();
    private final ContentHash<SourceRecord> hash = new ContentHash<>();
    private final ToSearchDocument<SourceRecord> document = new ToSearchDocument<>();
    private final DocumentId ids;

    StreamRecords(TableSpec table, ReconcileConfig.TopicLayout layout, Map<String, Object> documentOptions, String connectorName,
            String database) {
        this.table = table;
        this.layout = layout;
        this.connectorName = connectorName;
        this.database = database;
        SchemaBuilder key = SchemaBuilder.struct().name(table.topic + ".Key");
        for (ColumnCodec c : table.keyColumns) {
            key.field(c.name(), c.schema());
        }
        this.keySchema = key.build();
        SchemaBuilder row = SchemaBuilder.struct().name(table.topic + ".Value").optional();
        for (ColumnCodec c : table.columns) {
            row.field(c.name(), c.schema());
        }
        this.rowSchema = row.build();
        this.sourceSchema = SchemaBuilder.struct().name("dev.lockstep.reconcile.Source")
                .field("version", Schema.STRING_SCHEMA)
                .field("connector", Schema.STRING_SCHEMA)
                .field("name", Schema.STRING_SCHEMA)
                .field("ts_ms", Schema.INT64_SCHEMA)
                .field("snapshot", Schema.OPTIONAL_STRING_SCHEMA)
                .field("db", Schema.STRING_SCHEMA)
                .field("sequence", Schema.OPTIONAL_STRING_SCHEMA)
                .field("schema", Schema.STRING_SCHEMA)
                .field("table", Schema.STRING_SCHEMA)
                .field("txId", Schema.OPTIONAL_INT64_SCHEMA)
                .field("lsn", Schema.OPTIONAL_INT64_SCHEMA)
                .build();
        this.envelopeSchema = SchemaBuilder.struct().name(table.topic + ".Envelope")
                .field("before", rowSchema)
                .field("after", rowSchema)
                .field("source", sourceSchema)
                .field("op", Schema.STRING_SCHEMA)
                .field("ts_ms", Schema.OPTIONAL_INT64_SCHEMA)
                .build();
        // A repair the transforms cannot make is the reconciler's own error to report, not a dead letter.
        Map<String, Object> transformOptions = new java.util.HashMap<>(documentOptions);
        transformOptions.put(DeadLetters.ERRORS_TOPIC_CONFIG, "");
        sync.configure(transformOptions);
        hash.configure(transformOptions);
        document.configure(transformOptions);
        Object separator = documentOptions.getOrDefault(ToSearchDocument.ID_SEPARATOR_CONFIG, "|");
        Object fields = documentOptions.get(ToSearchDocument.ID_FIELDS_CONFIG);
        this.ids = new DocumentId(separator.toString(), fields == null || fields.toString().isBlank() ? List.of()
                : List.of(fields.toString().split("\\s*,\\s*")));
    }

    /** A row's values (one per {@link TableSpec#columns}, as {@link ColumnCodec#read} gives them) as a Struct. */
    Struct row(List<Object> values) {
        Struct row = new Struct(rowSchema);
        for (int i = 0; i < table.columns.size(); i++) {
            row.put(table.columns.get(i).name(), values.get(i));
        }
        return row;
    }

    Struct key(Struct row) {
        Struct key = new Struct(keySchema);
        for (ColumnCodec c : table.keyColumns) {
            key.put(c.name(), row.get(c.name()));
        }
        return key;
    }

    /** The document id of a row, as the stream's ToSearchDocument makes it. */
    String id(Struct row) {
        return ids.encode(key(row), keySchema);
    }

    /** The key of a document id (for an id without a row: a delete). */
    Struct keyOf(String id) {
        List<String> parts = ids.decode(id, table.keyColumns.size());
        Struct key = new Struct(keySchema);
        for (int i = 0; i < parts.size(); i++) {
            ColumnCodec c = table.keyColumns.get(i);
            String part = parts.get(i);
            key.put(c.name(), switch (c.schema().type()) {
                case INT16 -> Short.parseShort(part);
                case INT32 -> Integer.parseInt(part);
                case INT64 -> Long.parseLong(part);
                default -> part;
            });
        }
        return key;
    }

    /**
     * The record that (re)writes a row's document at {@code version}; {@code xmin} is the row's last writer, which
     * the document's lineage records as its transaction.
     */
    SourceRecord upsert(Struct row, long version, long xmin, Map<String, ?> partition, Map<String, ?> offset) {
        return upsert(row, version, version, xmin, partition, offset);
    }

    /**
     * As {@link #upsert(Struct, long, long, Map, Map)}, with the sink's external version above the document's
     * lineage version: a missing document whose id OpenSearch still remembers as deleted by hand (one above the
     * version it had) is recreated, without raising the index's highest lineage version, the floor of later repairs.
     * The change-event layout has one version for both, since the sink's transforms derive the header from the event.
     */
    SourceRecord upsert(Struct row, long version, long externalVersion, long xmin, Map<String, ?> partition, Map<String, ?> offset) {
        if (layout == ReconcileConfig.TopicLayout.CHANGE_EVENTS) {
            return finish(envelope("r", key(row), row, externalVersion, xmin), partition, offset, externalVersion);
        }
        return finish(envelope("r", key(row), row, version, xmin), partition, offset, externalVersion);
    }

    /** The record that deletes a document that has no row, at {@code version}. */
    SourceRecord delete(String id, long version, Map<String, ?> partition, Map<String, ?> offset) {
        Struct key;
        try {
            key = keyOf(id);
        } catch (RuntimeException e) {
            if (layout == ReconcileConfig.TopicLayout.CHANGE_EVENTS) {
                throw new IllegalArgumentException("document id '" + id + "' is no key of " + table + ", so no change event can delete it", e);
            }
            // A document added by hand under an id no row can have: a tombstone by id is all the sink needs.
            ConnectHeaders headers = new ConnectHeaders();
            headers.addLong(Lineage.VERSION, version);
            headers.addLong(Lineage.SOURCE_TS_MS, System.currentTimeMillis());
            return new SourceRecord(partition, offset, table.topic, null, Schema.OPTIONAL_STRING_SCHEMA, id, null, null, null, headers);
        }
        return finish(envelope("d", key, null, version, null), partition, offset, version);
    }

    /** The document the stream makes of a row (documents layout), as a map: what a repair writes and deep mode expects. */
    @SuppressWarnings("unchecked")
    Map<String, Object> document(Struct row, long version, long xmin) {
        SourceRecord event = new SourceRecord(null, null, table.topic, null, keySchema, key(row), envelopeSchema,
                envelopeValue("r", row, version, xmin), null);
        return (Map<String, Object>) document.apply(hash.apply(sync.apply(event))).value();
    }

    private SourceRecord envelope(String op, Struct key, Struct row, long version, Long xmin) {
        return new SourceRecord(null, null, table.topic, null, keySchema, key, envelopeSchema, envelopeValue(op, row, version, xmin),
                null);
    }

    private Struct envelopeValue(String op, Struct row, long version, Long xmin) {
        long now = System.currentTimeMillis();
        Struct source = new Struct(sourceSchema)
                .put("version", "1")
                .put("connector", CONNECTOR)
                .put("name", connectorName)
                .put("ts_ms", now)
                .put("snapshot", "false")
                .put("db", database)
                // The repair's version as the commit-order LSN: SyncHeaders turns it into lockstep.version (see
                // docs/lineage-and-versions.md for why this version never beats a newer change).
                .put("sequence", "[\"" + version + "\",\"" + version + "\"]")
                .put("schema", table.name.schema())
                .put("table", table.name.table())
                .put("txId", xmin)
                .put("lsn", version);
        Struct value = new Struct(envelopeSchema).put("source", source).put("op", op).put("ts_ms", now);
        if (op.equals("d")) {
            value.put("before", null);
        } else {
            value.put("after", row);
        }
        return value;
    }

    private SourceRecord finish(SourceRecord event, Map<String, ?> partition, Map<String, ?> offset, long externalVersion) {
        if (layout == ReconcileConfig.TopicLayout.CHANGE_EVENTS) {
            return new SourceRecord(partition, offset, event.topic(), null, event.keySchema(), event.key(), event.valueSchema(),
                    event.value(), null);
        }
        SourceRecord doc = document.apply(hash.apply(sync.apply(event)));
        ConnectHeaders headers = new ConnectHeaders();
        for (Header h : doc.headers()) {
            // What the shipped source config's DropHeaders leaves: the headers the sink reads (the field types map a
            // new index, which a repair or a first load may create).
            if (h.key().equals(Lineage.SOURCE_TS_MS) || h.key().equals(Lineage.FIELD_TYPES)) {
                headers.add(h);
            }
        }
        headers.addLong(Lineage.VERSION, externalVersion);
        return new SourceRecord(partition, offset, doc.topic(), null, doc.keySchema(), doc.key(), doc.valueSchema(), doc.value(),
                null, headers);
    }
}
