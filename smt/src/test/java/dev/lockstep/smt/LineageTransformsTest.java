package dev.lockstep.smt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lockstep.smt.hash.CanonicalValues;
import dev.lockstep.smt.hash.FieldMapping;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class LineageTransformsTest {
    static final Schema SOURCE = SchemaBuilder.struct().name("io.debezium.connector.postgresql.Source")
            .field("ts_ms", Schema.INT64_SCHEMA).field("snapshot", Schema.OPTIONAL_STRING_SCHEMA)
            .field("schema", Schema.STRING_SCHEMA).field("table", Schema.STRING_SCHEMA)
            .field("txId", Schema.OPTIONAL_INT64_SCHEMA).field("lsn", Schema.OPTIONAL_INT64_SCHEMA)
            .field("sequence", Schema.OPTIONAL_STRING_SCHEMA).build();
    static final Schema ROW = SchemaBuilder.struct().optional().field("id", Schema.INT64_SCHEMA)
            .field("descr", Schema.OPTIONAL_STRING_SCHEMA).field("secret", Schema.OPTIONAL_STRING_SCHEMA).build();
    static final Schema ENVELOPE = SchemaBuilder.struct().field("before", ROW).field("after", ROW)
            .field("source", SOURCE).field("op", Schema.STRING_SCHEMA).field("ts_ms", Schema.OPTIONAL_INT64_SCHEMA).build();
    static final Schema KEY = SchemaBuilder.struct().field("id", Schema.INT64_SCHEMA).build();

    static SinkRecord event(String op, String snapshot, Long lsn, String sequence) {
        Struct source = new Struct(SOURCE).put("ts_ms", 1_700_000_000_000L).put("snapshot", snapshot).put("schema", "public")
                .put("table", "products").put("txId", 555L).put("lsn", lsn).put("sequence", sequence);
        Struct row = new Struct(ROW).put("id", 1L).put("descr", "kettle").put("secret", "s");
        Struct value = new Struct(ENVELOPE).put("op", op).put("source", source).put("ts_ms", 1_700_000_000_050L)
                .put("after", op.equals("d") ? null : row).put("before", op.equals("d") ? row : null);
        return new SinkRecord("db.public.products", 0, KEY, new Struct(KEY).put("id", 1L), ENVELOPE, value, 9L);
    }

    static <T extends org.apache.kafka.connect.transforms.Transformation<SinkRecord>> T configured(T t, Map<String, String> props) {
        t.configure(props);
        return t;
    }

    @Test
    void streamedChangeIsVersionedByTheLastCommittedLsn() {
        SinkRecord out = configured(new SyncHeaders<>(), Map.of()).apply(event("u", "false", 2_000L, "[\"1500\",\"2000\"]"));
        assertThat(Lineage.longHeader(out.headers(), Lineage.VERSION)).isEqualTo(1_500L);
        assertThat(Lineage.longHeader(out.headers(), Lineage.COMMIT_LSN)).isEqualTo(1_500L);
        assertThat(Lineage.longHeader(out.headers(), Lineage.EVENT_LSN)).isEqualTo(2_000L);
        assertThat(Lineage.longHeader(out.headers(), Lineage.SOURCE_TS_MS)).isEqualTo(1_700_000_000_000L);
        assertThat(Lineage.longHeader(out.headers(), Lineage.CAPTURE_TS_MS)).isEqualTo(1_700_000_000_050L);
        assertThat(Lineage.longHeader(out.headers(), Lineage.TX_ID)).isEqualTo(555L);
        assertThat(out.headers().lastWithName(Lineage.TABLE).value()).isEqualTo("public.products");
        assertThat(out.value()).isSameAs(event("u", "false", 2_000L, "[\"1500\",\"2000\"]").value().getClass().cast(out.value()));
    }

    @Test
    void firstTransactionUsesItsEventLsnAndSnapshotsTheLowestVersion() {
        SyncHeaders<SinkRecord> sync = configured(new SyncHeaders<>(), Map.of());
        assertThat(Lineage.longHeader(sync.apply(event("c", "false", 2_000L, "[null,\"2000\"]")).headers(), Lineage.VERSION)).isEqualTo(2_000L);
        SinkRecord snapshot = sync.apply(event("r", "true", 900L, "[null,\"900\"]"));
        assertThat(Lineage.longHeader(snapshot.headers(), Lineage.VERSION)).isEqualTo(CommitLsnVersion.SNAPSHOT);
        assertThat(Lineage.longHeader(snapshot.headers(), Lineage.COMMIT_LSN)).isEqualTo(900L);
        assertThat(Lineage.longHeader(sync.apply(event("r", "last", 900L, "[\"850\",\"900\"]")).headers(), Lineage.VERSION))
                .isEqualTo(CommitLsnVersion.SNAPSHOT);
    }

    @Test
    void incrementalSnapshotReadsAreVersionedByTheStreamsPosition() {
        SyncHeaders<SinkRecord> sync = configured(new SyncHeaders<>(), Map.of());
        SinkRecord read = sync.apply(event("r", "incremental", 5_200L, "[\"5000\",\"5200\"]"));
        assertThat(Lineage.longHeader(read.headers(), Lineage.VERSION)).isEqualTo(5_000L);
        assertThat(Lineage.longHeader(read.headers(), Lineage.COMMIT_LSN)).isEqualTo(5_000L);
    }

    @Test
    void laterTransactionsGetHigherVersionsEvenWithSmallerEventLsns() {
        // Debezium's real output for interleaved transactions (seen on this stack): tx 1473 wrote first, committed last.
        SyncHeaders<SinkRecord> sync = configured(new SyncHeaders<>(), Map.of());
        long v1474 = Lineage.longHeader(sync.apply(event("u", "false", 25594504L, "[\"25594248\",\"25594504\"]")).headers(), Lineage.VERSION);
        long v1475 = Lineage.longHeader(sync.apply(event("u", "false", 25594696L, "[\"25594696\",\"25594696\"]")).headers(), Lineage.VERSION);
        long v1473 = Lineage.longHeader(sync.apply(event("u", "false", 25594304L, "[\"25594960\",\"25594304\"]")).headers(), Lineage.VERSION);
        assertThat(v1474).isLessThan(v1475);
        assertThat(v1475).isLessThan(v1473);
    }

    @Test
    void nonDebeziumRecordsAndTombstonesPassUnchanged() {
        SyncHeaders<SinkRecord> sync = configured(new SyncHeaders<>(), Map.of());
        SinkRecord tombstone = new SinkRecord("t", 0, null, "k", null, null, 1L);
        assertThat(sync.apply(tombstone)).isSameAs(tombstone);
        SinkRecord plain = new SinkRecord("t", 0, null, "k", null, Map.of("id", 1), 1L);
        assertThat(sync.apply(plain)).isSameAs(plain);
    }

    @Test
    void badSequenceIsAClearError() {
        assertThatThrownBy(() -> CommitLsnVersion.firstOfSequence("17")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("source.sequence");
    }

    @Test
    void contentHashHeaderBecomesDocumentLineageWithTheSameMapping() {
        Map<String, String> mapping = Map.of("fields.exclude", "secret", "fields.rename", "descr:description");
        SinkRecord hashed = configured(new ContentHash<>(), mapping).apply(
                configured(new SyncHeaders<>(), Map.of()).apply(event("c", "false", 2_000L, "[\"1500\",\"2000\"]")));
        String hex = hashed.headers().lastWithName(Lineage.HASH).value().toString();
        Struct after = ((Struct) hashed.value()).getStruct("after");
        assertThat(hex).isEqualTo(CanonicalValues.row(after, new FieldMapping(List.of(), List.of("secret"), Map.of("descr", "description"))).hash().hex());

        SinkRecord doc = configured(new ToSearchDocument<>(), mapping).apply(hashed);
        @SuppressWarnings("unchecked")
        Map<String, Object> document = (Map<String, Object>) doc.value();
        assertThat(document).containsOnlyKeys("id", "description", "lockstep");
        @SuppressWarnings("unchecked")
        Map<String, Object> lineage = (Map<String, Object>) document.get("lockstep");
        assertThat(lineage).containsEntry("hash", hex).containsEntry("version", 1_500L).containsEntry("commit_lsn", 1_500L)
                .containsEntry("txid", 555L).containsEntry("source_ts_ms", 1_700_000_000_000L).containsKeys("hash_hi", "hash_lo");
        assertThat((Long) lineage.get("hash_hi")).isBetween(0L, 0xFFFF_FFFFL);
    }

    @Test
    void deleteKeepsItsVersionHeaderForTheSink() {
        SinkRecord out = configured(new ToSearchDocument<>(), Map.of()).apply(
                configured(new ContentHash<>(), Map.of()).apply(configured(new SyncHeaders<>(), Map.of()).apply(event("d", "false", 3_000L, "[\"2500\",\"3000\"]"))));
        assertThat(out.value()).isNull();
        assertThat(Lineage.longHeader(out.headers(), Lineage.VERSION)).isEqualTo(2_500L);
        assertThat(out.headers().lastWithName(Lineage.HASH)).isNull();
    }

    @Test
    void truncateRoutesToTheControlTopicOnRequest() {
        SinkRecord truncate = event("t", "false", 4_000L, "[\"3500\",\"4000\"]");
        assertThat(configured(new ToSearchDocument<>(), Map.of()).apply(truncate)).isNull();
        SinkRecord routed = configured(new ToSearchDocument<>(), Map.of("truncate.handling", "route")).apply(truncate);
        assertThat(routed.topic()).isEqualTo("db.public.products.truncates");
        assertThat(routed.value()).isSameAs(truncate.value());
    }

    @Test
    void mappingConfigErrorsNameTheField() {
        assertThatThrownBy(() -> configured(new ContentHash<>(), Map.of("fields.rename", "a")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("fields.rename");
        assertThatThrownBy(() -> configured(new ToSearchDocument<>(), Map.of("fields.rename", "a:x,b:x")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("fields.rename");
        assertThatThrownBy(() -> configured(new ToSearchDocument<>(), Map.of("fields.include", "a", "fields.exclude", "b")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("fields.exclude");
    }

    @Test
    void unknownLogicalTypeNamesTopicPartitionAndOffset() {
        Schema point = SchemaBuilder.struct().name("io.debezium.data.geometry.Point").optional().field("x", Schema.FLOAT64_SCHEMA).build();
        Schema row = SchemaBuilder.struct().optional().field("id", Schema.INT64_SCHEMA).field("where", point).build();
        Schema env = SchemaBuilder.struct().field("after", row).field("op", Schema.STRING_SCHEMA).build();
        Struct value = new Struct(env).put("op", "c").put("after", new Struct(row).put("id", 1L).put("where", new Struct(point).put("x", 1.0)));
        SinkRecord in = new SinkRecord("db.public.places", 4, KEY, new Struct(KEY).put("id", 1L), env, value, 77L);
        assertThatThrownBy(() -> configured(new ContentHash<>(), Map.of()).apply(in)).isInstanceOf(DataException.class)
                .hasMessageContaining("topic=db.public.places partition=4 offset=77").hasMessageContaining("io.debezium.data.geometry.Point");
    }
}
