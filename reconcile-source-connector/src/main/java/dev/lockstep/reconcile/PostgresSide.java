package dev.lockstep.reconcile;

import dev.lockstep.smt.hash.HashSql;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * One reconciler connection to PostgreSQL (the primary or a replica). Everything is computed on the server: a
 * segment's count and hash sums, a small segment's {@code (id, hash, xmin)} list, rows by id. Reads run in a
 * REPEATABLE READ, READ ONLY snapshot that is renewed once it is older than {@code snapshot.max.age.ms}, so no
 * snapshot is held for long; the settle re-check covers what changed between snapshots.
 */
final class PostgresSide implements AutoCloseable {
    private final Connection connection;
    private final long maxSnapshotAgeMs;
    private final Throttle throttle;
    private long snapshotStartedAt;
    private long firstSnapshotAt;

    PostgresSide(ReconcileConfig config, Throttle throttle) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", config.getString(ReconcileConfig.DATABASE_USER));
        if (config.databasePassword() != null) {
            props.setProperty("password", config.databasePassword().value());
        }
        props.setProperty("ApplicationName", "lockstep-reconciler");
        this.connection = DriverManager.getConnection(config.getString(ReconcileConfig.DATABASE_URL), props);
        try (Statement s = connection.createStatement()) {
            s.execute("SET statement_timeout = " + config.getInt(ReconcileConfig.STATEMENT_TIMEOUT_MS));
            // The hash expression is long: JIT compiling it costs about a second per query, and minutes for wide
            // tables with many arrays (docs/benchmarks.md). Any role may turn it off for its session.
            s.execute("SET jit = off");
        }
        connection.setAutoCommit(false);
        connection.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
        connection.setReadOnly(true);
        this.maxSnapshotAgeMs = config.getLong(ReconcileConfig.SNAPSHOT_MAX_AGE_MS);
        this.throttle = throttle;
    }

    Connection connection() {
        return connection;
    }

    /** Starts a fresh snapshot now (ends the current one). */
    void freshSnapshot() throws SQLException {
        connection.commit();
        snapshotStartedAt = 0;
        snapshot();
    }

    /** When the first snapshot of this connection was taken (epoch ms), 0 before any. */
    long firstSnapshotAt() {
        return firstSnapshotAt;
    }

    /** Ends the snapshot once it is older than allowed; the next statement takes a new one. */
    private void snapshot() throws SQLException {
        long now = System.currentTimeMillis();
        if (snapshotStartedAt != 0 && now - snapshotStartedAt > maxSnapshotAgeMs) {
            connection.commit();
            snapshotStartedAt = 0;
        }
        if (snapshotStartedAt == 0) {
            // A transaction some other call opened (the driver's own queries too) would hold an older snapshot: the
            // comparison needs one taken after the index's view was opened, so the index can only lag the rows.
            connection.commit();
            try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
                rs.next();
            }
            snapshotStartedAt = now;
            if (firstSnapshotAt == 0) {
                firstSnapshotAt = now;
            }
        }
    }

    /** min and max of an integer key and the planner's row estimate; {@code null} bounds for an empty table. */
    record Extent(Long min, Long max, long estimatedRows) {
    }

    /**
     * The extent of a key range ({@link Segment#ALL} for the whole table); the row estimate is the table's divided by
     * {@code shares}, the number of ranges the table is cut into.
     */
    Extent extent(TableSpec table, Segment span, int shares) throws SQLException {
        snapshot();
        String key = "t." + ColumnCodec.quote(table.keyColumns.get(0).name());
        String sql = "SELECT " + (table.keyKind == TableSpec.KeyKind.INTEGER ? "min(" + key + "), max(" + key + ")" : "NULL::int8, NULL::int8")
                + ", (SELECT greatest(reltuples, 0)::int8 FROM pg_class WHERE oid = '" + table.qualified().replace("'", "''")
                + "'::regclass) FROM " + table.qualified() + " t WHERE " + range(table, span);
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            bindRange(ps, 1, span);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                Long min = rs.getObject(1) == null ? null : rs.getLong(1);
                Long max = rs.getObject(2) == null ? null : rs.getLong(2);
                return new Extent(min, max, rs.getLong(3) / Math.max(1, shares));
            }
        }
    }

    /**
     * The checksums of the parts of {@code segment} cut at {@code cuts} (ascending, inside the segment), in one
     * scan of the segment.
     */
    List<Observed.Checksum> checksums(TableSpec table, Segment segment, List<Object> cuts) throws SQLException {
        snapshot();
        String digest = HashSql.digest(table.hashColumns(), table.mapping, "t");
        String bucketKey = table.keyKind == TableSpec.KeyKind.INTEGER ? "t." + ColumnCodec.quote(table.keyColumns.get(0).name()) + "::int8"
                : table.orderedKey("t");
        String bucket = cuts.isEmpty() ? "0" : "width_bucket(" + bucketKey + ", ?::" + arrayType(table) + ")";
        // The digest is computed once per row in a subquery the planner cannot flatten (OFFSET 0); both halves
        // read it as a column.
        String sql = "SELECT d.b, count(*), coalesce(sum(" + HashSql.hashHiFromColumn("d.digest") + "), 0), coalesce(sum("
                + HashSql.hashLoFromColumn("d.digest") + "), 0)\n  FROM (SELECT " + bucket + " AS b, " + digest + " AS digest\n          FROM "
                + table.qualified() + " t WHERE " + range(table, segment) + " OFFSET 0) d\n GROUP BY 1";
        List<Observed.Checksum> out = new ArrayList<>();
        for (int i = 0; i <= cuts.size(); i++) {
            out.add(Observed.Checksum.EMPTY);
        }
        long rows = 0;
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            int p = 1;
            if (!cuts.isEmpty()) {
                ps.setArray(p++, connection.createArrayOf(table.keyKind == TableSpec.KeyKind.INTEGER ? "int8" : "text", cuts.toArray()));
            }
            bindRange(ps, p, segment);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Observed.Checksum c = new Observed.Checksum(rs.getLong(2), rs.getLong(3), rs.getLong(4));
                    out.set(rs.getInt(1), c);
                    rows += c.count();
                }
            }
        }
        throttle.acquire(rows);
        return out;
    }

    /** A top-level segment's checksum, with the fingerprint of the row versions it was computed on. */
    record Measured(Observed.Checksum checksum, RowVersionCache.Versions versions) {
    }

    /** The checksum of a whole segment and its row versions' fingerprint ({@link RowVersionCache}), in one scan. */
    Measured measure(TableSpec table, Segment segment) throws SQLException {
        snapshot();
        String sql = "SELECT count(*), coalesce(sum(" + HashSql.hashHiFromColumn("d.digest") + "), 0), coalesce(sum("
                + HashSql.hashLoFromColumn("d.digest") + "), 0), coalesce(sum(d.version), 0)\n  FROM (SELECT "
                + HashSql.digest(table.hashColumns(), table.mapping, "t") + " AS digest, " + rowVersion(table) + " AS version\n          FROM "
                + table.qualified() + " t WHERE " + range(table, segment) + " OFFSET 0) d";
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            bindRange(ps, 1, segment);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                Measured m = new Measured(new Observed.Checksum(rs.getLong(1), rs.getLong(2), rs.getLong(3)),
                        new RowVersionCache.Versions(rs.getLong(1), rs.getBigDecimal(4).toBigIntegerExact()));
                throttle.acquire(m.checksum().count());
                return m;
            }
        }
    }

    /** The fingerprint of a segment's row versions alone: no content is read. */
    RowVersionCache.Versions versions(TableSpec table, Segment segment) throws SQLException {
        snapshot();
        String sql = "SELECT count(*), coalesce(sum(" + rowVersion(table) + "), 0) FROM " + table.qualified() + " t WHERE "
                + range(table, segment);
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            bindRange(ps, 1, segment);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new RowVersionCache.Versions(rs.getLong(1), rs.getBigDecimal(2).toBigIntegerExact());
            }
        }
    }

    /**
     * A 64-bit hash of a row's key and {@code xmin} (its version): the key hashed with the version as the seed. A
     * row's xmin changes with every update; its sum over a segment changes with any insert, update or delete.
     */
    private static String rowVersion(TableSpec table) {
        String version = "t.xmin::text::int8";
        if (table.keyKind == TableSpec.KeyKind.INTEGER && table.keyColumns.size() == 1) {
            return "hashint8extended(t." + ColumnCodec.quote(table.keyColumns.get(0).name()) + "::int8, " + version + ")";
        }
        StringBuilder row = new StringBuilder("ROW(");
        for (int i = 0; i < table.keyColumns.size(); i++) {
            row.append(i > 0 ? ", " : "").append("t.").append(ColumnCodec.quote(table.keyColumns.get(i).name()));
        }
        return "hashtextextended(" + row + ")::text, " + version + ")";
    }

    /** Cut points that split a text or uuid segment into about {@code parts} parts of equal row counts. */
    List<Object> cuts(TableSpec table, Segment segment, long rows, int parts) throws SQLException {
        snapshot();
        long step = Math.max(1, rows / parts);
        String key = table.orderedKey("t");
        String sql = "SELECT k FROM (SELECT " + key + " AS k, row_number() OVER (ORDER BY "
                + key + ") AS n FROM " + table.qualified() + " t WHERE " + range(table, segment) + ") s WHERE n > 1 AND (n - 1) % "
                + step + " = 0 ORDER BY n";
        List<Object> cuts = new ArrayList<>();
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            bindRange(ps, 1, segment);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String cut = rs.getString(1);
                    if (cuts.isEmpty() || !cuts.get(cuts.size() - 1).equals(cut)) {
                        cuts.add(cut);
                    }
                }
            }
        }
        throttle.acquire(rows);
        return cuts;
    }

    /** Every row of a (small) segment: id, hash halves, xmin; with the values too when {@code withValues}. */
    List<Observed.Row> rows(TableSpec table, StreamRecords records, Segment segment, boolean withValues) throws SQLException {
        snapshot();
        String sql = rowQuery(table, withValues, "", range(table, segment));
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            bindRange(ps, 1, segment);
            List<Observed.Row> rows = readRows(table, records, ps, withValues);
            throttle.acquire(rows.size());
            return rows;
        }
    }

    /**
     * Every row of a segment with its values and xmin, streamed through a cursor ({@code fetchSize} rows in memory at a
     * time) to {@code each}; no hash is computed (the stream's transforms compute it from the values). For loading
     * a segment that has no documents at all.
     */
    long forEachRow(TableSpec table, StreamRecords records, Segment segment, int fetchSize, RowConsumer each) throws Exception {
        snapshot();
        StringBuilder sql = new StringBuilder("SELECT t.xmin::text::int8");
        for (ColumnCodec c : table.columns) {
            sql.append(", ").append(c.select("t"));
        }
        sql.append(" FROM ").append(table.qualified()).append(" t WHERE ").append(range(table, segment));
        long n = 0;
        try (PreparedStatement ps = connection.prepareStatement(sql.toString())) {
            ps.setFetchSize(fetchSize);
            bindRange(ps, 1, segment);
            try (ResultSet rs = ps.executeQuery()) {
                List<Object> values = new ArrayList<>(table.columns.size());
                while (rs.next()) {
                    values.clear();
                    for (int i = 0; i < table.columns.size(); i++) {
                        values.add(table.columns.get(i).read(rs, 2 + i));
                    }
                    each.accept(records.row(values), rs.getLong(1));
                    if (++n % fetchSize == 0) {
                        throttle.acquire(fetchSize);
                    }
                }
            }
        }
        throttle.acquire(n % fetchSize);
        return n;
    }

    interface RowConsumer {
        void accept(org.apache.kafka.connect.data.Struct row, long xmin) throws Exception;
    }

    /** The rows with these document ids that exist, by id, with their values. */
    Map<String, Observed.Row> rowsById(TableSpec table, StreamRecords records, Collection<String> ids) throws SQLException {
        snapshot();
        Map<String, Observed.Row> out = new LinkedHashMap<>();
        if (ids.isEmpty()) {
            return out;
        }
        int keys = table.keyColumns.size();
        List<List<String>> columns = new ArrayList<>();
        for (int i = 0; i < keys; i++) {
            columns.add(new ArrayList<>());
        }
        for (String id : ids) {
            org.apache.kafka.connect.data.Struct key;
            try {
                key = records.keyOf(id);
            } catch (RuntimeException e) {
                continue; // an id no row of this table can have (a document added by hand with a foreign id)
            }
            for (int i = 0; i < keys; i++) {
                columns.get(i).add(String.valueOf(key.get(table.keyColumns.get(i).name())));
            }
        }
        StringBuilder unnest = new StringBuilder("SELECT ");
        StringBuilder match = new StringBuilder();
        for (int i = 0; i < keys; i++) {
            ColumnCodec c = table.keyColumns.get(i);
            unnest.append(i > 0 ? ", " : "").append("k").append(i).append("::").append(c.column().type()).append(" AS k").append(i);
            match.append(i > 0 ? " AND " : "").append("t.").append(ColumnCodec.quote(c.name())).append(" = ids.k").append(i);
        }
        unnest.append(" FROM unnest(");
        for (int i = 0; i < keys; i++) {
            unnest.append(i > 0 ? ", " : "").append("?::text[]");
        }
        unnest.append(") AS u(");
        for (int i = 0; i < keys; i++) {
            unnest.append(i > 0 ? ", " : "").append("k").append(i);
        }
        unnest.append(")");
        String sql = rowQuery(table, true, " JOIN (" + unnest + ") ids ON " + match, "true");
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            for (int i = 0; i < keys; i++) {
                Array array = connection.createArrayOf("text", columns.get(i).toArray());
                ps.setArray(i + 1, array);
            }
            for (Observed.Row row : readRows(table, records, ps, true)) {
                out.put(row.id(), row);
            }
        }
        throttle.acquire(out.size());
        return out;
    }

    /** hash_hi, hash_lo, xmin and the columns to read, of the rows of {@code t}{@code join} that satisfy {@code where}. */
    private String rowQuery(TableSpec table, boolean withValues, String join, String where) {
        StringBuilder inner = new StringBuilder("SELECT ").append(HashSql.digest(table.hashColumns(), table.mapping, "t"))
                .append(" AS digest, t.xmin::text::int8 AS row_xmin");
        StringBuilder outer = new StringBuilder("SELECT ").append(HashSql.hashHiFromColumn("d.digest")).append(", ")
                .append(HashSql.hashLoFromColumn("d.digest")).append(", d.row_xmin");
        List<ColumnCodec> read = withValues ? table.columns : table.keyColumns;
        for (int i = 0; i < read.size(); i++) {
            inner.append(",\n       ").append(read.get(i).select("t")).append(" AS c").append(i);
            outer.append(", d.c").append(i);
        }
        return outer + "\n  FROM (" + inner + "\n          FROM " + table.qualified() + " t" + join + " WHERE " + where + " OFFSET 0) d";
    }

    private List<Observed.Row> readRows(TableSpec table, StreamRecords records, PreparedStatement ps, boolean withValues)
            throws SQLException {
        List<Observed.Row> rows = new ArrayList<>();
        List<ColumnCodec> read = withValues ? table.columns : table.keyColumns;
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                List<Object> values = new ArrayList<>(table.columns.size());
                for (ColumnCodec c : table.columns) {
                    int at = read.indexOf(c);
                    values.add(at < 0 ? null : c.read(rs, 4 + at));
                }
                org.apache.kafka.connect.data.Struct row = records.row(values);
                rows.add(new Observed.Row(records.id(row), rs.getLong(1), rs.getLong(2), rs.getLong(3), withValues ? row : null));
            }
        }
        return rows;
    }

    /** The SQL condition of a segment on alias {@code t}; its bounds are bound by {@link #bindRange}. */
    static String range(TableSpec table, Segment segment) {
        String key = table.orderedKey("t");
        String cast = table.keyKind == TableSpec.KeyKind.UUID ? "::uuid" : table.keyKind == TableSpec.KeyKind.INTEGER ? "::int8" : "";
        List<String> parts = new ArrayList<>();
        if (segment.lo() != null) {
            parts.add(key + " >= ?" + cast);
        }
        if (segment.hi() != null) {
            parts.add(key + " < ?" + cast);
        }
        return parts.isEmpty() ? "true" : String.join(" AND ", parts);
    }

    static int bindRange(PreparedStatement ps, int p, Segment segment) throws SQLException {
        for (Object bound : new Object[] {segment.lo(), segment.hi()}) {
            if (bound instanceof Long l) {
                ps.setLong(p++, l);
            } else if (bound != null) {
                ps.setString(p++, bound.toString());
            }
        }
        return p;
    }

    private static String arrayType(TableSpec table) {
        return switch (table.keyKind) {
            case INTEGER -> "int8[]";
            case UUID -> "uuid[]";
            case TEXT -> "text[]";
        };
    }

    @Override
    public void close() {
        try {
            connection.rollback();
            connection.close();
        } catch (SQLException ignored) {
            // closing: nothing to do about it
        }
    }
}
