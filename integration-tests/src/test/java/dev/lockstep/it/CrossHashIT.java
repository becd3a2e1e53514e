package dev.lockstep.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.smt.ContentHash;
import dev.lockstep.smt.SyncHeaders;
import dev.lockstep.smt.ToSearchDocument;
import dev.lockstep.smt.hash.CanonicalValues;
import dev.lockstep.smt.hash.FieldMapping;
import dev.lockstep.smt.hash.HashSql;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The two twins of the canonical hash agree on real data: random rows of every supported type, written by
 * sessions with different TimeZone, DateStyle and extra_float_digits, hash to the same value in SQL on
 * PostgreSQL ({@link HashSql}) and in Java on the Debezium event that arrived through Kafka
 * ({@link CanonicalValues}), for the Debezium modes that docs/canonical-hash.md calls exact. NaN, ±Infinity
 * and -0 in real/double columns are left out: JSON, and so the JsonConverter, cannot carry them (the golden
 * vectors cover their canonical form).
 */
@ExtendWith(StackExtension.class)
class CrossHashIT {
    private static final int ROWS = 150;
    private final String run = "xh" + Long.toString(System.currentTimeMillis() % 100_000_000L, 36);
    private LocalStack stack;

    @ParameterizedTest(name = "decimal.handling.mode={0}, time.precision.mode={1}")
    @CsvSource({"string, adaptive", "precise, adaptive_time_microseconds"})
    void sqlAndJavaHashesAgreeOnEveryRow(String decimalMode, String timeMode, LocalStack stack) throws Exception {
        this.stack = stack;
        String slot = run + decimalMode.charAt(0);
        try (Connection pg = DriverManager.getConnection(stack.pgUrl(), stack.pgUser(), stack.pgPassword());
                Statement s = pg.createStatement()) {
            s.execute("CREATE SCHEMA " + slot);
            s.execute("CREATE TYPE " + slot + ".mood AS ENUM ('sad', 'ok', 'happy')");
            s.execute("CREATE TABLE " + slot + ".all_types (id bigint PRIMARY KEY, i2 smallint, i4 integer, i8 bigint, "
                    + "n numeric, n2 numeric(12,2), r real, d double precision, b boolean, t text, vc varchar(20), c char(5), "
                    + "u uuid, dt date, tm time, ts timestamp, tz timestamptz, iv interval, by bytea, j json, jb jsonb, "
                    + "ta text[], ia integer[], da double precision[], e " + slot + ".mood)");
            Random random = new Random(42 + decimalMode.hashCode());
            List<String> sessions = List.of(
                    "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; SET extra_float_digits = 1",
                    "SET TimeZone = 'Asia/Kathmandu'; SET DateStyle = 'ISO, DMY'; SET extra_float_digits = -15",
                    "SET TimeZone = 'America/Los_Angeles'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3");
            for (int id = 1; id <= ROWS; id++) {
                s.execute(sessions.get(id % sessions.size()));
                s.execute("INSERT INTO " + slot + ".all_types VALUES (" + id + ", " + String.join(", ", randomRow(random, decimalMode.equals("string"))) + ")");
            }
            s.execute("RESET ALL");

            Connectors connectors = new Connectors(stack);
            Map<String, String> config = connectors.fromFile("change-events/lockstep-postgres-source");
            config.put("topic.prefix", slot);
            config.put("slot.name", slot);
            config.put("publication.name", slot);
            config.put("table.include.list", slot + ".all_types");
            config.put("decimal.handling.mode", decimalMode);
            config.put("time.precision.mode", timeMode);
            config.put("interval.handling.mode", "string");
            connectors.create(slot, config);
            connectors.awaitRunning(slot);

            // Streamed changes on top of the snapshot, again from sessions with different settings.
            for (int id = 1; id <= ROWS; id += 4) {
                List<String> row = randomRow(random, decimalMode.equals("string"));
                s.execute(sessions.get((id + 1) % sessions.size()));
                s.execute("UPDATE " + slot + ".all_types SET n = " + row.get(3) + ", tz = " + row.get(15) + ", iv = " + row.get(16)
                        + ", ta = " + row.get(20) + ", d = " + row.get(6) + " WHERE id = " + id);
            }
            s.execute("RESET ALL");

            // The final state of every row, as the Java twin sees it on the events that reached Kafka.
            Map<Long, Struct> lastAfter = new TreeMap<>();
            int expectedEvents = ROWS + (ROWS + 3) / 4;
            List<Topics.Event> events = Topics.read(stack, slot + "." + slot + ".all_types", Duration.ofSeconds(90),
                    read -> read.size() >= expectedEvents);
            assertThat(events).hasSize(expectedEvents);
            for (Topics.Event e : events) {
                Struct after = ((Struct) e.value().value()).getStruct("after");
                lastAfter.put(after.getInt64("id"), after);
            }

            List<HashSql.Column> columns = HashSql.columns(pg, slot, "all_types");
            Map<Long, String> sqlHashes = new HashMap<>();
            Map<Long, String> sqlCanonical = new HashMap<>();
            String query = "SELECT t.id, " + HashSql.canonicalText(columns, FieldMapping.ALL, "t") + ", encode(substr("
                    + HashSql.digest(columns, FieldMapping.ALL, "t") + ", 1, 8), 'hex') FROM " + slot + ".all_types t";
            try (ResultSet rs = s.executeQuery(query)) {
                while (rs.next()) {
                    sqlCanonical.put(rs.getLong(1), rs.getString(2));
                    sqlHashes.put(rs.getLong(1), rs.getString(3));
                }
            }
            List<String> mismatches = new ArrayList<>();
            for (Map.Entry<Long, Struct> e : lastAfter.entrySet()) {
                var canonical = CanonicalValues.row(e.getValue(), FieldMapping.ALL);
                if (!canonical.hash().hex().equals(sqlHashes.get(e.getKey()))) {
                    mismatches.add("id " + e.getKey() + "\n  sql:  " + sqlCanonical.get(e.getKey()) + "\n  java: " + canonical.encode());
                }
            }
            assertThat(lastAfter).hasSize(ROWS);
            assertThat(mismatches).as(String.join("\n", mismatches.subList(0, Math.min(3, mismatches.size())))).isEmpty();

            // The sink's transform chain on the same real events: every type becomes a document field, and the
            // lineage carries the hash PostgreSQL computes.
            SyncHeaders<SinkRecord> sync = new SyncHeaders<>();
            sync.configure(Map.of());
            ContentHash<SinkRecord> hash = new ContentHash<>();
            hash.configure(Map.of());
            ToSearchDocument<SinkRecord> document = new ToSearchDocument<>();
            document.configure(Map.of());
            for (Topics.Event e : events) {
                SinkRecord out = document.apply(hash.apply(sync.apply(new SinkRecord(slot, 0, e.key().schema(), e.key().value(),
                        e.value().schema(), e.value().value(), e.offset()))));
                @SuppressWarnings("unchecked")
                Map<String, Object> doc = (Map<String, Object>) out.value();
                assertThat(doc.keySet()).hasSize(columns.size() + 1).contains("lockstep");
                @SuppressWarnings("unchecked")
                Map<String, Object> lineage = (Map<String, Object>) doc.get("lockstep");
                assertThat(Http.JSON.writeValueAsString(doc)).isNotEmpty(); // every value serialises to JSON
                long id = (Long) doc.get("id");
                if (lastAfter.get(id) == ((Struct) e.value().value()).getStruct("after")) {
                    assertThat(lineage.get("hash")).as("lineage hash of row " + id).isEqualTo(sqlHashes.get(id));
                }
            }
        } finally {
            cleanUp(slot);
        }
    }

