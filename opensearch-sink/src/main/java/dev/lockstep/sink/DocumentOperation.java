package dev.lockstep.sink;

import java.util.Map;
import org.apache.kafka.connect.sink.SinkRecord;
import org.opensearch.client.opensearch._types.VersionType;
import org.opensearch.client.opensearch.core.bulk.BulkOperation;

/**
 * One record's effect on the index: index {@code document} under {@code id}, or delete {@code id} when it is
 * null. With a {@code version} (from the lineage header {@code lockstep.version}), the operation is
 * {@code external_gte}: OpenSearch applies it only if no newer version of the document was indexed, so a replay,
 * a re-emitted old record or a reordered retry can never make a document older.
 */
record DocumentOperation(SinkRecord record, String index, String id, Map<String, Object> document, Long version) {

    boolean isDelete() {
        return document == null;
    }

    BulkOperation toBulkOperation() {
        if (isDelete()) {
            return BulkOperation.of(b -> b.delete(d -> {
                d.index(index).id(id);
                return version == null ? d : d.version(version).versionType(VersionType.ExternalGte);
            }));
        }
        return BulkOperation.of(b -> b.index(i -> {
            i.index(index).id(id).document(document);
            return version == null ? i : i.version(version).versionType(VersionType.ExternalGte);
        }));
    }

    /** Key of the document this operation touches: within one bulk only the last operation per key matters. */
    String documentKey() {
        return index + '\u0000' + id;
    }
}
