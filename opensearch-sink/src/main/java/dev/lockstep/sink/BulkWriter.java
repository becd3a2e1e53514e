package dev.lockstep.sink;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import dev.lockstep.sink.metrics.SinkMetrics;
import dev.lockstep.smt.Lineage;
import org.apache.kafka.common.utils.ExponentialBackoff;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.opensearch.client.opensearch.OpenSearchClient;
import org.opensearch.client.opensearch._types.ErrorCause;
import org.opensearch.client.opensearch._types.OpenSearchException;
import org.opensearch.client.opensearch.core.BulkRequest;
import org.opensearch.client.opensearch.core.BulkResponse;
import org.opensearch.client.opensearch.core.bulk.BulkResponseItem;
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
     * the request as a whole for good (e.g. 401, 403), and {@link RetriableException} once {@link #close}d.
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
                BulkResponse response = send(pending);
                List<BulkResponseItem> items = response.items();
                long now = System.currentTimeMillis();
                transientReason = null;
                for (int i = 0; i < items.size(); i++) {
                    BulkResponseItem item = items.get(i);
                    DocumentOperation op = pending.get(i);
                    ErrorCause error = item.error();
                    SinkMetrics.IndexMeters meters = metrics.index(op.index());
                    if (error == null) {
                        // Acknowledged; a delete of a missing document answers 404 without an error.
                        // A snapshot read (CommitLsnVersion.SNAPSHOT) has no commit to measure from: its ts_ms is when Debezium read it.
                        Long committedAt = op.version() != null && op.version() == dev.lockstep.smt.CommitLsnVersion.SNAPSHOT ? null
                                : Lineage.longHeader(op.record().headers(), Lineage.SOURCE_TS_MS);
                        meters.acknowledged(op.isDelete(), committedAt, now);
                        continue;
                    }
                    if (item.status() == 409 && "version_conflict_engine_exception".equals(error.type())) {
                        meters.versionConflict(); // a newer version is already indexed: this operation is stale, as intended
                        continue;
                    }
                    String reason = error.type() + ": " + error.reason();
                    if (isTransient(item.status())) {
                        retry.add(op);
                        transientReason = "status " + item.status() + " " + reason;
                    } else {
                        meters.failed();
                        rejections.add(new Rejection(op, item.status(), reason));
                    }
                }
            } catch (OpenSearchException e) {
                if (!isTransient(e.status())) {
                    throw new ConnectException(
                            "OpenSearch refused the bulk request (status " + e.status() + "): " + e.getMessage(), e);
                }
                retry = pending;
                transientReason = "status " + e.status() + " " + e.getMessage();
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

    private BulkResponse send(List<DocumentOperation> operations) throws IOException {
        BulkRequest.Builder request = new BulkRequest.Builder();
        for (DocumentOperation op : operations) {
            request.operations(op.toBulkOperation());
        }
        BulkRequest bulk = request.build();
        try {
            return metrics.bulk(operations.size(), () -> client.bulk(bulk));
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
