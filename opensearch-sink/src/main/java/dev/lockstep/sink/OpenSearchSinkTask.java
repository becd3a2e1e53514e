package dev.lockstep.sink;

import dev.lockstep.sink.metrics.LockstepMetrics;
import dev.lockstep.sink.metrics.SinkMetrics;
import dev.lockstep.smt.Lineage;
import dev.lockstep.smt.RecordLocation;
import dev.lockstep.smt.SearchValues;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
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
 * <p>{@link #put} returns only once every record it was given is acknowledged by OpenSearch or handled by
 * {@code behavior.on.malformed.documents}; Connect commits offsets only for records passed to put that
 * returned, so an offset is never committed ahead of OpenSearch.
 */
public class OpenSearchSinkTask extends SinkTask {
    private static final Logger log = LoggerFactory.getLogger(OpenSearchSinkTask.class);

    private OpenSearchSinkConfig config;
    private OpenSearchClient client;
    private SinkMetrics metrics;
    private BulkWriter writer;
    private IndexNames indexNames;
    private ErrantRecordReporter reporter;
    private int batchSize;
    private ExecutorService bulkPool;
    private IndexDefinition indexDefinition;
    private String lineageField;
    private final Set<String> knownIndices = new HashSet<>();

    @Override
    public String version() {
        return Versions.lockstep();
    }

    @Override
    public void start(Map<String, String> props) {
        config = new OpenSearchSinkConfig(props);
        client = OpenSearchClients.create(config);
        metrics = new SinkMetrics(LockstepMetrics.registry(), props.getOrDefault("name", "unnamed"),
                props.getOrDefault(OpenSearchSinkConnector.TASK_ID, "0"));
        writer = new BulkWriter(client, metrics, config.getInt(OpenSearchSinkConfig.MAX_RETRIES),
                config.getLong(OpenSearchSinkConfig.RETRY_BACKOFF_MS), config.getLong(OpenSearchSinkConfig.RETRY_BACKOFF_MAX_MS));
        indexNames = new IndexNames(config.getString(OpenSearchSinkConfig.INDEX_NAME_PATTERN));
        batchSize = config.getInt(OpenSearchSinkConfig.BATCH_SIZE);
        int inFlight = config.getInt(OpenSearchSinkConfig.MAX_IN_FLIGHT_REQUESTS);
        String threadName = "lockstep-bulk-" + props.getOrDefault("name", "sink") + "-" + props.getOrDefault(OpenSearchSinkConnector.TASK_ID, "0");
        AtomicInteger threads = new AtomicInteger();
        bulkPool = Executors.newFixedThreadPool(inFlight, r -> {
            Thread t = new Thread(r, threadName + "-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        indexDefinition = new IndexDefinition(config);
        lineageField = config.getString(OpenSearchSinkConfig.LINEAGE_FIELD);
        try {
            reporter = context.errantRecordReporter();
        } catch (NoSuchMethodError | NoClassDefFoundError e) {
            reporter = null; // a worker older than Kafka 2.6
        }
    }

    @Override
    public void put(Collection<SinkRecord> records) {
        // Within one put only the newest operation per document counts. Every document is then in at most one
        // bulk, so the bulks can run side by side, and retries of some of their items, without ever reordering
        // two operations on one document. put returns when all are acknowledged: offsets never run ahead.
        Map<String, DocumentOperation> latest = new LinkedHashMap<>();
        for (SinkRecord record : records) {
            DocumentOperation op;
            try {
                op = toOperation(record);
            } catch (DataException e) {
                malformed(record, e.getMessage(), e);
                continue;
            }
            latest.remove(op.documentKey());
            latest.put(op.documentKey(), op);
        }
        if (latest.isEmpty()) {
            return;
        }
        List<DocumentOperation> operations = new ArrayList<>(latest.values());
        operations.stream().map(DocumentOperation::index).distinct().forEach(this::ensureIndex);
        List<List<DocumentOperation>> bulks = new ArrayList<>();
        for (int from = 0; from < operations.size(); from += batchSize) {
            bulks.add(operations.subList(from, Math.min(operations.size(), from + batchSize)));
        }
        List<BulkWriter.Rejection> rejections = bulks.size() == 1 ? writer.write(bulks.get(0)) : writeSideBySide(bulks);
        for (BulkWriter.Rejection rejection : rejections) {
            DocumentOperation op = rejection.operation();
            malformed(op.record(), "OpenSearch rejected " + (op.isDelete() ? "the delete of" : "document")
                    + " id=" + op.id() + " in index " + op.index() + " (status " + rejection.status() + "): "
                    + rejection.reason(), null);
        }
    }

    /** Sends the bulks on the task's pool, at most max.in.flight.requests at a time, and waits for all of them. */
    private List<BulkWriter.Rejection> writeSideBySide(List<List<DocumentOperation>> bulks) {
        List<Future<List<BulkWriter.Rejection>>> futures = new ArrayList<>(bulks.size());
        for (List<DocumentOperation> bulk : bulks) {
            futures.add(bulkPool.submit(() -> writer.write(bulk)));
        }
        List<BulkWriter.Rejection> rejections = new ArrayList<>();
        RuntimeException failure = null;
        for (Future<List<BulkWriter.Rejection>> future : futures) {
            try {
                rejections.addAll(future.get());
            } catch (ExecutionException e) {
                RuntimeException cause = e.getCause() instanceof RuntimeException r ? r : new ConnectException(e.getCause());
                // A fatal failure outranks a retriable one: the task must stop rather than redeliver forever.
                if (failure == null || (failure instanceof RetriableException && !(cause instanceof RetriableException))) {
                    failure = cause;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RetriableException("interrupted while waiting for bulk requests", e);
            }
        }
        if (failure != null) {
            throw failure; // Connect redelivers the whole batch; what was acknowledged is re-sent idempotently
        }
        return rejections;
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
        throw new DataException("value is a " + value.getClass().getSimpleName()
                + ", expected a document (Map or Struct) or null for a delete");
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
                + ", not an id: add the transform dev.lockstep.smt.ToSearchDocument to the connector's transforms");
    }

    private void ensureIndex(String index) {
        if (knownIndices.contains(index) || !config.getBoolean(OpenSearchSinkConfig.INDEX_AUTO_CREATE)) {
            return;
        }
        try {
            if (!client.indices().exists(e -> e.index(index)).value()) {
                try {
                    client.indices().create(indexDefinition.request(index, client._transport().jsonpMapper()));
                    log.info("Created index {}", index);
                } catch (OpenSearchException e) {
                    if (e.error() == null || !"resource_already_exists_exception".equals(e.error().type())) {
                        throw e;
                    }
                }
            }
            knownIndices.add(index);
        } catch (IOException | OpenSearchException e) {
            throw new RetriableException("cannot check or create index " + index + ": " + e.getMessage(), e);
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
        if (bulkPool != null) {
            bulkPool.shutdownNow();
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
