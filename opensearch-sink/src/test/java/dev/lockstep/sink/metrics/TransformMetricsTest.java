package dev.lockstep.sink.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.smt.ToSearchDocument;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;

class TransformMetricsTest {
    static final Schema ROW = SchemaBuilder.struct().optional().field("aid", Schema.INT32_SCHEMA).build();
    static final Schema SOURCE = SchemaBuilder.struct().field("schema", Schema.STRING_SCHEMA).field("table", Schema.STRING_SCHEMA).build();
    static final Schema ENVELOPE = SchemaBuilder.struct().field("after", ROW).field("source", SOURCE).field("op", Schema.STRING_SCHEMA).build();

    private final ToSearchDocument<SourceRecord> document = new ToSearchDocument<>();

    {
        document.configure(Map.of());
    }

    void keylessRecord(String table) {
        Struct value = new Struct(ENVELOPE).put("op", "c").put("after", new Struct(ROW).put("aid", 1))
                .put("source", new Struct(SOURCE).put("schema", "m").put("table", table));
        assertThat(document.apply(new SourceRecord(Map.of(), Map.of(), "db.m." + table, null, null, null, ENVELOPE, value)).topic())
                .isEqualTo("lockstep-dlq");
    }

    @Test
    void deadLettersCountedBeforeAndAfterBindingShowPerTableAndReason() {
        keylessRecord("early");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        TransformMetrics.bind(registry);
        keylessRecord("early");
        keylessRecord("late");
        keylessRecord("late");
        keylessRecord("late");
        assertThat(registry.get(TransformMetrics.REJECTED).tags("transform", "ToSearchDocument", "table", "m.early", "reason", "no_key", "handling", "errors_topic")
                .functionCounter().count()).isEqualTo(2.0);
        assertThat(registry.get(TransformMetrics.REJECTED).tags("table", "m.late").functionCounter().count()).isEqualTo(3.0);
    }

    @Test
    void theBundlesRegistryServesThemAtMetrics() {
        keylessRecord("scraped");
        assertThat(new MetricsRestExtension.MetricsResource().scrape()).contains(
                "lockstep_transform_rejected_records_total{handling=\"errors_topic\",reason=\"no_key\",table=\"m.scraped\",transform=\"ToSearchDocument\"} 1.0");
    }
}
