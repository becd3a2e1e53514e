package dev.lockstep.sink;

import dev.lockstep.sink.metrics.LockstepMetrics;
import dev.lockstep.sink.metrics.SinkMetrics;
import dev.lockstep.smt.Lineage;
import dev.lockstep.smt.RecordLocation;
import dev.lockstep.smt.SearchValues;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;
import org.opensearch.client.opensearch.OpenSearchClient;
import org.opensearch.client.opensearch._types.OpenSearchException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes search documents (key = id, value = document or null for a delete) to OpenSearch.
 *
 * <p>{@link #put} converts records and hands them to a {@link BulkPipeline}, which keeps bulks in flight across
 * puts; it returns at once unless the buffer is full. {@link #preCommit} tells Connect to commit, per partition,
 * only the offset below which every record is acknowledged (or handled by behavior.on.malformed.documents), so
 * whatever a stopped or failed task had not finished is delivered again. When OpenSearch is slow or down the
 * buffer fills, the task pauses its partitions (memory stays bounded), and it resumes them once half the buffer
 * is acknowledged.
 */
public class OpenSearchSinkTask extends SinkTask {
    private static final Logger log = LoggerFactory.getLogger(OpenSearchSinkTask.class);

    /** How long a put waits for room in a full buffer before it pauses the partitions instead. */
    private static final long BACKPRESSURE_WAIT_MS = 1_000;

    private OpenSearchSinkConfig config;
    private OpenSearchClient client;
    private SinkMetrics metrics;
    private BulkWriter writer;
    private BulkPipeline pipeline;
    private final OffsetTracker offsets = new OffsetTracker();
    private IndexNames indexNames;
    private ErrantRecordReporter reporter;
    private IndexFields indexFields;
    private IndexTargets indexTargets;
    private FirstLoad firstLoad;
    private String lineageField;
    private int maxBuffered;
    private boolean paused;

    @Override
    public String version() {
        return Versions.lockstep();
    }

    @Override
    public void start(Map<String, String> props) {
        config = new OpenSearchSinkConfig(props);
        client = OpenSearchClients.create(config);
        String connector = props.getOrDefault("name", "unnamed");
        String task = props.getOrDefault(OpenSearchSinkConnector.TASK_ID, "0");
        metrics = new SinkMetrics(LockstepMetrics.registry(), connector, task);
        writer = new BulkWriter(client, metrics, config.getLong(OpenSearchSinkConfig.RETRY_BACKOFF_MS),
                config.getLong(OpenSearchSinkConfig.RETRY_BACKOFF_MAX_MS));
        pipeline = new BulkPipeline(writer::write, offsets, config.getInt(OpenSearchSinkConfig.BATCH_SIZE),
                config.getLong(OpenSearchSinkConfig.BATCH_MAX_BYTES), config.getLong(OpenSearchSinkConfig.LINGER_MS),
                config.getLong(OpenSearchSinkConfig.PARTIAL_BULK_WAIT_MS), config.getInt(OpenSearchSinkConfig.MAX_IN_FLIGHT_REQUESTS),
                "lockstep-bulk-" + connector + "-" + task);
        metrics.bufferedRecords(pipeline::buffered);
        maxBuffered = config.getInt(OpenSearchSinkConfig.MAX_BUFFERED_RECORDS);
        indexNames = new IndexNames(config.getString(OpenSearchSinkConfig.INDEX_NAME_PATTERN));
        indexFields = new IndexFields(client, new IndexDefinition(config), config.fieldMappingOptions(), metrics,
                config.getBoolean(OpenSearchSinkConfig.INDEX_AUTO_CREATE), config.getBoolean(OpenSearchSinkConfig.INDEX_MAPPINGS_DERIVE),
                config.getBoolean(OpenSearchSinkConfig.INDEX_VERSIONED));
        indexTargets = new IndexTargets(client);
        firstLoad = new FirstLoad(client, json(config.getString(OpenSearchSinkConfig.INDEX_FIRST_LOAD_SETTINGS)),
                json(config.getString(OpenSearchSinkConfig.INDEX_SETTINGS)), config.getLong(OpenSearchSinkConfig.INDEX_FIRST_LOAD_IDLE_MS),
                indexFields, connector, task, "lockstep-first-load-" + connector + "-" + task);
        indexFields.firstLoad(firstLoad);
        metrics.firstLoadIndices(firstLoad::loadingCount);
        firstLoad.holds(pipeline::holdsAny);
        lineageField = config.getString(OpenSearchSinkConfig.LINEAGE_FIELD);
        try {
            reporter = context.errantRecordReporter();
        } catch (NoSuchMethodError | NoClassDefFoundError e) {
            reporter = null; // a worker older than Kafka 2.6
        }
    }

    @Override
    public void put(Collection<SinkRecord> records) {
        handleFinishedBulks();
        if (!records.isEmpty()) {
            enqueue(records);
        }
        applyBackpressure();
    }

    private void enqueue(Collection<SinkRecord> records) {
        // Convert everything, read the write targets and make sure the indices exist before tracking anything: if
        // that throws a RetriableException, Connect redelivers this same batch and nothing of it may be held already.
        List<SinkRecord> inOrder = new ArrayList<>(records.size());
        List<Object> converted = new ArrayList<>(records.size()); // a DocumentOperation, or the DataException
        Set<String> stale = new java.util.LinkedHashSet<>();
        long now = System.currentTimeMillis();
        for (SinkRecord record : records) {
            inOrder.add(record);
            try {
                DocumentOperation op = toOperation(record);
                if (indexTargets.stale(op.index(), now)) {
                    stale.add(op.index());
                }
                converted.add(op);
            } catch (DataException e) {
                converted.add(e);
            }
        }
        readTargets(stale);
        Map<String, Set<String>> unprepared = new LinkedHashMap<>(); // index -> field types headers (null: none)
        for (int i = 0; i < inOrder.size(); i++) {
            if (converted.get(i) instanceof DocumentOperation op) {
                String fieldTypes = fieldTypes(inOrder.get(i));
                for (String target : indexTargets.of(op.index())) {
                    if (!indexFields.ready(target, fieldTypes)) {
                        unprepared.computeIfAbsent(target, t -> new java.util.LinkedHashSet<>()).add(fieldTypes);
                    }
                }
            }
        }
        unprepared.forEach(this::prepareIndex);
        for (int i = 0; i < inOrder.size(); i++) {
            SinkRecord record = inOrder.get(i);
            if (converted.get(i) instanceof DocumentOperation op) {
                List<String> targets = indexTargets.of(op.index());
                OffsetTracker.Entry entry = offsets.track(record, targets.size());
                if (!firstLoad.idle()) {
                    targets.forEach(target -> firstLoad.queued(target, op.version()));
                }
                for (int t = 0; t < targets.size(); t++) {
                    pipeline.add(targets.size() == 1 && targets.get(0).equals(op.index()) ? op : op.to(targets.get(t), t == 0), entry);
                }
            } else {
                DataException e = (DataException) converted.get(i);
                OffsetTracker.Entry entry = offsets.track(record);
                malformed(record, e.getMessage(), e);
                offsets.finish(entry);
            }
        }
        pipeline.dispatch();
    }

    /** Reads which concrete indices these index names write to (their write aliases), before their records are queued. */
    private void readTargets(Set<String> names) {
        try {
            indexTargets.refresh(names);
        } catch (IOException | OpenSearchException e) {
            context.timeout(config.getLong(OpenSearchSinkConfig.RETRY_BACKOFF_MAX_MS));
            throw new RetriableException("cannot read the write aliases of " + names + ": " + e.getMessage(), e);
        }
    }

    /** Pauses the partitions while the buffer is full; resumes them once half of it is acknowledged. */
    private void applyBackpressure() {
        int buffered = pipeline.buffered();
        if (paused) {
            if (buffered <= maxBuffered / 2) {
                resumeAll();
            }
            return;
        }
        if (buffered >= maxBuffered) {
            boolean room;
            try {
                room = pipeline.awaitBufferedBelow(maxBuffered, BACKPRESSURE_WAIT_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                room = false;
            }
            if (!room) {
                pauseAll();
            }
        }
    }

    private void pauseAll() {
        Set<TopicPartition> assigned = context.assignment();
        context.pause(assigned.toArray(TopicPartition[]::new));
        paused = true;
        metrics.pausedPartitions(assigned.size());
        log.info("Pausing {} partitions: {} records are not acknowledged by OpenSearch yet (max.buffered.records={})",
                assigned.size(), pipeline.buffered(), maxBuffered);
    }

    private void resumeAll() {
        Set<TopicPartition> assigned = context.assignment();
        context.resume(assigned.toArray(TopicPartition[]::new));
        paused = false;
        metrics.pausedPartitions(0);
        log.info("Resuming {} partitions: {} records buffered", assigned.size(), pipeline.buffered());
    }

    /** Handles what finished bulks left for the task thread: rejected operations, and failures for good. */
    private void handleFinishedBulks() {
        RuntimeException failure = pipeline.failure();
        if (failure != null) {
            throw new ConnectException("a bulk request failed for good: " + failure.getMessage()
                    + "; records not acknowledged are delivered again when the task restarts", failure);
        }
        for (BulkPipeline.Rejected rejected : pipeline.takeRejected()) {
            BulkWriter.Rejection rejection = rejected.rejection();
            DocumentOperation op = rejection.operation();
            malformed(op.record(), "OpenSearch rejected " + (op.isDelete() ? "the delete of" : "document")
                    + " id=" + op.id() + " in index " + op.index() + " (status " + rejection.status() + "): "
                    + rejection.reason(), null);
            rejected.entries().forEach(offsets::finish);
        }
    }

    @Override
    public Map<TopicPartition, OffsetAndMetadata> preCommit(Map<TopicPartition, OffsetAndMetadata> currentOffsets) {
        handleFinishedBulks();
        if (paused) {
            applyBackpressure();
        }
        return offsets.committable();
    }

    @Override
    public void open(Collection<TopicPartition> partitions) {
        if (firstLoad != null) {
            firstLoad.assigned();
        }
        if (paused) {
            context.pause(partitions.toArray(TopicPartition[]::new)); // the buffer is still full
            metrics.pausedPartitions(context.assignment().size());
        }
    }

    @Override
    public void close(Collection<TopicPartition> partitions) {
        // Called after the last commit for these partitions: what is unfinished there goes to their next owner.
        if (pipeline != null) {
            pipeline.drop(partitions);
        }
        offsets.forget(partitions);
    }

    /** A JSON object config (validated by the ConfigDef), or an empty object when blank. */
    private static com.fasterxml.jackson.databind.JsonNode json(String text) {
        try {
            return text == null || text.isBlank() ? IndexDefinition.JSON.createObjectNode() : IndexDefinition.JSON.readTree(text);
        } catch (IOException e) {
            throw new ConnectException("not JSON: " + text, e);
        }
    }

    DocumentOperation toOperation(SinkRecord record) {
        String index = indexNames.forTopic(record.topic());
        String id = documentId(record.key());
        Long version = version(record);
        Object value = record.value();
        if (value == null) {
            return new DocumentOperation(record, index, id, null, version);
        }
        if (value instanceof Struct struct) {
            return new DocumentOperation(record, index, id, withLineage(SearchValues.toMap(struct, SearchValues.NumericFormat.STRING), id), version);
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> document = new LinkedHashMap<>(map.size() * 2);
            map.forEach((k, v) -> document.put(String.valueOf(k), v));
            return new DocumentOperation(record, index, id, withLineage(document, id), version);
        }
        if (value instanceof byte[] json) {
            return new DocumentOperation(record, index, id, JsonDocument.withLineage(json, lineageField, id, System.currentTimeMillis()), version);
        }
        if (value instanceof String json) {
            return new DocumentOperation(record, index, id, JsonDocument.withLineage(json, lineageField, id, System.currentTimeMillis()), version);
        }
        throw new DataException("value is a " + value.getClass().getSimpleName()
                + ", expected a document (Struct, Map, or JSON text as bytes or a string) or null for a delete");
    }

    /** Adds the id copy and the indexing time to the document's lineage object (creating it if absent). */
    private Map<String, Object> withLineage(Map<String, Object> document, String id) {
        if (lineageField.isEmpty()) {
            return document;
        }
        Object existing = document.get(lineageField);
        Map<String, Object> lineage = new LinkedHashMap<>();
        if (existing instanceof Map<?, ?> map) {
            map.forEach((k, v) -> lineage.put(String.valueOf(k), v));
        } else if (existing != null) {
            throw new DataException("field '" + lineageField + "' is a " + existing.getClass().getSimpleName()
                    + ", but lineage.field names it as Lockstep's lineage object; set lineage.field to another name");
        }
        lineage.put("id", id);
        lineage.put("indexed_at", System.currentTimeMillis());
        document.put(lineageField, lineage);
        return document;
    }

    private static Long version(SinkRecord record) {
        try {
            Long version = Lineage.longHeader(record.headers(), Lineage.VERSION);
            if (version != null && version < 0) {
                throw new DataException("header " + Lineage.VERSION + " is negative: " + version);
            }
            return version;
        } catch (NumberFormatException e) {
            throw new DataException("header " + Lineage.VERSION + " is not a number: " + e.getMessage());
        }
    }

    private static String documentId(Object key) {
        if (key == null) {
            throw new DataException("record has no key, so it has no document id");
        }
        if (key instanceof String s) {
            if (s.isEmpty()) {
                throw new DataException("record key is an empty string, which OpenSearch does not accept as an id");
            }
            return s;
        }
        if (key instanceof Number || key instanceof Boolean) {
            return key.toString();
        }
        throw new DataException("record key is a " + key.getClass().getSimpleName()
                + ", not an id: run the transform dev.lockstep.smt.ToSearchDocument on the Debezium source (topics of documents) "
                + "or in this connector's transforms (topics of change events)");
    }

    /** The record's field types header (from ToSearchDocument), or null. */
    private static String fieldTypes(SinkRecord record) {
        org.apache.kafka.connect.header.Header h = record.headers().lastWithName(Lineage.FIELD_TYPES);
        return h == null || h.value() == null ? null : h.value().toString();
    }

    /** Creates the index if missing and maps new fields, before any record of the batch is tracked. */
    private void prepareIndex(String index, Set<String> fieldTypesHeaders) {
        try {
            indexFields.prepare(index, fieldTypesHeaders);
        } catch (IOException | OpenSearchException e) {
            context.timeout(config.getLong(OpenSearchSinkConfig.RETRY_BACKOFF_MAX_MS));
            throw new RetriableException("cannot check, create or map index " + index + ": " + e.getMessage(), e);
        }
    }

    private void malformed(SinkRecord record, String reason, Throwable cause) {
        String where = RecordLocation.of(record);
        switch (config.malformedDocumentBehavior()) {
            case WARN -> {
                log.warn("Skipping record {}: {}", where, reason);
                metrics.skipped();
            }
            case REPORT -> {
                if (reporter == null) {
                    throw new ConnectException("cannot report record " + where + " to the dead-letter queue (this worker "
                            + "has no errant record reporter): " + reason);
                }
                reporter.report(record, cause != null && cause.getMessage().equals(reason) ? cause : new DataException(reason, cause));
                metrics.deadLettered();
            }
            default -> throw new ConnectException("record " + where + " cannot be indexed: " + reason
                    + " (behavior.on.malformed.documents=fail)", cause);
        }
    }

    @Override
    public void stop() {
        if (firstLoad != null) {
            firstLoad.close(); // a load not ended is ended by the next task that finds the index (its _meta notes it)
        }
        if (writer != null) {
            writer.close();
        }
        if (pipeline != null) {
            pipeline.close();
        }
        if (metrics != null) {
            metrics.close();
        }
        if (client != null) {
            try {
                client._transport().close();
            } catch (IOException e) {
                log.warn("Closing the OpenSearch client failed", e);
            }
        }
    }
}
