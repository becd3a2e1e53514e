package dev.lockstep.reconcile;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.connect.data.Struct;

/**
 * {@code repair.mode=debezium-signal}: asks the Debezium source for an incremental snapshot of the ids to repair,
 * through its Kafka signal channel ({@code execute-snapshot}, type {@code incremental}, with an
 * {@code additional-conditions} filter on the key). Debezium then re-reads the rows and streams them as {@code r}
 * events through its own chain; the versions of those events are in docs/lineage-and-versions.md. The signals are
 * written by a producer of their own: the reconciler's converters are the pipeline's (documents), and Debezium
 * reads a signal as a plain JSON string keyed by its {@code topic.prefix}.
 */
final class DebeziumSignals implements AutoCloseable {
    private final KafkaProducer<String, String> producer;
    private final String topic;
    private final String key;

    DebeziumSignals(ReconcileConfig config) {
        Map<String, Object> props = new HashMap<>(config.originalsWithPrefix(ReconcileConfig.SIGNAL_PRODUCER_PREFIX));
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.getString(ReconcileConfig.SIGNAL_BOOTSTRAP_SERVERS));
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "lockstep-reconciler-signals");
        this.producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
        this.topic = config.getString(ReconcileConfig.SIGNAL_TOPIC);
        this.key = config.getString(ReconcileConfig.TOPIC_PREFIX);
    }

    /** Sends one signal for these rows' keys and waits until Kafka has it. */
    void requestSnapshot(TableSpec table, List<Struct> rows) throws Exception {
        if (rows.isEmpty()) {
            return;
        }
        requestSnapshot(table, filter(table, rows));
    }

    /** Sends one signal for the rows that satisfy a filter (SQL on the table's columns) and waits until Kafka has it. */
    void requestSnapshot(TableSpec table, String filter) throws Exception {
        producer.send(new ProducerRecord<>(topic, key, signal(table, filter))).get(60, TimeUnit.SECONDS);
    }

    /** A key range as a filter: {@code "id" >= 100 AND "id" < 200} (text keys in bytewise order); {@code true} for all. */
    static String rangeFilter(TableSpec table, Segment segment) {
        ColumnCodec key = table.keyColumns.get(0);
        String ref = ColumnCodec.quote(key.name()) + (table.keyKind == TableSpec.KeyKind.TEXT ? " COLLATE \"C\"" : "");
        List<String> parts = new java.util.ArrayList<>();
        if (segment.lo() != null) {
            parts.add(ref + " >= " + literal(segment.lo(), key));
        }
        if (segment.hi() != null) {
            parts.add(ref + " < " + literal(segment.hi(), key));
        }
        return parts.isEmpty() ? "true" : String.join(" AND ", parts);
    }

    /** The signal's JSON: an incremental snapshot of the table, restricted to the rows that satisfy the filter. */
    static String signal(TableSpec table, String filter) {
        String collection = table.name.schema() + "." + table.name.table();
        ObjectNode signal = SearchSide.JSON.createObjectNode().put("type", "execute-snapshot");
        ObjectNode data = signal.putObject("data").put("type", "incremental");
        data.putArray("data-collections").add(collection);
        data.putArray("additional-conditions").addObject().put("data-collection", collection).put("filter", filter);
        return signal.toString();
    }

    /** {@code "id" IN (1, 2)}, or {@code ("a", "b") IN ((1, 'x'), (2, 'y'))} for a composite key. */
    static String filter(TableSpec table, List<Struct> rows) {
        List<ColumnCodec> keys = table.keyColumns;
        StringBuilder sb = new StringBuilder();
        if (keys.size() == 1) {
            sb.append(ColumnCodec.quote(keys.get(0).name()));
        } else {
            sb.append('(');
            for (int i = 0; i < keys.size(); i++) {
                sb.append(i > 0 ? ", " : "").append(ColumnCodec.quote(keys.get(i).name()));
            }
            sb.append(')');
        }
        sb.append(" IN (");
        for (int r = 0; r < rows.size(); r++) {
            sb.append(r > 0 ? ", " : "");
            if (keys.size() > 1) {
                sb.append('(');
            }
            for (int i = 0; i < keys.size(); i++) {
                sb.append(i > 0 ? ", " : "").append(literal(rows.get(r).get(keys.get(i).name()), keys.get(i)));
            }
            if (keys.size() > 1) {
                sb.append(')');
            }
        }
        return sb.append(')').toString();
    }

    private static String literal(Object value, ColumnCodec column) {
        if (value instanceof Number n) {
            return n.toString();
        }
        return "'" + String.valueOf(value).replace("'", "''") + "'::" + column.column().type();
    }

    @Override
    public void close() {
        producer.close(java.time.Duration.ofSeconds(5));
    }
}
