package dev.lockstep.sink;

import java.util.Map;
import org.apache.kafka.connect.sink.SinkRecord;
import org.opensearch.client.opensearch.core.bulk.BulkOperation;

/** One record's effect on the index: index {@code document} under {@code id}, or delete {@code id} when it is null. */
record DocumentOperation(SinkRecord record, String index, String id, Map<String, Object> document) {

    boolean isDelete() {
        return document == null;
    }

    BulkOperation toBulkOperation() {
        if (isDelete()) {
            return BulkOperation.of(b -> b.delete(d -> d.index(index).id(id)));
        }
        return BulkOperation.of(b -> b.index(i -> i.index(index).id(id).document(document)));
    }

    /** Key of the document this operation touches: within one bulk only the last operation per key matters. */
    String documentKey() {
        return index + '\u0000' + id;
    }
}
