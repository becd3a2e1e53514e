package dev.lockstep.reconcile;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One table's part of a run, after the comparison: the settle re-check (changes in flight are not drift), the
 * classes, the field-by-field explanation, the repair through the table's topic and its follow-up validation.
 * Its outcome is the table's report ({@link #report}).
 */
final class TableRun {
    private static final Logger LOG = LoggerFactory.getLogger(TableRun.class);
    private static final int BATCH = 1_000;
    private static final long MAX_SETTLE_MS = 60_000;

    /** Where repair records go (the task's poll queue), and how the run learns that Kafka has them. */
    interface RepairOutlet {
        void emit(List<SourceRecord> records) throws InterruptedException;

        /** Waits until every record emitted so far is acknowledged by Kafka; false on timeout. */
        boolean awaitAcknowledged(long timeoutMs) throws InterruptedException;
    }

    /** A confirmed mismatch: both sides as last seen, unchanged across the settle delay. */
    record Mismatch(String id, DriftClass drift, Observed.Row row, Observed.Doc doc) {
    }

    /** How a repaired id looked after the sink applied (or refused) the repair. */
    enum Outcome {
        REPAIRED, SUPERSEDED, STILL_WRONG
    }

    private final TableSpec table;
    private final StreamRecords records;
    private final SearchSide search;
    private final ReconcileConfig config;
    private final String lineageField;
    /** Non-null with repair.mode=debezium-signal: rows are repaired by Debezium's incremental snapshot. */
    private final DebeziumSignals signals;
    /** The expected version of an id Debezium re-reads: unknown in advance, so judged by content. */
    private static final long BY_CONTENT = -2;

    final Map<DriftClass, List<Mismatch>> confirmed = new EnumMap<>(DriftClass.class);
    final Map<String, Outcome> outcomes = new LinkedHashMap<>();
    int unsettled;
    int repairsEmitted;
    int repairsDeferred;
    /** Rows missing in top-level segments loaded whole (rows minus documents: counted, not listed), and the load if one ran. */
    private long unindexedRows;
    private SegmentLoad load;

    TableRun(TableSpec table, StreamRecords records, SearchSide search, ReconcileConfig config, DebeziumSignals signals) {
        this.signals = signals;
        this.table = table;
        this.records = records;
        this.search = search;
        this.config = config;
        String field = config.getString(dev.lockstep.smt.ToSearchDocument.METADATA_FIELD_CONFIG);
        this.lineageField = field == null || field.isBlank() ? "lockstep" : field;
        for (DriftClass c : DriftClass.values()) {
            confirmed.put(c, new ArrayList<>());
        }
    }

    /**
     * Re-checks the candidates after the settle delay (longer while the pipeline lags), on fresh reads of both sides. An id counts as drift only when
     * neither side changed since it was last seen; one that changed and still differs is looked at again, up to
     * {@code settle.rounds} times, and is then left to the next run as unsettled.
     */
    void settle(PostgresSide pg, Map<String, SegmentComparer.Candidate> candidates) throws Exception {
        Map<String, SegmentComparer.Candidate> open = new LinkedHashMap<>(candidates);
        long settleMs = config.getLong(ReconcileConfig.SETTLE_MS);
        int rounds = config.getInt(ReconcileConfig.SETTLE_ROUNDS);
        for (int round = 0; round < rounds && !open.isEmpty(); round++) {
            // At least settle.ms, and twice the pipeline's recent latency while it lags (at most a minute).
            long lag = search.recentLatencyMs(table.index);
            Thread.sleep(Math.max(settleMs, Math.min(MAX_SETTLE_MS, 2 * lag)));
            Map<String, SegmentComparer.Candidate> next = new LinkedHashMap<>();
            List<String> ids = new ArrayList<>(open.keySet());
            for (int from = 0; from < ids.size(); from += BATCH) {
                List<String> batch = ids.subList(from, Math.min(ids.size(), from + BATCH));
                pg.freshSnapshot();
                Map<String, Observed.Doc> docs = search.docsById(table.index, batch);
                Map<String, Observed.Row> rows = pg.rowsById(table, records, batch);
                for (String id : batch) {
                    SegmentComparer.Candidate was = open.get(id);
                    Observed.Row row = rows.get(id);
                    Observed.Doc doc = docs.get(id);
                    if (agrees(row, doc)) {
                        continue; // it was in flight
                    }
                    boolean rowSame = row == null ? was.row() == null : row.sameContent(was.row());
                    boolean docSame = doc == null ? was.doc() == null : doc.sameAs(was.doc());
                    if (rowSame && docSame) {
                        DriftClass drift = DriftClass.of(row, doc, table.documentFields);
                        confirmed.get(drift).add(new Mismatch(id, drift, row, doc));
                    } else {
                        next.put(id, new SegmentComparer.Candidate(id, row, doc, was.deepOnly()));
                    }
                }
            }
            open = next;
        }
        unsettled = open.size();
    }

