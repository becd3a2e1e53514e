package dev.lockstep.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.api.Test;

class DriftClassTest {
    private static final Set<String> FIELDS = Set.of("id", "name");

    private static Observed.Row row(long xmin) {
        return new Observed.Row("1", 1, 2, xmin, null);
    }

    private static Observed.Doc doc(long version, Long txid, Set<String> fields) {
        return new Observed.Doc("1", 3, 4, version, version, txid, fields, null);
    }

    @Test
    void classifiesByPresenceFieldsAndWriter() {
        assertThat(DriftClass.of(row(100), null, FIELDS)).isEqualTo(DriftClass.MISSING);
        assertThat(DriftClass.of(null, doc(5, 100L, FIELDS), FIELDS)).isEqualTo(DriftClass.EXTRA);
        assertThat(DriftClass.of(row(100), doc(5, 100L, Set.of("id", "name", "dropped")), FIELDS)).isEqualTo(DriftClass.SCHEMA);
        // Same writer, other content: edited behind the pipeline's back.
        assertThat(DriftClass.of(row(100), doc(5, 100L, FIELDS), FIELDS)).isEqualTo(DriftClass.DIFFERENT);
        // Another writer than the row's last one: a change that never arrived.
        assertThat(DriftClass.of(row(101), doc(5, 100L, FIELDS), FIELDS)).isEqualTo(DriftClass.STALE);
        // No lineage transaction: cannot tell, so not stale.
        assertThat(DriftClass.of(row(101), doc(5, null, FIELDS), FIELDS)).isEqualTo(DriftClass.DIFFERENT);
    }

    @Test
    void aSnapshotDocumentIsStaleOnlyWhenTheRowWasWrittenAfterTheSnapshot() {
        assertThat(DriftClass.of(row(120), doc(0, 110L, FIELDS), FIELDS)).isEqualTo(DriftClass.STALE);
        assertThat(DriftClass.of(row(90), doc(0, 110L, FIELDS), FIELDS)).isEqualTo(DriftClass.DIFFERENT);
        // 32-bit transaction ids wrap around: 5 is newer than 2^32 - 10.
        assertThat(DriftClass.of(row(5), doc(0, 4_294_967_286L, FIELDS), FIELDS)).isEqualTo(DriftClass.STALE);
    }
}
