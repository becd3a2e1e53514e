package dev.lockstep.bench;

import dev.lockstep.it.LocalStack;
import dev.lockstep.smt.hash.FieldMapping;
import dev.lockstep.smt.hash.HashSql;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Server-side canonical-hash throughput on the local stack's PostgreSQL, on two tables of N rows (default 1M):
 * a products-like table (bigint, text, numeric(12,2), text[], jsonb, timestamptz, boolean) and a
 * {@code pgbench_accounts}-shaped one ({@code aid int primary key, bid int, abalance int, filler char(84)}, as
 * {@code pgbench -i} fills it). For each: {@link HashSql#sumHashes} ({@code count(*), sum(hash_hi), sum(hash_lo)})
 * on one connection, and on two connections at once, each on one half of the key range (as the reconciler runs
 * segments); with {@code jit = off} (what the reconciler should set) and once with the session defaults; next to
 * a {@code sum(hashtext(row::text))} baseline.
 *
 * <p>Arguments: {@code [rows] [legacy]}. With {@code legacy}, it also runs the expression {@code HashSql} generated
 * before it was made faster (a frozen copy, {@link Legacy}), as the old benchmark ran it, and checks on every row
 * that the old and new canonical texts are equal.
 *
 * <p>PostgreSQL: {@code -Dlockstep.bench.pg.url=jdbc:postgresql://…} (with {@code lockstep.bench.pg.user},
 * {@code lockstep.bench.pg.password}) uses a running server; without it, the local stack is started or reused.
 * Run with bin/lockstep-bench hash.
 */
public final class HashSqlBenchmark {
    private static final String SCHEMA = "lockstep_bench";

    private record Shape(String table, String key, String ddl, String fill) {
    }

    private record Sums(long rows, BigDecimal hi, BigDecimal lo) {
        Sums plus(Sums o) {
            return new Sums(rows + o.rows, hi.add(o.hi), lo.add(o.lo));
        }

        @Override
        public String toString() {
            return rows + " rows, sums " + hi + " " + lo;
        }
    }

    private static String url;
    private static String user;
    private static String password;

    public static void main(String[] args) throws Exception {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        boolean legacy = Arrays.asList(args).contains("legacy");
        url = System.getProperty("lockstep.bench.pg.url");
        if (url != null) {
            user = System.getProperty("lockstep.bench.pg.user", "postgres");
            password = System.getProperty("lockstep.bench.pg.password", "postgres");
            run(rows, legacy);
        } else {
            try (LocalStack stack = LocalStack.startOrReuse()) {
                url = stack.pgUrl();
                user = stack.pgUser();
                password = stack.pgPassword();
                run(rows, legacy);
            }
        }
    }

    private static void run(int rows, boolean legacy) throws Exception {
        List<Shape> shapes = List.of(
                new Shape("products", "id", "id bigint PRIMARY KEY, name text NOT NULL, price numeric(12,2), tags text[], attrs jsonb, "
                        + "updated_at timestamptz NOT NULL, active boolean NOT NULL",
                        "SELECT g, 'Stainless steel kettle ' || g, (g % 10000) + 0.90, ARRAY['kitchen', 'steel', 'tag-' || g], "
                                + "jsonb_build_object('colour', 'silver', 'watts', 1000 + g % 3000), "
                                + "timestamptz '2026-01-05 09:30:00+00' + g * interval '1 second', g % 2 = 0 FROM generate_series(1, " + rows + ") g"),
                new Shape("pgbench_accounts", "aid", "aid int PRIMARY KEY, bid int, abalance int, filler char(84)",
                        "SELECT g, (g - 1) / 100000 + 1, 0, '' FROM generate_series(1, " + rows + ") g"));
        try (Connection pg = connect(); Statement s = pg.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
            s.execute("CREATE SCHEMA " + SCHEMA);
            for (Shape shape : shapes) {
                long load = System.nanoTime();
                s.execute("CREATE TABLE " + SCHEMA + "." + shape.table() + " (" + shape.ddl() + ")");
                s.execute("INSERT INTO " + SCHEMA + "." + shape.table() + " " + shape.fill());
                s.execute("VACUUM ANALYZE " + SCHEMA + "." + shape.table());
                System.out.printf("%s: loaded %,d rows in %.1f s%n", shape.table(), rows, (System.nanoTime() - load) / 1e9);
            }
            for (Shape shape : shapes) {
                String table = shape.table();
                List<HashSql.Column> columns = HashSql.columns(pg, SCHEMA, table);
                String whole = HashSql.sumHashes(SCHEMA, table, columns, FieldMapping.ALL, null);
                String segment = HashSql.sumHashes(SCHEMA, table, columns, FieldMapping.ALL,
                        "t." + q(shape.key()) + " >= ? AND t." + q(shape.key()) + " < ?");
                long min;
                long max;
                try (ResultSet rs = s.executeQuery("SELECT min(" + q(shape.key()) + "), max(" + q(shape.key()) + ") FROM " + SCHEMA + "." + table)) {
                    rs.next();
                    min = rs.getLong(1);
                    max = rs.getLong(2);
                }
                long mid = min + (max - min + 1) / 2;
                Sums reference = null;
                for (int run = 1; run <= 3; run++) {
                    Sums got = timeOne(table, "1 connection, jit=off", whole, rows, run, "SET jit = off");
                    reference = check(reference, got);
                }
                check(reference, timeOne(table, "1 connection, session defaults", whole, rows, 1, null));
                for (int run = 1; run <= 3; run++) {
                    check(reference, timeTwo(table, "2 connections, jit=off", segment, min, mid, max + 1, rows, run, "SET jit = off"));
                }
                if (legacy) {
                    String old = Legacy.sumQuery(columns, SCHEMA, table, null);
                    String oldSegment = Legacy.sumQuery(columns, SCHEMA, table, "t." + q(shape.key()) + " >= ? AND t." + q(shape.key()) + " < ?");
                    check(reference, timeOne(table, "BEFORE (old expression), 1 connection, session defaults", old, rows, 1, null));
                    check(reference, timeTwo(table, "BEFORE (old expression), 2 connections, session defaults", oldSegment, min, mid, max + 1, rows, 1, null));
                    String diff = "SELECT count(*) FILTER (WHERE (" + Legacy.canonicalText(columns, "t") + ") IS DISTINCT FROM ("
                            + HashSql.canonicalText(columns, FieldMapping.ALL, "t") + ")) FROM " + SCHEMA + "." + q(table) + " t";
                    try (ResultSet rs = s.executeQuery(diff)) {
                        rs.next();
                        long differ = rs.getLong(1);
                        System.out.printf("sql %s: rows whose canonical text differs between the old and the new expression: %d%n", table, differ);
                        if (differ != 0) {
                            throw new IllegalStateException("the new expression changed " + differ + " canonical texts of " + table);
                        }
                    }
                }
                String baseline = "SELECT count(*), sum(hashtext(t::text)), 0 FROM " + SCHEMA + "." + q(table) + " t";
                timeOne(table, "baseline sum(hashtext(row::text)), jit=off, no parallel workers", baseline, rows, 1,
                        "SET jit = off; SET max_parallel_workers_per_gather = 0");
            }
            s.execute("DROP SCHEMA " + SCHEMA + " CASCADE");
        }
    }

    private static Connection connect() throws SQLException {
        return DriverManager.getConnection(url, user, password);
    }

    private static Sums check(Sums reference, Sums got) {
        if (reference != null && !reference.equals(got)) {
            throw new IllegalStateException("sums differ: " + reference + " vs " + got);
        }
        return got;
    }

    private static Sums timeOne(String table, String what, String sql, int rows, int run, String settings) throws Exception {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            if (settings != null) {
                s.execute(settings);
            }
            long start = System.nanoTime();
            Sums sums = sums(s.executeQuery(sql));
            print(table, what, run, rows, System.nanoTime() - start, sums);
            return sums;
        }
    }

    /** The two halves [from, mid) and [mid, to) of the key range on two connections at once. */
    private static Sums timeTwo(String table, String what, String sql, long from, long mid, long to, int rows, int run, String settings)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Connection> connections = new ArrayList<>();
        try {
            List<PreparedStatement> statements = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                Connection c = connect();
                connections.add(c);
                if (settings != null) {
                    try (Statement s = c.createStatement()) {
                        s.execute(settings);
                    }
                }
                PreparedStatement ps = c.prepareStatement(sql);
                ps.setLong(1, i == 0 ? from : mid);
                ps.setLong(2, i == 0 ? mid : to);
                statements.add(ps);
            }
            long start = System.nanoTime();
            List<Future<Sums>> futures = new ArrayList<>();
            for (PreparedStatement ps : statements) {
                futures.add(pool.submit(() -> sums(ps.executeQuery())));
            }
            Sums total = futures.get(0).get().plus(futures.get(1).get());
            print(table, what, run, rows, System.nanoTime() - start, total);
            return total;
        } finally {
            pool.shutdownNow();
            for (Connection c : connections) {
                c.close();
            }
        }
    }

    private static Sums sums(ResultSet rs) throws SQLException {
        try (rs) {
            rs.next();
            return new Sums(rs.getLong(1), Objects.requireNonNullElse(rs.getBigDecimal(2), BigDecimal.ZERO),
                    Objects.requireNonNullElse(rs.getBigDecimal(3), BigDecimal.ZERO));
        }
    }

    private static void print(String table, String what, int run, int rows, long nanos, Sums sums) {
        double seconds = nanos / 1e9;
        System.out.printf("sql %s, %s, run %d: %,d rows in %.2f s = %,.0f rows/s, %.2f us/row (%s)%n", table, what, run, sums.rows(),
                seconds, rows / seconds, nanos / 1e3 / rows, sums);
    }

    private static String q(String name) {
        return '"' + name.replace("\"", "\"\"") + '"';
    }

    /**
     * The expression {@code HashSql} generated before it was made faster (commit d4b7b45), frozen for before/after
     * figures and for an old-vs-new comparison on every row. Not for use elsewhere.
     */
    static final class Legacy {
        private Legacy() {
        }

        /** The old benchmark's query: the digest in a LATERAL subquery (which the planner flattens: it ran twice). */
        static String sumQuery(List<HashSql.Column> columns, String schema, String table, String where) {
            String d = "sha256(convert_to(" + canonicalText(columns, "t") + ", 'UTF8'))";
            return "SELECT count(*), sum(('x' || substr(encode(d.digest, 'hex'), 1, 8))::bit(32)::bigint), "
                    + "sum(('x' || substr(encode(d.digest, 'hex'), 9, 8))::bit(32)::bigint) FROM " + q(schema) + "." + q(table)
                    + " t CROSS JOIN LATERAL (SELECT " + d + " AS digest) d" + (where == null ? "" : " WHERE " + where);
        }

        static String canonicalText(List<HashSql.Column> columns, String alias) {
            TreeMap<byte[], String> parts = new TreeMap<>(Arrays::compareUnsigned);
            for (HashSql.Column column : columns) {
                byte[] fieldBytes = column.name().getBytes(StandardCharsets.UTF_8);
                String ref = alias + "." + q(column.name());
                parts.put(fieldBytes, literal(fieldBytes.length + ":" + column.name()) + " || " + valueExpression(column, ref));
            }
            StringBuilder sb = new StringBuilder("'LSR1'");
            parts.values().forEach(p -> sb.append("\n  || ").append(p));
            return sb.toString();
        }

        static String valueExpression(HashSql.Column column, String ref) {
            if (!column.array()) {
                return scalar(textExpression(column, ref));
            }
            String element = scalar(textExpression(column, "u.e"));
            return "CASE WHEN " + ref + " IS NULL THEN 'N' ELSE 'A' || coalesce(cardinality(" + ref + "), 0) || ':' || coalesce(("
                    + "SELECT string_agg(" + element + ", '' ORDER BY u.o) FROM unnest(" + ref + ") WITH ORDINALITY AS u(e, o)), '') END";
        }

        private static String scalar(String text) {
            return "coalesce('V' || octet_length(" + text + ") || ':' || " + text + ", 'N')";
        }

        static String textExpression(HashSql.Column column, String x) {
            if (column.enumType()) {
                return x + "::text";
            }
            return switch (column.type()) {
                case "int2", "int4", "int8", "numeric", "text", "varchar", "name", "uuid", "json", "jsonb", "xml", "citext" -> x + "::text";
                case "bpchar" -> column.charLength() > 0 ? "rpad(" + x + "::text, " + column.charLength() + ")" : x + "::text";
                case "float4" -> "encode(float4send(" + x + "), 'hex')";
                case "float8" -> "encode(float8send(" + x + "), 'hex')";
                case "bool" -> "CASE " + x + " WHEN true THEN 'true' WHEN false THEN 'false' END";
                case "bytea" -> "encode(" + x + ", 'hex')";
                case "date" -> "to_char(" + x + ", 'YYYY-MM-DD')";
                case "time" -> "CASE WHEN " + x + " = TIME '24:00' THEN '24:00:00.000000' ELSE to_char(TIMESTAMP '2000-01-01' + " + x
                        + ", 'HH24:MI:SS.US') END";
                case "timestamp" -> "to_char(" + x + ", 'YYYY-MM-DD\"T\"HH24:MI:SS.US')";
                case "timestamptz" -> "CASE WHEN isfinite(" + x + ") THEN to_char(" + x + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') ELSE "
                        + x + "::text END";
                case "interval" -> "((extract(year from " + x + ") * 12 + extract(month from " + x + "))::bigint || ',' || extract(day from "
                        + x + ")::bigint || ',' || (extract(hour from " + x + ") * 3600000000 + extract(minute from " + x
                        + ") * 60000000 + extract(microseconds from " + x + "))::bigint)";
                default -> throw new IllegalArgumentException(column.type());
            };
        }

        private static String literal(String text) {
            return "'" + text.replace("'", "''") + "'";
        }
    }
}
