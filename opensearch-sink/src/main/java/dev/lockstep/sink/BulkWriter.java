package dev.lockstep.sink;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import dev.lockstep.sink.metrics.SinkMetrics;
import dev.lockstep.smt.Lineage;
import org.apache.kafka.common.utils.ExponentialBackoff;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.opensearch.client.opensearch.OpenSearchClient;
import org.opensearch.client.opensearch.generic.Body;
import org.opensearch.client.opensearch.generic.Request;
import org.opensearch.client.opensearch.generic.Requests;
import org.opensearch.client.opensearch.generic.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends document operations as bulk requests until each is acknowledged or rejected for good.
 *
 * <p>Only the items that failed with a transient status (429, 5xx) are sent again; a request that failed as
 * a whole (connection lost, timeout, 429/5xx on the request) is sent again whole. Transient failures are
 * retried without limit, with exponential backoff and jitter: the bulk pipeline holds the records meanwhile and
 * the task pauses its partitions when its buffer is full, so an outage costs time, never records. Callers pass
 * at most one operation per document, so retrying a subset can never reorder two operations on the same id.
 */
final class BulkWriter {
    private static final Logger log = LoggerFactory.getLogger(BulkWriter.class);

    /** An operation OpenSearch rejected with a reason a retry cannot fix. */
    record Rejection(DocumentOperation operation, int status, String reason) {
    }

    private final OpenSearchClient client;
    private final SinkMetrics metrics;
    private final ExponentialBackoff backoff;
    private volatile boolean closed;

    BulkWriter(OpenSearchClient client, SinkMetrics metrics, long backoffMs, long backoffMaxMs) {
        this.client = client;
        this.metrics = metrics;
        this.backoff = new ExponentialBackoff(backoffMs, 2, backoffMaxMs, 0.2);
    }

    /**
     * Writes the operations; returns the rejected ones. Throws {@link ConnectException} when OpenSearch refuses
     * the request for good, as a whole or per item for lack of rights (401, 403), and {@link RetriableException} once
     * {@link #close}d.
     */
    List<Rejection> write(List<DocumentOperation> operations) {
        List<Rejection> rejections = new ArrayList<>();
        List<DocumentOperation> pending = operations;
        for (int attempt = 0; !pending.isEmpty(); attempt++) {
            if (closed) {
                throw new RetriableException("the task stopped before " + pending.size() + " operations were acknowledged");
            }
            String transientReason;
            List<DocumentOperation> retry = new ArrayList<>();
            try {
                Sent sent = send(pending);
                long now = System.currentTimeMillis();
                if (sent.status != 200) {
                    if (!isTransient(sent.status)) {
                        throw new ConnectException("OpenSearch refused the bulk request (status " + sent.status + "): " + sent.error);
                    }
                    retry = pending;
                    transientReason = "status " + sent.status + " " + sent.error;
                } else {
                    transientReason = null;
                    for (int i = 0; i < pending.size(); i++) {
                        DocumentOperation op = pending.get(i);
                        BulkBody.Item item = sent.items.isEmpty() ? null : sent.items.get(i);
                        SinkMetrics.IndexMeters meters = metrics.index(op.name());
                        if (item == null || !item.failed()) {
                            if (!op.primary()) {
                                continue; // a dual write's copy: the primary's outcome is the one counted
                            }
                            // Acknowledged; a delete of a missing document answers 404 without an error.
                            // A snapshot read (CommitLsnVersion.SNAPSHOT) has no commit to measure from: its ts_ms is when Debezium read it.
                            Long committedAt = op.version() != null && op.version() == dev.lockstep.smt.CommitLsnVersion.SNAPSHOT ? null
                                    : Lineage.longHeader(op.record().headers(), Lineage.SOURCE_TS_MS);
                            meters.acknowledged(op.isDelete(), committedAt, now);
                            continue;
                        }
                        if (item.status() == 409 && "version_conflict_engine_exception".equals(item.errorType())) {
                            if (op.primary()) {
                                meters.versionConflict();
                            } // a newer version is already indexed: this operation is stale, as intended
                            continue;
                        }
                        String reason = item.errorType() + ": " + item.errorReason();
                        if (isRefusal(item.status())) {
                            // The security plugin checks write permission per shard, so it answers 403 per item. That is
                            // no fault of the document: fail the task (nothing is committed) rather than reject every record.
                            throw new ConnectException("OpenSearch refused the bulk request (status " + item.status() + ", document id="
                                    + op.id() + " in index " + op.index() + "): " + reason);
                        }
                        if (isTransient(item.status())) {
                            retry.add(op);
                            transientReason = "status " + item.status() + " " + reason;
                        } else {
                            meters.failed();
                            rejections.add(new Rejection(op, item.status(), reason));
                        }
                    }
                }
            } catch (IOException e) {
                retry = pending;
                transientReason = e.getClass().getSimpleName() + ": " + e.getMessage();
            }
            if (retry.isEmpty()) {
                break;
            }
            if (closed) {
                throw new RetriableException("the task stopped before " + retry.size() + " operations were acknowledged");
            }
            metrics.retried(retry.size());
            long sleepMs = backoff.backoff(attempt);
            log.warn("Retrying {} of {} operations in {} ms (retry {}): {}", retry.size(), pending.size(), sleepMs,
                    attempt + 1, transientReason);
            sleep(sleepMs);
            pending = retry;
        }
        return rejections;
    }

    /** A bulk request's outcome: the items with errors (none when all succeeded), or a status and error of the whole request. */
    private record Sent(int status, List<BulkBody.Item> items, String error) {
    }

    private Sent send(List<DocumentOperation> operations) throws IOException {
        Request request = Requests.builder().method("POST").endpoint("/_bulk")
                .query(Map.of("filter_path", BulkBody.FILTER_PATH))
                .body(Body.from(BulkBody.write(operations), "application/x-ndjson"))
                .build();
        try {
            return metrics.bulk(operations.size(), () -> {
                try (Response response = client.generic().execute(request)) {
                    Optional<Body> body = response.getBody();
                    if (response.getStatus() == 200) {
                        if (body.isEmpty()) {
                            throw new IOException("a _bulk response without a body");
                        }
                        try (InputStream in = body.get().body()) {
                            return new Sent(200, BulkBody.read(in, operations.size()), null);
                        }
                    }
                    String error = body.map(b -> BulkBody.describeError(b.bodyAsBytes())).orElse(String.valueOf(response.getReason()));
                    return new Sent(response.getStatus(), List.of(), error);
                }
            });
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    /** Stops retrying: a bulk still failing gives up at its next attempt, its records unacknowledged. */
    void close() {
        closed = true;
    }

    /** Authentication or authorisation refused: the same for every document, so never a per-document rejection. */
    static boolean isRefusal(int status) {
        return status == 401 || status == 403;
    }

    static boolean isTransient(int status) {
        return status == 429 || status >= 500;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RetriableException("interrupted while backing off", e);
        }
    }
}
