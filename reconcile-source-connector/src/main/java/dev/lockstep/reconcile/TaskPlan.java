package dev.lockstep.reconcile;

import dev.lockstep.smt.hash.FieldMapping;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spreads the tables over {@code tasks.max} tasks. With more tasks than tables, the largest tables are cut into key
 * range shares (never smaller than {@code segment.rows} rows), each its own unit of work; units are then packed into
 * tasks largest first, so the tasks' rows are as even as the units allow. Sizes are the planner's estimates, cut
 * points are read once here and travel in the task configs: every task sees the same cuts, so the shares tile each
 * table's key space exactly, whatever changes later (a share only grows or shrinks with its rows).
 */
final class TaskPlan {
    private static final Logger LOG = LoggerFactory.getLogger(TaskPlan.class);

    /** Cuts a table's key space into (about) {@code shares} spans that tile it. */
    interface Cutter {
        List<Segment> spans(ReconcileConfig.TableName table, int shares) throws Exception;
    }

    private TaskPlan() {
    }

    /** The plan for a connector config, reading sizes and cut points from PostgreSQL; whole tables if it cannot. */
    static List<List<Assignment>> plan(ReconcileConfig config, int maxTasks) {
        List<ReconcileConfig.TableName> tables = config.tables();
        if (maxTasks <= 1) {
            return List.of(tables.stream().map(Assignment::whole).toList());
        }
        try (PostgresSide pg = new PostgresSide(config, new Throttle(0))) {
            Map<ReconcileConfig.TableName, Long> rows = new LinkedHashMap<>();
            for (ReconcileConfig.TableName t : tables) {
                rows.put(t, estimatedRows(pg, t));
            }
            FieldMapping mapping = FieldMapping.from(new AbstractConfig(dev.lockstep.smt.ToSearchDocument.CONFIG_DEF, config.documentOptions()));
            return allocate(rows, maxTasks, config.getInt(ReconcileConfig.SEGMENT_ROWS), (t, shares) -> {
                TableSpec spec = TableSpec.read(pg.connection(), t, mapping, config.getString(ReconcileConfig.TOPIC_PREFIX),
                        config.getString(ReconcileConfig.INDEX_NAME_PATTERN));
                return spans(pg, spec, rows.get(t), shares);
            });
        } catch (Exception e) {
            LOG.warn("Reconciler: cannot read the tables' sizes ({}); each table goes whole to one task", e.toString());
            return allocate(tables.stream().collect(LinkedHashMap::new, (m, t) -> m.put(t, 0L), Map::putAll), maxTasks, Long.MAX_VALUE, null);
        }
    }

    /**
     * Pure planning: shares for the largest tables while tasks are left and a share keeps at least
     * {@code minShareRows} rows, then units packed into at most {@code maxTasks} tasks, largest first.
     */
    static List<List<Assignment>> allocate(Map<ReconcileConfig.TableName, Long> rows, int maxTasks, long minShareRows, Cutter cutter) {
        Map<ReconcileConfig.TableName, Integer> shares = new LinkedHashMap<>();
        rows.keySet().forEach(t -> shares.put(t, 1));
        for (int spare = maxTasks - rows.size(); spare > 0; spare--) {
            ReconcileConfig.TableName best = null;
            for (ReconcileConfig.TableName t : rows.keySet()) {
                long perShare = rows.get(t) / (shares.get(t) + 1);
                if (perShare >= minShareRows && (best == null || rows.get(t) / shares.get(t) > rows.get(best) / shares.get(best))) {
                    best = t;
                }
            }
            if (best == null) {
                break;
            }
            shares.merge(best, 1, Integer::sum);
        }
        record Unit(Assignment assignment, long rows) {
        }
        List<Unit> units = new ArrayList<>();
        for (ReconcileConfig.TableName t : rows.keySet()) {
            int n = shares.get(t);
            List<Segment> spans = List.of(Segment.ALL);
            if (n > 1) {
                try {
                    spans = cutter.spans(t, n);
                } catch (Exception e) {
                    LOG.warn("Reconciler: cannot cut {} into {} key ranges ({}); it goes whole to one task", t, n, e.toString());
                }
            }
            for (int i = 0; i < spans.size(); i++) {
                Assignment a = spans.size() == 1 ? Assignment.whole(t) : new Assignment(t, spans.get(i), i + 1, spans.size());
                units.add(new Unit(a, rows.get(t) / spans.size()));
            }
        }
        units.sort(Comparator.comparingLong(Unit::rows).reversed());
        int tasks = Math.max(1, Math.min(maxTasks, units.size()));
        List<List<Assignment>> out = new ArrayList<>();
        long[] load = new long[tasks];
        for (int i = 0; i < tasks; i++) {
            out.add(new ArrayList<>());
        }
        for (Unit u : units) {
            int least = 0;
            for (int i = 1; i < tasks; i++) {
                if (load[i] < load[least] || (load[i] == load[least] && out.get(i).size() < out.get(least).size())) {
                    least = i;
                }
            }
            out.get(least).add(u.assignment());
            load[least] += Math.max(1, u.rows());
        }
        return out;
    }

    private static long estimatedRows(PostgresSide pg, ReconcileConfig.TableName t) throws Exception {
        try (PreparedStatement ps = pg.connection().prepareStatement("SELECT greatest(reltuples, 0)::int8 FROM pg_class WHERE oid = ?::regclass")) {
            ps.setString(1, ColumnCodec.quote(t.schema()) + "." + ColumnCodec.quote(t.table()));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        } finally {
            pg.connection().commit();
        }
    }

    /**
     * Spans of equal width between the smallest and the largest integer key; for text and uuid keys, spans at the
     * quantiles of a sample of the keys (TABLESAMPLE SYSTEM, about 20,000 rows).
     */
    private static List<Segment> spans(PostgresSide pg, TableSpec spec, long rows, int shares) throws Exception {
        String key = spec.orderedKey("t");
        try (Statement s = pg.connection().createStatement()) {
            if (spec.keyKind == TableSpec.KeyKind.INTEGER) {
                try (ResultSet rs = s.executeQuery("SELECT min(" + key + ")::int8, max(" + key + ")::int8 FROM " + spec.qualified() + " t")) {
                    rs.next();
                    return rs.getObject(1) == null ? List.of(Segment.ALL) : Segment.ALL.splitIntegers(rs.getLong(1), rs.getLong(2), shares);
                }
            }
            double percent = Math.min(100, Math.max(0.01, 100.0 * 20_000 / Math.max(rows, 1)));
            StringBuilder fractions = new StringBuilder("ARRAY[");
            for (int i = 1; i < shares; i++) {
                fractions.append(i > 1 ? "," : "").append((double) i / shares);
            }
            fractions.append("]::float8[]");
            String sql = "SELECT percentile_disc(" + fractions + ") WITHIN GROUP (ORDER BY " + key + ")::text[] FROM " + spec.qualified()
                    + " t TABLESAMPLE SYSTEM (" + percent + ")";
            List<Object> cuts = new ArrayList<>();
            try (ResultSet rs = s.executeQuery(sql)) {
                if (rs.next() && rs.getArray(1) != null) {
                    for (Object cut : (Object[]) rs.getArray(1).getArray()) {
                        if (cut != null && (cuts.isEmpty() || !cut.equals(cuts.get(cuts.size() - 1)))) {
                            cuts.add(cut);
                        }
                    }
                }
            }
            return Segment.ALL.splitAt(cuts);
        } finally {
            pg.connection().commit();
        }
    }
}
