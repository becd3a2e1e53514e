package dev.lockstep.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import dev.lockstep.smt.hash.FieldMapping;
import dev.lockstep.smt.hash.HashSql;
import dev.lockstep.smt.hash.RowHash;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The first vertical slice, end to end on the real stack: rows in PostgreSQL before the connectors start
 * (snapshot) and inserts, updates and deletes afterwards reach OpenSearch, row for row and field for field.
 * The connectors come from config/connectors/*.json (topics of search documents, the transforms on the source)
 * and from config/connectors/change-events/*.json (topics of Debezium change events, the transforms on the
 * sink), registered through the Connect REST API; only the names that keep this run apart from others
 * (schema, topics, slot, indices) are overridden.
 */
@ExtendWith(StackExtension.class)
class PipelineIT {
    private final String run = "it" + Long.toString(System.currentTimeMillis() % 100_000_000L, 36);
    private final String source = run + "-source";
    private final String sink = run + "-sink";
    private LocalStack stack;
    private Connectors connectors;

    @org.junit.jupiter.params.ParameterizedTest(name = "config/connectors/{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"", "change-events/"})
    void snapshotAndStreamedChangesMatchPostgresFieldForField(String topology, LocalStack stack) throws Exception {
        this.stack = stack;
        this.connectors = new Connectors(stack);
        Random random = new Random(20261127L);
        try (Connection pg = DriverManager.getConnection(stack.pgUrl(), stack.pgUser(), stack.pgPassword())) {
            pg.setAutoCommit(true);
            createTables(pg);
            for (long id = 1; id <= 40; id++) {
                upsertProduct(pg, id, random);
            }
            for (int order = 1; order <= 10; order++) {
                for (String line : List.of("A", "B|gift", "C\\x")) {
                    insertOrderLine(pg, order, line + order % 3, random.nextInt(5) + 1);
                }
            }

            Map<String, String> sourceConfig = connectors.fromFile(topology + "lockstep-postgres-source");
            sourceConfig.put("topic.prefix", run);
            sourceConfig.put("slot.name", run);
            sourceConfig.put("publication.name", run);
            sourceConfig.put("table.include.list", run + ".products," + run + ".order_lines");
            connectors.create(source, sourceConfig);

            Map<String, String> sinkConfig = connectors.fromFile(topology + "lockstep-opensearch-sink");
            sinkConfig.put("topics", run + "." + run + ".products," + run + "." + run + ".order_lines");
            sinkConfig.put("index.name.pattern", "${topic}");
            sinkConfig.put("errors.deadletterqueue.topic.name", run + "-dlq");
            connectors.create(sink, sinkConfig);
            connectors.awaitRunning(source);
            connectors.awaitRunning(sink);

            awaitSameContent(pg);

            // Streamed changes: inserts, updates (values, NULLs, arrays, jsonb), deletes, on both tables.
            for (long id = 41; id <= 60; id++) {
                upsertProduct(pg, id, random);
            }
            for (long id = 1; id <= 60; id += 3) {
                upsertProduct(pg, id, random);
            }
            try (Statement s = pg.createStatement()) {
                s.execute("UPDATE " + run + ".products SET price = NULL, tags = ARRAY['x', NULL, 'y'] WHERE id = 2");
                s.execute("UPDATE " + run + ".products SET name = 'renamed ' || id, active = NOT active WHERE id % 7 = 0");
                s.execute("DELETE FROM " + run + ".products WHERE id % 5 = 0");
                s.execute("UPDATE " + run + ".order_lines SET quantity = quantity + 10 WHERE order_id % 2 = 0");
                s.execute("DELETE FROM " + run + ".order_lines WHERE order_id = 3");
            }
            for (int order = 11; order <= 13; order++) {
                insertOrderLine(pg, order, "Z|" + order + "\\", 1);
            }
            awaitSameContent(pg);

            // The sink created the index with the lineage object mapped explicitly: summable longs, dates.
            JsonNode mapping = Http.mappings(stack.openSearchUrl(), run + "." + run + ".products").path("properties").path("lockstep")
                    .path("properties");
            assertThat(mapping.path("hash_hi").path("type").asText()).isEqualTo("long");
            assertThat(mapping.path("hash_lo").path("type").asText()).isEqualTo("long");
            assertThat(mapping.path("version").path("type").asText()).isEqualTo("long");
            assertThat(mapping.path("source_ts_ms").path("type").asText()).isEqualTo("date");
            assertThat(mapping.path("id").path("type").asText()).isEqualTo("keyword");
            assertThat(mapping.path("id").path("index").asBoolean(true)).isFalse();
            assertThat(mapping.path("hash").path("index").asBoolean(true)).isFalse();

            // The worker serves the sink's meters for Prometheus on its REST port.
            Http.Response metrics = Http.getAny(stack.connectUrl() + "/metrics");
            assertThat(metrics.status()).isEqualTo(200);
            String productsIndex = run + "." + run + ".products";
            assertThat(metrics.text())
                    .containsPattern("lockstep_sink_records_total\\{connector=\"" + sink + "\",index=\"" + java.util.regex.Pattern.quote(productsIndex)
                            + "\",result=\"indexed\",task=\"0\"} [1-9]")
                    .containsPattern("lockstep_sink_records_total\\{connector=\"" + sink + "\",index=\"" + java.util.regex.Pattern.quote(productsIndex)
                            + "\",result=\"deleted\",task=\"0\"} [1-9]")
                    .contains("lockstep_sink_end_to_end_latency_seconds_bucket{connector=\"" + sink + "\"")
                    .contains("le=\"0.05\"").contains("le=\"60.0\"")
                    .contains("lockstep_sink_bulk_size_operations_count{connector=\"" + sink + "\"");
        }
    }

    private void createTables(Connection pg) throws SQLException {
        try (Statement s = pg.createStatement()) {
            s.execute("CREATE SCHEMA " + run);
            s.execute("CREATE TABLE " + run + ".products (id bigint PRIMARY KEY, name text NOT NULL, price numeric(12,2), "
                    + "tags text[], attrs jsonb, updated_at timestamptz NOT NULL, active boolean NOT NULL)");
            s.execute("CREATE TABLE " + run + ".order_lines (order_id bigint, line_code text, sku text NOT NULL, "
                    + "quantity integer NOT NULL, PRIMARY KEY (order_id, line_code))");
        }
    }

    private void upsertProduct(Connection pg, long id, Random random) throws SQLException {
        String sql = "INSERT INTO " + run + ".products (id, name, price, tags, attrs, updated_at, active) "
                + "VALUES (?, ?, ?::numeric, ?, ?::jsonb, ?::timestamptz, ?) ON CONFLICT (id) DO UPDATE SET "
                + "name = EXCLUDED.name, price = EXCLUDED.price, tags = EXCLUDED.tags, attrs = EXCLUDED.attrs, "
                + "updated_at = EXCLUDED.updated_at, active = EXCLUDED.active";
        try (PreparedStatement ps = pg.prepareStatement(sql)) {
            ps.setLong(1, id);
            ps.setString(2, List.of("Kettle", "Skillet \"pro\"", "Café crème set", "Knife, chef's", "Ünïcödé ✓").get(random.nextInt(5)) + " " + id);
            ps.setString(3, random.nextInt(6) == 0 ? null : BigDecimal.valueOf(random.nextInt(1_000_000), 2).toPlainString());
            String[] tags = switch (random.nextInt(4)) {
                case 0 -> null;
                case 1 -> new String[0];
                case 2 -> new String[] {"kitchen", null, "steel"};
                default -> new String[] {"tag-" + random.nextInt(100)};
            };
            ps.setArray(4, tags == null ? null : pg.createArrayOf("text", tags));
            ps.setString(5, random.nextInt(5) == 0 ? null
                    : "{\"watts\": " + random.nextInt(3000) + ", \"ratio\": 0." + (1 + random.nextInt(999))
                    + ", \"colour\": \"c" + random.nextInt(9) + "\", \"parts\": [\"lid\", \"base\"], \"size\": {\"w\": 1.50, \"h\": 2}}");
            OffsetDateTime at = OffsetDateTime.of(2026, 1 + random.nextInt(12), 1 + random.nextInt(28), random.nextInt(24),
                    random.nextInt(60), random.nextInt(60), random.nextInt(1_000_000) * 1_000, ZoneOffset.ofHours(random.nextInt(25) - 12));
            ps.setString(6, at.toString());
            ps.setBoolean(7, random.nextBoolean());
            ps.executeUpdate();
        }
    }

    private void insertOrderLine(Connection pg, long order, String line, int quantity) throws SQLException {
        try (PreparedStatement ps = pg.prepareStatement("INSERT INTO " + run + ".order_lines VALUES (?, ?, ?, ?)")) {
            ps.setLong(1, order);
            ps.setString(2, line);
            ps.setString(3, "SKU-" + order + "-" + line);
            ps.setInt(4, quantity);
            ps.executeUpdate();
        }
    }

    /** Waits until both indices hold exactly the rows of their tables; on timeout, fails with the difference. */
    private void awaitSameContent(Connection pg) {
        AtomicReference<String> lastDifference = new AtomicReference<>("");
        try {
            Awaitility.await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() -> {
                String diff = difference(pg, "products") + difference(pg, "order_lines");
                lastDifference.set(diff);
                return diff.isEmpty();
            });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("OpenSearch did not converge to PostgreSQL:\n" + lastDifference.get(), e);
        }
        assertThat(lastDifference.get()).isEmpty();
    }

