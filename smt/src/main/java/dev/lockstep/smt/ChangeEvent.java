package dev.lockstep.smt;

import java.util.Map;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;

/**
 * The parts of Debezium's envelope Lockstep reads, from a Struct or a schemaless Map. A value without an
 * {@code op} field (e.g. after ExtractNewRecordState) is taken as the row itself, read as a snapshot.
 */
record ChangeEvent(String op, Object after, Object source) {

    static ChangeEvent of(Object value) {
        if (value instanceof Struct struct) {
            if (struct.schema().field("op") == null) {
                return new ChangeEvent("r", struct, null);
            }
            return new ChangeEvent(struct.getString("op"), field(struct, "after"), field(struct, "source"));
        }
        if (value instanceof Map<?, ?> map) {
            if (!map.containsKey("op")) {
                return new ChangeEvent("r", map, null);
            }
            return new ChangeEvent(String.valueOf(map.get("op")), map.get("after"), map.get("source"));
        }
        throw new DataException("value is a " + value.getClass().getName() + ", expected a Debezium change event (Struct or Map)");
    }

    private static Object field(Struct struct, String name) {
        return struct.schema().field(name) == null ? null : struct.get(name);
    }
}