    /** Row and document agree: both absent, or the document's hash (and, for deep mode, its fields) match the row. */
    private boolean agrees(Observed.Row row, Observed.Doc doc) {
        if (row == null || doc == null) {
            return row == null && doc == null;
        }
        if (!doc.matches(row)) {
            return false;
        }
        return config.compareMode() != ReconcileConfig.CompareMode.DEEP
                || FieldDiff.between(records.document(row.values(), 0, row.xmin()), doc.source(), lineageField).isEmpty();
    }

    void unindexed(long rows, SegmentLoad load) {
        this.unindexedRows = rows;
        this.load = load;
    }

    /** A class's count: the confirmed ids, and for missing also the rows of segments without documents. */
    long count(DriftClass c) {
        return confirmed.get(c).size() + (c == DriftClass.MISSING ? unindexedRows : 0);
    }

    int confirmedCount() {
        return confirmed.values().stream().mapToInt(List::size).sum();
    }

    /**
     * Writes repair records for the confirmed ids into the table's topic, at versions that never beat a newer
     * change (docs/lineage-and-versions.md): the highest version the index holds, or the document's own when that
     * is higher. Rows are read after those versions, in a fresh snapshot.
     */
    Map<String, long[]> repair(PostgresSide pg, RepairOutlet outlet, Map<String, ?> partition, Map<String, ?> offset) throws Exception {
        int max = config.getInt(ReconcileConfig.REPAIR_MAX_PER_RUN);
        int schemaMax = config.getInt(ReconcileConfig.REPAIR_SCHEMA_MAX_PER_RUN);
        List<String> ids = new ArrayList<>();
        for (DriftClass c : List.of(DriftClass.MISSING, DriftClass.STALE, DriftClass.DIFFERENT, DriftClass.EXTRA, DriftClass.SCHEMA)) {
            int taken = 0;
            for (Mismatch m : confirmed.get(c)) {
                if (ids.size() >= max || (c == DriftClass.SCHEMA && taken >= schemaMax)) {
                    repairsDeferred++;
                    continue;
                }
                ids.add(m.id());
                taken++;
            }
        }
        Map<String, long[]> expected = new LinkedHashMap<>(); // id -> {version, hi, lo, xmin} (hi = -1: a delete)
        for (int from = 0; from < ids.size(); from += BATCH) {
            List<String> batch = ids.subList(from, Math.min(ids.size(), from + BATCH));
            long floor = search.maxVersion(table.index);
            Map<String, Observed.Doc> docs = search.docsById(table.index, batch);
            pg.freshSnapshot();
            Map<String, Observed.Row> rows = pg.rowsById(table, records, batch);
            List<SourceRecord> out = new ArrayList<>();
            List<org.apache.kafka.connect.data.Struct> snapshot = new ArrayList<>();
            for (String id : batch) {
                Observed.Doc doc = docs.get(id);
                Observed.Row row = rows.get(id);
                long version = Math.max(floor, doc == null ? 0 : Math.max(doc.storedVersion(), 0));
                if (row != null && signals != null) {
                    snapshot.add(row.values());
                    expected.put(id, new long[] {BY_CONTENT, row.hi(), row.lo(), row.xmin()});
                } else if (row != null) {
                    // A missing document may be remembered as deleted by hand, one above its last version (<= floor).
                    long external = doc == null ? floor + 1 : version;
                    out.add(records.upsert(row.values(), version, external, row.xmin(), partition, offset));
                    expected.put(id, new long[] {external, row.hi(), row.lo(), row.xmin()});
                } else if (doc != null) {
                    out.add(records.delete(id, version, partition, offset));
                    expected.put(id, new long[] {version, -1, -1, 0});
                }
            }
            outlet.emit(out);
            if (signals != null) {
                signals.requestSnapshot(table, snapshot);
            }
            repairsEmitted += out.size() + snapshot.size();
        }
        return expected;
    }

