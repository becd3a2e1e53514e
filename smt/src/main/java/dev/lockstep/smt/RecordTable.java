package dev.lockstep.smt;

import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.header.Header;

/** The schema.table a record comes from, for reports: SyncHeaders' header, else Debezium's source block, else the topic. */
final class RecordTable {
    private RecordTable() {
    }

    static String of(ConnectRecord<?> record) {
        Header header = record.headers().lastWithName(Lineage.TABLE);
        if (header != null && header.value() != null) {
            return header.value().toString();
        }
        try {
            Object value = record.value();
            Object source = value == null ? null : ChangeEvent.of(value).source();
            if (source instanceof Struct s && s.schema().field("schema") != null && s.schema().field("table") != null
                    && s.get("table") != null) {
                return s.get("schema") + "." + s.get("table");
            }
            if (source instanceof java.util.Map<?, ?> m && m.get("table") != null) {
                return m.get("schema") + "." + m.get("table");
            }
        } catch (RuntimeException unreadable) {
            // a value that is no change event: the topic names it well enough
        }
        return "topic:" + record.topic();
    }
}
