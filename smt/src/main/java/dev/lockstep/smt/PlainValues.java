package dev.lockstep.smt;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;

/**
 * A Connect value as plain Java values that Jackson writes without interpreting anything: fields as they are
 * (Debezium's logical types keep their raw form: days, microseconds, text), bytes as base64, Connect dates as epoch
 * milliseconds. For dead letters, whose value may be exactly what {@link SearchValues} could not convert.
 */
final class PlainValues {
    private PlainValues() {
    }

    static Object of(Object value) {
        if (value instanceof Struct struct) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Field field : struct.schema().fields()) {
                out.put(field.name(), of(struct.get(field)));
            }
            return out;
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            list.forEach(element -> out.add(of(element)));
            return out;
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>();
            map.forEach((k, v) -> out.put(String.valueOf(k), of(v)));
            return out;
        }
        if (value instanceof ByteBuffer) {
            return SearchValues.bytes(value);
        }
        if (value instanceof java.util.Date date) {
            return date.getTime();
        }
        return value;
    }
}
