package dev.lockstep.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockstep.smt.hash.FieldMapping;
import dev.lockstep.smt.hash.HashSql;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The SQL twin of the canonical hash, on the real PostgreSQL, against the golden vectors that the Java twin
 * also passes (docs/canonical-hash-vectors.json). Each vector runs under hostile session settings, which must
 * not change a single byte. (The JDBC driver insists on a DateStyle that starts with ISO; no expression
 * formats through DateStyle, so the other styles cannot matter either.)
 */
@ExtendWith(StackExtension.class)
class HashSqlVectorsIT {
    private static final String SCHEMA = "lockstep_vectors";
    private static final List<String> SESSIONS = List.of(
            "SET TimeZone = 'UTC'",
            "SET TimeZone = 'Pacific/Chatham'; SET DateStyle = 'ISO, DMY'; SET IntervalStyle = 'sql_standard'; "
                    + "SET extra_float_digits = -15; SET bytea_output = 'escape'",
            "SET TimeZone = 'America/St_Johns'; SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres_verbose'; "
                    + "SET extra_float_digits = 3; SET lc_numeric = 'C'");

    @TestFactory
    List<DynamicTest> sqlMatchesTheGoldenVectors(LocalStack stack) throws Exception {
        JsonNode vectors = Http.JSON.readTree(stack.repo().resolve("docs/canonical-hash-vectors.json").toFile()).get("vectors");
        List<DynamicTest> tests = new ArrayList<>();
        try (Connection pg = DriverManager.getConnection(stack.pgUrl(), stack.pgUser(), stack.pgPassword());
                Statement s = pg.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
            s.execute("CREATE SCHEMA " + SCHEMA);
            s.execute("CREATE TYPE " + SCHEMA + ".mood AS ENUM ('sad', 'ok', 'happy')");
            int n = 0;
            for (JsonNode v : vectors) {
                String table = "v" + n++;
                StringBuilder ddl = new StringBuilder();
                StringBuilder values = new StringBuilder();
                for (JsonNode c : v.get("columns")) {
                    String sep = ddl.isEmpty() ? "" : ", ";
                    ddl.append(sep).append('"').append(c.get("name").asText()).append("\" ").append(c.get("ddl").asText());
                    values.append(sep).append(c.get("sql").asText());
                }
                s.execute("CREATE TABLE " + SCHEMA + "." + table + " (" + ddl + ")");
                s.execute("INSERT INTO " + SCHEMA + "." + table + " VALUES (" + values + ")");
                List<HashSql.Column> columns = HashSql.columns(pg, SCHEMA, table);
                String canonical = HashSql.canonicalText(columns, FieldMapping.ALL, "t");
                String digest = HashSql.digest(columns, FieldMapping.ALL, "t");
                String query = "SELECT " + canonical + ", encode(substr(" + digest + ", 1, 8), 'hex'), " + HashSql.hashHi(digest)
                        + ", " + HashSql.hashLo(digest) + " FROM " + SCHEMA + "." + table + " t";
                for (String session : SESSIONS) {
                    s.execute("RESET ALL; " + session);
                    try (ResultSet rs = s.executeQuery(query)) {
                        rs.next();
                        String got = rs.getString(1);
                        String hex = rs.getString(2);
                        long hi = rs.getLong(3);
                        long lo = rs.getLong(4);
                        tests.add(DynamicTest.dynamicTest(v.get("name").asText() + " [" + session + "]", () -> {
                            assertThat(got).isEqualTo(v.get("canonical_text").asText());
                            assertThat(hex).isEqualTo(v.get("hash").asText());
                            assertThat(hi).isEqualTo(v.get("hash_hi").asLong());
                            assertThat(lo).isEqualTo(v.get("hash_lo").asLong());
                        }));
                    }
                }
            }
            s.execute("RESET ALL");
            s.execute("DROP SCHEMA " + SCHEMA + " CASCADE");
        } catch (SQLException e) {
            throw new AssertionError("vector SQL failed: " + e.getMessage(), e);
        }
        return tests;
    }
}