    private String difference(Connection pg, String table) throws SQLException {
        Map<String, JsonNode> expected = expectedDocuments(pg, table);
        Map<String, JsonNode> actual = indexedDocuments(run + "." + run + "." + table);
        if (expected.equals(actual)) {
            return "";
        }
        StringBuilder sb = new StringBuilder(table + ": " + expected.size() + " rows, " + actual.size() + " documents\n");
        int shown = 0;
        for (String id : new java.util.TreeSet<>(union(expected, actual))) {
            if (!java.util.Objects.equals(expected.get(id), actual.get(id)) && shown++ < 5) {
                sb.append("  id ").append(id).append(": row ").append(expected.get(id))
                        .append("\n          doc ").append(actual.get(id)).append('\n');
            }
        }
        return sb.toString();
    }

    private static List<String> union(Map<String, ?> a, Map<String, ?> b) {
        List<String> ids = new ArrayList<>(a.keySet());
        ids.addAll(b.keySet());
        return ids;
    }

    /**
     * Each row as the document Lockstep promises: numerics as exact text, timestamps as ISO-8601 UTC, jsonb as
     * objects, and the lineage object's content hash computed by PostgreSQL itself (HashSql), so the hash the
     * stream wrote into OpenSearch is checked against the database's, row by row.
     */
    private Map<String, JsonNode> expectedDocuments(Connection pg, String table) throws SQLException {
        Map<String, JsonNode> rows = new TreeMap<>();
        List<HashSql.Column> columns = HashSql.columns(pg, run, table);
        String sql = "SELECT to_jsonb(t)::text, " + HashSql.hashHi("d.digest") + ", " + HashSql.hashLo("d.digest") + " FROM " + run + "."
                + table + " t CROSS JOIN LATERAL (SELECT " + HashSql.digest(columns, FieldMapping.ALL, "t") + " AS digest) d";
        try (Statement s = pg.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                ObjectNode row;
                try {
                    row = (ObjectNode) Http.JSON.readTree(rs.getString(1));
                } catch (java.io.IOException e) {
                    throw new IllegalStateException(e);
                }
                String id;
                if (table.equals("products")) {
                    id = row.get("id").asText();
                    if (row.get("price").isNumber()) {
                        row.put("price", row.get("price").decimalValue().toPlainString());
                    }
                    Instant at = OffsetDateTime.parse(row.get("updated_at").asText()).toInstant();
                    row.put("updated_at", DateTimeFormatter.ISO_INSTANT.format(at));
                } else {
                    // Composite id, as docs/document-ids.md specifies: parts joined by '|', '\' and '|' escaped.
                    id = row.get("order_id").asText() + "|" + row.get("line_code").asText().replace("\\", "\\\\").replace("|", "\\|");
                }
                RowHash hash = new RowHash(rs.getLong(2), rs.getLong(3));
                row.putObject("lockstep").put("hash", hash.hex()).put("hash_hi", hash.hi()).put("hash_lo", hash.lo());
                rows.put(id, reparsed(row));
            }
        }
        return rows;
    }

    /** The node as it reads back from JSON text, so numbers built in code compare equal to parsed ones. */
    private static JsonNode reparsed(JsonNode node) {
        try {
            return Http.JSON.readTree(Http.JSON.writeValueAsString(node));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private Map<String, JsonNode> indexedDocuments(String index) {
        Map<String, JsonNode> docs = new TreeMap<>();
        String os = stack.openSearchUrl();
        if (Http.get(os + "/" + index).status() == 404) {
            return docs;
        }
        Http.post(os + "/" + index + "/_refresh", null);
        Http.Response r = Http.post(os + "/" + index + "/_search?size=10000", Map.of("query", Map.of("match_all", Map.of())));
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        for (JsonNode hit : r.body().path("hits").path("hits")) {
            ObjectNode source = (ObjectNode) hit.get("_source");
            // Lineage: the hash is compared with PostgreSQL's; the version must be there (0 for snapshot reads).
            JsonNode lineage = source.remove("lockstep");
            assertThat(lineage).as("lineage of " + hit.get("_id")).isNotNull();
            assertThat(lineage.path("version").isIntegralNumber()).as("version of " + hit.get("_id")).isTrue();
            assertThat(lineage.path("version").asLong()).as("version of " + hit.get("_id")).isNotNegative();
            source.putObject("lockstep").set("hash", lineage.get("hash"));
            ((ObjectNode) source.get("lockstep")).set("hash_hi", lineage.get("hash_hi"));
            ((ObjectNode) source.get("lockstep")).set("hash_lo", lineage.get("hash_lo"));
            docs.put(hit.get("_id").asText(), reparsed(source));
        }
        return docs;
    }

    @AfterEach
    void cleanUp() throws SQLException {
        if (stack == null) {
            return;
        }
        connectors.deleteQuietly(sink);
        connectors.deleteQuietly(source);
        Pipeline.dropSource(stack, run);
        Http.delete(stack.openSearchUrl() + "/" + run + "." + run + ".*");
    }
}
