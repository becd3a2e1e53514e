package dev.lockstep.bench;

import dev.lockstep.it.LocalStack;
import dev.lockstep.smt.hash.FieldMapping;
import dev.lockstep.smt.hash.HashSql;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;

/**
 * Server-side canonical-hash throughput: {@code SELECT sum(hash_hi), sum(hash_lo)} over a products-like table
 * of N rows (default 1M) on the local stack's PostgreSQL. Prints rows/s; run with bin/lockstep-bench hash.
 */
public final class HashSqlBenchmark {
    public static void main(String[] args) throws Exception {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        try (LocalStack stack = LocalStack.startOrReuse();
                Connection pg = DriverManager.getConnection(stack.pgUrl(), stack.pgUser(), stack.pgPassword());
                Statement s = pg.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS lockstep_bench CASCADE");
            s.execute("CREATE SCHEMA lockstep_bench");
            s.execute("CREATE TABLE lockstep_bench.products (id bigint PRIMARY KEY, name text NOT NULL, price numeric(12,2), "
                    + "tags text[], attrs jsonb, updated_at timestamptz NOT NULL, active boolean NOT NULL)");
            long load = System.nanoTime();
            s.execute("INSERT INTO lockstep_bench.products SELECT g, 'Stainless steel kettle ' || g, (g % 10000) + 0.90, "
                    + "ARRAY['kitchen', 'steel', 'tag-' || g], jsonb_build_object('colour', 'silver', 'watts', 1000 + g % 3000), "
                    + "timestamptz '2026-01-05 09:30:00+00' + g * interval '1 second', g % 2 = 0 FROM generate_series(1, " + rows + ") g");
            s.execute("VACUUM ANALYZE lockstep_bench.products");
            System.out.printf("loaded %,d rows in %.1f s%n", rows, (System.nanoTime() - load) / 1e9);
            List<HashSql.Column> columns = HashSql.columns(pg, "lockstep_bench", "products");
            String digest = HashSql.digest(columns, FieldMapping.ALL, "t");
            String sql = "SELECT count(*), sum(" + HashSql.hashHi("d.digest") + "), sum(" + HashSql.hashLo("d.digest") + ") "
                    + "FROM lockstep_bench.products t CROSS JOIN LATERAL (SELECT " + digest + " AS digest) d";
            String baseline = "SELECT count(*), sum(hashtext(t::text)) FROM lockstep_bench.products t";
            for (int run = 1; run <= 3; run++) {
                time(s, "canonical hash (sum of halves)", sql, rows, run);
            }
            time(s, "baseline: sum(hashtext(row::text))", baseline, rows, 1);
            s.execute("DROP SCHEMA lockstep_bench CASCADE");
        }
    }

    private static void time(Statement s, String what, String sql, int rows, int run) throws Exception {
        long start = System.nanoTime();
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("sql %s, run %d: %,d rows in %.2f s = %,.0f rows/s (sums %s %s)%n", what, run, rs.getLong(1), seconds,
                    rows / seconds, rs.getString(2), rs.getMetaData().getColumnCount() > 2 ? rs.getString(3) : "");
        }
    }
}
