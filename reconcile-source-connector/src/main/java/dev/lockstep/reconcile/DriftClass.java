package dev.lockstep.reconcile;

import java.util.Locale;

/** What kind of difference a confirmed mismatch is. */
enum DriftClass {
    /** A row without its document. */
    MISSING,
    /** A document without its row. */
    EXTRA,
    /** Both exist, the content differs, and the document came from the row's last writer (or cannot tell): edited or corrupted. */
    DIFFERENT,
    /** Both exist, the content differs, and the document is older than the row: a change that never arrived. */
    STALE,
    /** The document predates a column change (its fields are not the row's fields: a column added, dropped or renamed). */
    SCHEMA;

    String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The class of a confirmed mismatch. Stale: the document's transaction is not the row's last writer
     * ({@code xmin}); for a snapshot read (version 0, whose transaction is the snapshot's) the row's writer is newer.
     */
    static DriftClass of(Observed.Row row, Observed.Doc doc, java.util.Set<String> documentFields) {
        if (doc == null) {
            return MISSING;
        }
        if (row == null) {
            return EXTRA;
        }
        if (!doc.fields().equals(documentFields)) {
            return SCHEMA;
        }
        if (doc.txid() != null) {
            int docXid = (int) (long) doc.txid();
            int rowXid = (int) row.xmin();
            boolean stale = doc.version() == 0 ? rowXid - docXid > 0 : rowXid != docXid;
            if (stale) {
                return STALE;
            }
        }
        return DIFFERENT;
    }
}
