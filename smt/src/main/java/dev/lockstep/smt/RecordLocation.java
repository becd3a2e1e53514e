package dev.lockstep.smt;

import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.source.SourceRecord;

/** Names a record in error messages: topic, partition and, for sink records, offset; for source records, the source offset. */
public final class RecordLocation {
    private RecordLocation() {
    }

    public static String of(ConnectRecord<?> record) {
        StringBuilder sb = new StringBuilder("topic=").append(record.topic());
        if (record.kafkaPartition() != null) {
            sb.append(" partition=").append(record.kafkaPartition()); // a source record's is chosen later, by the producer
        }
        if (record instanceof SinkRecord sinkRecord) {
            sb.append(" offset=").append(sinkRecord.kafkaOffset());
        } else if (record instanceof SourceRecord sourceRecord && sourceRecord.sourceOffset() != null) {
            sb.append(" source offset=").append(sourceRecord.sourceOffset()); // e.g. Debezium's lsn and txId
        }
        return sb.toString();
    }
}
