package dev.lockstep.smt;

import dev.lockstep.smt.hash.CanonicalValues;
import dev.lockstep.smt.hash.FieldMapping;
import dev.lockstep.smt.hash.RowHash;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.header.Headers;
import org.apache.kafka.connect.transforms.Transformation;

/**
 * Adds the canonical content hash of a change event's after-image (docs/canonical-hash.md) as the header
 * {@code lockstep.hash} (16 hex digits). Put it before {@link ToSearchDocument}, which copies the hash into the
 * document as {@code hash_hi}/{@code hash_lo} fields. Deletes, tombstones and truncates carry no after-image
 * and pass unchanged. The record itself is not modified. A row that cannot be hashed goes to the dead-letter
 * topic ({@link DeadLetters}).
 */
public class ContentHash<R extends ConnectRecord<R>> implements Transformation<R> {
    public static final String OVERVIEW_DOC = "Adds the canonical content hash of the after-image as the header "
            + Lineage.HASH + "; ToSearchDocument turns it into document fields.";

    public static final ConfigDef CONFIG_DEF = DeadLetters.addTo(FieldMapping.addTo(new ConfigDef(), "Field mapping"));

    private FieldMapping mapping;
    private DeadLetters deadLetters;

    @Override
    public void configure(Map<String, ?> props) {
        AbstractConfig config = new AbstractConfig(CONFIG_DEF, props);
        mapping = FieldMapping.from(config);
        deadLetters = DeadLetters.from(config, "ContentHash");
    }

    @Override
    public R apply(R record) {
        if (record.value() == null || DeadLetters.isDeadLetter(record)) {
            return record;
        }
        RowHash hash;
        try {
            ChangeEvent event = ChangeEvent.of(record.value());
            if (event.after() == null) {
                return record;
            }
            hash = CanonicalValues.row(event.after(), mapping).hash();
        } catch (RuntimeException e) {
            // A row without a canonical form (e.g. a multi-dimensional array) cannot get the hash its document needs.
            return deadLetters.route(record, new RecordFailure(FailureReason.BAD_VALUE,
                    "cannot hash the row at " + RecordLocation.of(record) + ": " + e.getMessage(), e));
        }
        Headers headers = record.headers().duplicate();
        headers.remove(Lineage.HASH).addString(Lineage.HASH, hash.hex());
        return record.newRecord(record.topic(), record.kafkaPartition(), record.keySchema(), record.key(),
                record.valueSchema(), record.value(), record.timestamp(), headers);
    }

    @Override
    public ConfigDef config() {
        return CONFIG_DEF;
    }

    @Override
    public void close() {
    }
}