    /** One row's values as SQL literals, in column order after id. */
    static List<String> randomRow(Random r, boolean exactScale) {
        List<String> v = new ArrayList<>();
        v.add(nullOr(r, String.valueOf((short) r.nextInt())));
        v.add(nullOr(r, String.valueOf(r.nextInt())));
        v.add(nullOr(r, String.valueOf(r.nextBoolean() ? r.nextLong() : Long.MIN_VALUE + r.nextInt(3))));
        // Precise mode drops trailing fractional zeros of unconstrained numerics (docs/canonical-hash.md): only
        // string mode gets values like 1.50 and -0.000.
        String fraction = String.format("%03d", r.nextInt(1000));
        if (!exactScale && fraction.endsWith("0")) {
            fraction = fraction.substring(0, 2) + "7";
        }
        v.add(nullOr(r, pick(r, "0.0000001", "-123456789012345678901234567890.123456789", "100", exactScale ? "1.50" : "1.5", "0",
                r.nextInt(100000) + "." + fraction, "1e20", exactScale ? "-0.000" : "-0.001")));
        v.add(nullOr(r, (r.nextBoolean() ? "-" : "") + r.nextInt(10_000_000) + "." + String.format("%02d", r.nextInt(100))));
        v.add(nullOr(r, "'" + pick(r, Float.toString(r.nextFloat() * 1e6f), "1.1", "-2.5e-7",
                Float.toString(Float.MIN_VALUE), Float.toString(Float.MAX_VALUE)) + "'::real"));
        v.add(nullOr(r, "'" + pick(r, Double.toString(r.nextDouble() * Math.pow(10, r.nextInt(40) - 20)), "-1.0000000000000002",
                "0.1", Double.toString(Double.MIN_VALUE), "1e308") + "'::float8"));
        v.add(nullOr(r, r.nextBoolean() ? "true" : "false"));
        v.add(nullOr(r, quote(pick(r, "", "plain", "quote ' and \" ", "Ünïcödé ✓ 😀", "tab\tnew\nline", "back\\slash", "1:V2:x"))));
        v.add(nullOr(r, quote(pick(r, "", "v", "varchar ü"))));
        v.add(nullOr(r, quote(pick(r, "", "a", "ab c", "abcde", "ü"))));
        v.add(nullOr(r, quote(UUID.randomUUID().toString().toUpperCase())));
        v.add(nullOr(r, quote(String.format("%04d-%02d-%02d", 1900 + r.nextInt(200), 1 + r.nextInt(12), 1 + r.nextInt(28))) + "::date"));
        v.add(nullOr(r, quote(pick(r, String.format("%02d:%02d:%02d.%06d", r.nextInt(24), r.nextInt(60), r.nextInt(60), r.nextInt(1_000_000)),
                "00:00:00", "23:59:59.999999")) + "::time"));
        v.add(nullOr(r, quote(String.format("%04d-%02d-%02d %02d:%02d:%02d.%06d", 1900 + r.nextInt(200), 1 + r.nextInt(12), 1 + r.nextInt(28),
                r.nextInt(24), r.nextInt(60), r.nextInt(60), r.nextInt(1_000_000))) + "::timestamp"));
        v.add(nullOr(r, quote(String.format("%04d-%02d-%02d %02d:%02d:%02d.%06d%s", 1950 + r.nextInt(100), 1 + r.nextInt(12), 1 + r.nextInt(28),
                r.nextInt(24), r.nextInt(60), r.nextInt(60), r.nextInt(1_000_000), pick(r, "", "+05:30", "-08", "Z"))) + "::timestamptz"));
        v.add(nullOr(r, quote(pick(r, (r.nextInt(40) - 20) + " years " + (r.nextInt(24) - 12) + " mons " + (r.nextInt(60) - 30) + " days "
                + r.nextInt(100) + ":" + r.nextInt(60) + ":" + r.nextInt(60) + "." + r.nextInt(1_000_000), "0", "-1 day -00:00:01.5",
                "3 hours", "1 year")) + "::interval"));
        byte[] bytes = new byte[r.nextInt(12)];
        r.nextBytes(bytes);
        v.add(nullOr(r, "'\\x" + HexFormat.of().formatHex(bytes) + "'::bytea"));
        v.add(nullOr(r, quote(pick(r, "{\"b\":1,  \"a\":[1,2.50]}", "[]", "\"text\"", "{\"nested\": {\"x\": null}}", "12.30"))));
        v.add(nullOr(r, quote(pick(r, "{\"b\":1,  \"a\":[1,2.50]}", "[]", "\"text\"", "{\"z\": {\"x\": null}, \"a\": true}", "12.30"))));
        v.add(nullOr(r, pick(r, "ARRAY['x', NULL, '']::text[]", "'{}'::text[]", "ARRAY['ü', 'a,b', '\"q\"']")));
        v.add(nullOr(r, pick(r, "ARRAY[1, NULL, -3]", "'{}'::int[]", "ARRAY[" + r.nextInt() + "]")));
        v.add(nullOr(r, pick(r, "ARRAY[1.5, NULL, 0.1]::float8[]", "'{}'::float8[]", "ARRAY[" + r.nextDouble() + "]::float8[]")));
        v.add(nullOr(r, quote(pick(r, "sad", "ok", "happy"))));
        return v;
    }

    private static String nullOr(Random r, String literal) {
        return r.nextInt(8) == 0 ? "NULL" : literal;
    }

    private static String pick(Random r, String... options) {
        return options[r.nextInt(options.length)];
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    private void cleanUp(String slot) throws SQLException {
        new Connectors(stack).deleteQuietly(slot);
        Pipeline.dropSource(stack, slot);
    }
}