    /**
     * Follow-up validation: waits until Kafka has the repairs and the sink has applied them (or the timeout), then
     * judges each repaired id on a real-time read: repaired (the repair is what the index holds), superseded (a
     * newer change replaced it) or still wrong (retried by the next run).
     */
    void validate(PostgresSide pg, Map<String, long[]> expected, RepairOutlet outlet) throws Exception {
        long deadline = System.currentTimeMillis() + config.getLong(ReconcileConfig.VALIDATION_TIMEOUT_MS);
        outlet.awaitAcknowledged(Math.max(0, deadline - System.currentTimeMillis()));
        Map<String, long[]> open = new LinkedHashMap<>(expected);
        long rowsCheckedAt = System.currentTimeMillis();
        while (!open.isEmpty()) {
            if (System.currentTimeMillis() - rowsCheckedAt >= 2_000 || System.currentTimeMillis() >= deadline) {
                supersededSinceSnapshot(pg, open);
                rowsCheckedAt = System.currentTimeMillis();
            }
            List<String> ids = new ArrayList<>(open.keySet());
            for (int from = 0; from < ids.size(); from += BATCH) {
                List<String> batch = ids.subList(from, Math.min(ids.size(), from + BATCH));
                Map<String, Observed.Doc> docs = search.docsById(table.index, batch);
                for (String id : batch) {
                    long[] want = open.get(id);
                    Observed.Doc doc = docs.get(id);
                    Outcome outcome = judge(want, doc);
                    if (outcome != null) {
                        outcomes.put(id, outcome);
                        open.remove(id);
                    }
                }
            }
            if (open.isEmpty() || System.currentTimeMillis() >= deadline) {
                break;
            }
            Thread.sleep(250);
        }
        open.keySet().forEach(id -> outcomes.put(id, Outcome.STILL_WRONG));
        if (!open.isEmpty()) {
            LOG.warn("Reconciler: {} repaired ids of {} were not confirmed within {} ms; the next run retries them", open.size(), table,
                    config.getLong(ReconcileConfig.VALIDATION_TIMEOUT_MS));
        }
    }

    /**
     * Ids re-read by Debezium whose row changed since the repair was asked for: superseded once the document holds
     * the newer row (a newer change won), else still open.
     */
    private void supersededSinceSnapshot(PostgresSide pg, Map<String, long[]> open) throws Exception {
        List<String> ids = open.entrySet().stream().filter(e -> e.getValue()[0] == BY_CONTENT).map(Map.Entry::getKey).toList();
        for (int from = 0; from < ids.size(); from += BATCH) {
            List<String> batch = ids.subList(from, Math.min(ids.size(), from + BATCH));
            pg.freshSnapshot();
            Map<String, Observed.Row> rows = pg.rowsById(table, records, batch);
            Map<String, Observed.Doc> docs = search.docsById(table.index, batch);
            for (String id : batch) {
                Observed.Row row = rows.get(id);
                Observed.Doc doc = docs.get(id);
                boolean changed = row == null || row.xmin() != open.get(id)[3];
                if (changed && (row == null ? doc == null : doc != null && doc.matches(row))) {
                    outcomes.put(id, Outcome.SUPERSEDED);
                    open.remove(id);
                }
            }
        }
    }

    private static Outcome judge(long[] want, Observed.Doc doc) {
        long version = want[0];
        if (version == BY_CONTENT) {
            return doc != null && doc.hi() == want[1] && doc.lo() == want[2] ? Outcome.REPAIRED : null;
        }
        boolean delete = want[1] < 0;
        if (delete) {
            if (doc == null) {
                return Outcome.REPAIRED;
            }
            return doc.storedVersion() > version ? Outcome.SUPERSEDED : null;
        }
        if (doc == null || doc.storedVersion() < version) {
            return null; // not applied yet
        }
        if (doc.storedVersion() > version) {
            return Outcome.SUPERSEDED;
        }
        return doc.hi() == want[1] && doc.lo() == want[2] ? Outcome.REPAIRED : null;
    }

