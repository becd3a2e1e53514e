package dev.lockstep.reconcile;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;
import java.util.Set;
import org.apache.kafka.connect.data.Struct;

/** What one side showed of a segment or of one id at one moment. */
final class Observed {
    private Observed() {
    }

    /** A segment's row or document count and the sums of the hash halves. */
    record Checksum(long count, long sumHi, long sumLo) {
        static final Checksum EMPTY = new Checksum(0, 0, 0);
    }

    /**
     * A row: its id, content hash halves, last writer ({@code xmin}, 32 bits), and its values when they were read
     * ({@code null} when only the hash was).
     */
    record Row(String id, long hi, long lo, long xmin, Struct values) {
        boolean sameContent(Row other) {
            return other != null && hi == other.hi && lo == other.lo;
        }
    }

    /**
     * A document: its id, the hash halves and version of its lineage object ({@code -1} when absent), its
     * OpenSearch {@code _version}, the transaction it came from ({@code null} when unknown), its field names
     * (without the lineage object), and its {@code _source} when it was read whole.
     */
    record Doc(String id, long hi, long lo, long version, long storedVersion, Long txid, Set<String> fields, JsonNode source) {
        boolean matches(Row row) {
            return row != null && hi == row.hi && lo == row.lo;
        }

        boolean sameAs(Doc other) {
            return other != null && hi == other.hi && lo == other.lo && storedVersion == other.storedVersion
                    && Objects.equals(txid, other.txid);
        }
    }
}
