package dev.lockstep.smt;

import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.header.Headers;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * Where a record goes that a transform cannot turn into a document (a table without a primary key, a key that
 * cannot form an id, a row that cannot be converted): never a failed source task, never a silent loss.
 *
 * <ul>
 *   <li>In a source connector's chain (Debezium's, the default layout) the record goes, unchanged (key, value,
 *       headers, source offset), to the topic {@value #ERRORS_TOPIC_CONFIG} names, with the reason in
 *       {@code lockstep.error.*} headers. The stream of every other record and table goes on.</li>
 *   <li>In a sink connector's chain (the change-event layout) the transform throws, so that the sink connector's
 *       own {@code errors.tolerance} and {@code errors.deadletterqueue.topic.name} handle it, as Connect does for any
 *       transform; a sink record cannot be redirected to another topic.</li>
 *   <li>With {@value #ERRORS_TOPIC_CONFIG} empty the transform throws in either chain (Connect's errors.tolerance
 *       decides: by default the task fails).</li>
 * </ul>
 * Either way the record is counted per table ({@link RejectedRecordCounts}, a metric) and logged
 * ({@link RejectedRecordWarnings}). Transforms after the failing one pass a dead-lettered record on unchanged
 * ({@link #isDeadLetter}).
 */
public final class DeadLetters {
    public static final String ERRORS_TOPIC_CONFIG = "errors.topic";
    static final String ERRORS_TOPIC_DOC = "Topic for records this transform cannot turn into a document (e.g. a table "
            + "without a primary key), in a source connector's chain: the record goes there unchanged, with the reason in "
            + "the headers lockstep.error.reason, lockstep.error.message, lockstep.error.table, lockstep.error.transform "
            + "and lockstep.error.topic, and the stream goes on. The default is the sink's dead-letter topic in the shipped "
            + "configs; keep it out of the sink's topics. In a sink connector's chain the transform throws, for the sink's "
            + "errors.tolerance and dead-letter queue. Empty: throw in either chain (Connect's errors.tolerance decides). "
            + "Either way the record is counted per table in the metric lockstep_transform_rejected_records_total and logged.";
    public static final String DEFAULT_TOPIC = "lockstep-dlq";

    /** The reason's code (see {@link FailureReason}). */
    public static final String REASON = "lockstep.error.reason";
    /** What exactly went wrong, with the record's location. */
    public static final String MESSAGE = "lockstep.error.message";
    /** schema.table of the record. */
    public static final String TABLE = "lockstep.error.table";
    /** The transform that could not handle the record. */
    public static final String TRANSFORM = "lockstep.error.transform";
    /** The topic the record was on its way to. */
    public static final String TOPIC = "lockstep.error.topic";

    private final String transform;
    private final String topic;
    private final RejectedRecordWarnings warnings = new RejectedRecordWarnings(System::nanoTime);

    private DeadLetters(String transform, String topic) {
        this.transform = transform;
        this.topic = topic;
    }

    /** Adds {@value #ERRORS_TOPIC_CONFIG} to a transform's options. */
    public static ConfigDef addTo(ConfigDef def) {
        return def.define(ERRORS_TOPIC_CONFIG, ConfigDef.Type.STRING, DEFAULT_TOPIC, new TopicNameValidator(),
                ConfigDef.Importance.MEDIUM, ERRORS_TOPIC_DOC);
    }

    public static DeadLetters from(AbstractConfig config, String transform) {
        return new DeadLetters(transform, config.getString(ERRORS_TOPIC_CONFIG).trim());
    }

    /** Whether an earlier transform of the chain has already sent the record to the dead-letter topic. */
    public static boolean isDeadLetter(ConnectRecord<?> record) {
        return record.headers().lastWithName(REASON) != null;
    }

    /**
     * The record on its way to the dead-letter topic, or {@code failure} thrown where routing is not possible (a sink
     * record; {@value #ERRORS_TOPIC_CONFIG} empty). Counted and logged either way.
     */
    public <R extends ConnectRecord<R>> R route(R record, RecordFailure failure) {
        String table = RecordTable.of(record);
        boolean thrown = topic.isEmpty() || record instanceof SinkRecord;
        RejectedRecordCounts.increment(new RejectedRecordCounts.Key(transform, table, failure.reason().code(),
                thrown ? RejectedRecordCounts.THROWN : RejectedRecordCounts.ERRORS_TOPIC));
        warnings.warn(transform, table, failure.reason(), failure.getMessage(), thrown
                ? "it is left to the connector's errors.tolerance (in a sink's chain, its dead-letter queue)"
                : "it went to the dead-letter topic " + topic + " with its reason in lockstep.error.* headers");
        if (thrown) {
            throw failure;
        }
        Headers headers = record.headers().duplicate()
                .addString(REASON, failure.reason().code())
                .addString(MESSAGE, failure.getMessage())
                .addString(TABLE, table)
                .addString(TRANSFORM, transform)
                .addString(TOPIC, record.topic());
        // The producer picks the partition; the source partition and offset stay, so Connect commits them as usual.
        return record.newRecord(topic, null, record.keySchema(), record.key(), record.valueSchema(), record.value(),
                record.timestamp(), headers);
    }

    static final class TopicNameValidator implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            String topic = value == null ? "" : value.toString().trim();
            if (topic.isEmpty()) {
                return;
            }
            try {
                Topic.validate(topic);
            } catch (RuntimeException e) {
                throw new ConfigException(name, value, e.getMessage());
            }
        }

        @Override
        public String toString() {
            return "a topic name, or empty";
        }
    }
}