    long count(Outcome outcome) {
        return outcomes.values().stream().filter(o -> o == outcome).count();
    }

    /** The table's section of the run report: counts, each class with its ids (capped) and their field diffs. */
    ObjectNode report(PostgresSide pg, SegmentComparer.Result compared) throws Exception {
        int maxIds = config.getInt(ReconcileConfig.REPORT_MAX_IDS);
        ObjectNode t = SearchSide.JSON.createObjectNode();
        t.put("table", table.toString()).put("index", table.index).put("topic", table.topic);
        long source = compared.sourceRows.get();
        long mismatchedRows = count(DriftClass.MISSING) + confirmed.get(DriftClass.DIFFERENT).size()
                + confirmed.get(DriftClass.STALE).size() + confirmed.get(DriftClass.SCHEMA).size();
        long matched = Math.max(0, source - mismatchedRows);
        t.put("source_rows", source).put("destination_documents", compared.destinationDocs.get()).put("matched", matched)
                .put("consistency_score", score(matched, source))
                .put("segments_compared", compared.segmentsCompared.get())
                .put("segments_reused", compared.segmentsReused.get()).put("rows_diffed", compared.leafRows.get())
                .put("candidates", compared.candidates.size() + compared.candidatesDropped.get()).put("unsettled", unsettled)
                .put("over_candidate_cap", compared.candidatesDropped.get());
        t.putObject("compare_ms").put("wall", compared.wallNanos / 1_000_000).put("postgresql", compared.postgresNanos.get() / 1_000_000)
                .put("opensearch", compared.openSearchNanos.get() / 1_000_000);
        ObjectNode classes = t.putObject("mismatches");
        for (DriftClass c : DriftClass.values()) {
            List<Mismatch> list = confirmed.get(c);
            ObjectNode node = classes.putObject(c.label());
            node.put("count", count(c));
            if (c == DriftClass.MISSING && unindexedRows > 0) {
                node.put("in_segments_loaded_whole", unindexedRows); // counted (rows minus documents), not listed
            }
            ArrayNode ids = node.putArray("ids");
            List<Mismatch> shown = list.subList(0, Math.min(maxIds, list.size()));
            Map<String, Observed.Row> rows = shown.isEmpty() ? Map.of() : pg.rowsById(table, records, shown.stream().map(Mismatch::id).toList());
            for (Mismatch m : shown) {
                ObjectNode entry = ids.addObject().put("id", m.id());
                if (m.doc() != null) {
                    entry.put("document_version", m.doc().storedVersion());
                    if (m.doc().txid() != null) {
                        entry.put("document_txid", m.doc().txid());
                    }
                }
                if (m.row() != null) {
                    entry.put("row_xmin", m.row().xmin());
                }
                Observed.Row row = rows.get(m.id());
                Map<String, Object> expectedDoc = row == null ? null : records.document(row.values(), 0, row.xmin());
                entry.set("fields", FieldDiff.between(expectedDoc, m.doc() == null ? null : m.doc().source(), lineageField));
            }
        }
        ObjectNode repairs = t.putObject("repairs");
        repairs.put("mode", config.getString(ReconcileConfig.REPAIR_MODE)).put("emitted", repairsEmitted).put("deferred", repairsDeferred)
                .put("repaired", count(Outcome.REPAIRED)).put("superseded", count(Outcome.SUPERSEDED))
                .put("still_wrong", count(Outcome.STILL_WRONG));
        ArrayNode stillWrong = repairs.putArray("still_wrong_ids");
        outcomes.entrySet().stream().filter(e -> e.getValue() == Outcome.STILL_WRONG).limit(maxIds).forEach(e -> stillWrong.add(e.getKey()));
        if (load != null) {
            repairs.putObject("loaded").put("segments", load.written.size()).put("rows", load.rows.get())
                    .put("confirmed_segments", load.confirmed.size()).put("confirmed_rows", load.confirmedRows.get())
                    .put("unconfirmed_segments", load.unconfirmed()).put("write_ms", load.writeMs).put("validate_ms", load.validateMs);
        }
        return t;
    }

    static double score(long matched, long source) {
        return source == 0 ? 100.0 : Math.round(matched * 1_000_000.0 / source) / 10_000.0;
    }
}
