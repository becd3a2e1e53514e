package dev.lockstep.smt;

import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.sink.SinkRecord;

/** Names a record in error messages: topic, partition and, for sink records, offset. */
public final class RecordLocation {
    private RecordLocation() {
    }

    public static String of(ConnectRecord<?> record) {
        StringBuilder sb = new StringBuilder("topic=").append(record.topic())
                .append(" partition=").append(record.kafkaPartition());
        if (record instanceof SinkRecord sinkRecord) {
            sb.append(" offset=").append(sinkRecord.kafkaOffset());
        }
        return sb.toString();
    }
}
