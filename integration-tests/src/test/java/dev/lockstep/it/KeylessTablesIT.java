package dev.lockstep.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.header.Header;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The user's scenario: pgbench's four tables captured with the shipped documents-layout configs, one of them
 * ({@code pgbench_history}) without a primary key, under pgbench's own load. Next to them a keyless table indexed by
 * a chosen unique column (Debezium's {@code message.key.columns}) and a table whose primary key (an array) cannot
 * form a document id. Debezium's task must stay RUNNING, every keyed row must be searchable and equal to its row,
 * and every record that cannot become a document must be in the dead-letter topic with its reason, counted on the
 * metric and named in the log: nothing silent.
 */
@ExtendWith(StackExtension.class)
class KeylessTablesIT {
    private static final List<String> PGBENCH_KEYED = List.of("pgbench_accounts", "pgbench_tellers", "pgbench_branches");

    @Test
    void pgbenchWithAKeylessHistoryTableKeepsEveryOtherTableInStepAndAccountsForEveryHistoryRow(LocalStack stack) throws Exception {
        Path pgbench = Pgbench.find();
        Assumptions.assumeTrue(pgbench != null, "pgbench (PostgreSQL's client tools) is not installed");
        try (Pipeline p = new Pipeline(stack, "kl")) {
            p.sql("CREATE SCHEMA ${schema}");
            Pgbench.run(stack, p.name, pgbench, "-i", "-s", "1", "-q"); // 100,000 accounts; pgbench_history has no primary key
            p.sql("CREATE TABLE ${schema}.events (event_id bigint NOT NULL, note text)",
                    "CREATE UNIQUE INDEX events_event_id ON ${schema}.events (event_id)",
                    // Without a primary key PostgreSQL needs a replica identity to log updates and deletes at all.
                    "ALTER TABLE ${schema}.events REPLICA IDENTITY USING INDEX events_event_id",
                    "CREATE TABLE ${schema}.tagged (tags text[] PRIMARY KEY, note text)");

            Map<String, String> source = new HashMap<>();
            source.put("message.key.columns", p.name + ".events:event_id");
            for (String transform : List.of("sync", "hash", "document")) {
                source.put("transforms." + transform + ".errors.topic", p.dlq());
            }
            List<String> keyed = new ArrayList<>(PGBENCH_KEYED);
            keyed.add("events");
            p.start("", source, Map.of(), keyed, "pgbench_accounts", "pgbench_tellers", "pgbench_branches", "pgbench_history",
                    "events", "tagged");
            Awaitility.await("the snapshot of 100,000 accounts searchable").atMost(Duration.ofSeconds(180))
                    .pollInterval(Duration.ofSeconds(2)).until(() -> count(stack, index(p, "pgbench_accounts")) == 100_000);

            // pgbench as the user ran it, while another client writes the two other tables; Debezium's task is watched.
            Map<String, Integer> sourceStates = new ConcurrentHashMap<>();
            AtomicBoolean loading = new AtomicBoolean(true);
            Thread watcher = new Thread(() -> {
                while (loading.get()) {
                    sourceStates.merge(p.sourceTaskState(), 1, Integer::sum);
                    sleep(500);
                }
            });
            watcher.start();
            Process bench = Pgbench.start(stack, p.name, pgbench, "-T", "20", "-c", "2", "-j", "2");
            try (Connection pg = p.connect(); Statement s = pg.createStatement()) {
                for (int i = 1; i <= 200; i++) {
                    s.execute("INSERT INTO " + p.name + ".events VALUES (" + i + ", 'event " + i + "')");
                    if (i % 4 == 0) {
                        s.execute("UPDATE " + p.name + ".events SET note = 'updated " + i + "' WHERE event_id = " + (i - 2));
                    }
                    if (i % 10 == 0) {
                        s.execute("DELETE FROM " + p.name + ".events WHERE event_id = " + (i - 5));
                    }
                    if (i % 20 == 0) {
                        s.execute("INSERT INTO " + p.name + ".tagged VALUES (ARRAY['t" + i + "', 'x'], 'tagged " + i + "')");
                    }
                    sleep(50);
                }
            }
            assertThat(bench.waitFor(120, TimeUnit.SECONDS)).as("pgbench ends").isTrue();
            assertThat(bench.exitValue()).as("pgbench's exit code, see its log in target/").isZero();
            loading.set(false);
            watcher.join();

            // A last change of every keyed pgbench table, after the load: once it is searchable, the stream is through.
            String lsnBeforeMarker;
            try (Connection pg = p.connect(); Statement s = pg.createStatement()) {
                lsnBeforeMarker = single(s, "SELECT pg_current_wal_lsn()::text");
                pg.setAutoCommit(false);
                s.execute("UPDATE " + p.name + ".pgbench_branches SET filler = 'end' WHERE bid = 1");
                s.execute("UPDATE " + p.name + ".pgbench_tellers SET filler = 'end' WHERE tid = 1");
                s.execute("UPDATE " + p.name + ".pgbench_accounts SET filler = 'end' WHERE aid = 1");
                pg.commit();
            }
            for (String table : PGBENCH_KEYED) {
                Awaitility.await(table + "'s last change searchable").atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(1))
                        .until(() -> Http.get(stack.openSearchUrl() + "/" + index(p, table) + "/_doc/1").body().path("_source")
                                .path("filler").asText().startsWith("end"));
            }

            assertThat(sourceStates.keySet()).as("Debezium's task, polled during the load").containsOnly("RUNNING");
            assertThat(p.sourceTaskState()).isEqualTo("RUNNING");

            // Every keyed row searchable and equal to its row, field for field.
            assertSameRows(stack, p, "pgbench_accounts", "aid");
            assertSameRows(stack, p, "pgbench_tellers", "tid");
            assertSameRows(stack, p, "pgbench_branches", "bid");
            Awaitility.await("events, keyed by message.key.columns, in step").atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofSeconds(1)).ignoreExceptions().untilAsserted(() -> assertSameRows(stack, p, "events", "event_id"));

            // Every keyless and every unkeyable record accounted for: in the dead-letter topic, on the metric, in the log.
            List<String> history = rows(p, "SELECT tid || ':' || bid || ':' || aid || ':' || delta FROM " + p.name
                    + ".pgbench_history");
            List<String> tagged = rows(p, "SELECT note FROM " + p.name + ".tagged");
            assertThat(history).hasSizeGreaterThan(100);
            assertThat(tagged).hasSize(10);
            List<Topics.Event> deadLetters = Topics.read(stack, p.dlq(), Duration.ofSeconds(120),
                    read -> read.size() >= history.size() + tagged.size());
            assertThat(Topics.endOffsets(stack, p.dlq())).as("no record twice, none of another table")
                    .isEqualTo(history.size() + tagged.size());
            Map<String, List<JsonNode>> byTable = new TreeMap<>();
            for (Topics.Event e : deadLetters) {
                JsonNode value = Http.JSON.readTree(e.rawValue());
                assertThat(header(e, "lockstep.error.topic")).startsWith(p.name + "." + p.name + ".");
                byTable.computeIfAbsent(header(e, "lockstep.error.table") + " " + header(e, "lockstep.error.reason") + " "
                        + header(e, "lockstep.error.transform"), k -> new ArrayList<>()).add(value);
            }
            assertThat(byTable.keySet()).containsExactlyInAnyOrder(
                    p.name + ".pgbench_history no_key ToSearchDocument", p.name + ".tagged bad_key ToSearchDocument");
            List<String> deadHistory = byTable.get(p.name + ".pgbench_history no_key ToSearchDocument").stream().map(v -> {
                JsonNode a = v.path("after");
                return a.path("tid").asText() + ":" + a.path("bid").asText() + ":" + a.path("aid").asText() + ":" + a.path("delta").asText();
            }).toList();
            assertThat(deadHistory).as("every pgbench_history row, once, with its values").containsExactlyInAnyOrderElementsOf(history);
            assertThat(byTable.get(p.name + ".pgbench_history no_key ToSearchDocument").get(0).path("after").path("mtime").isIntegralNumber())
                    .as("Debezium's change event as it was (microseconds), not converted for search").isTrue();
            assertThat(byTable.get(p.name + ".tagged bad_key ToSearchDocument").stream().map(v -> v.path("after").path("note").asText()))
                    .containsExactlyInAnyOrderElementsOf(tagged);

            String metrics = Http.getAny(stack.connectUrl() + "/metrics").text();
            assertThat(metric(metrics, p.name + ".pgbench_history", "no_key", "errors_topic")).isEqualTo(history.size());
            assertThat(metric(metrics, p.name + ".tagged", "bad_key", "errors_topic")).isEqualTo(tagged.size());
            String log = Files.readString(stack.stackDir().resolve("logs/connect.log"));
            long warnings = log.lines().filter(l -> l.contains("WARN") && l.contains("table " + p.name + ".pgbench_history")).count();
            assertThat(warnings).as("named in the log, at most once a minute").isBetween(1L, 3L);

            assertThat(Http.get(stack.openSearchUrl() + "/" + p.dlq()).status()).as("the sink never reads the dead-letter topic")
                    .isEqualTo(404);
            try (Connection pg = p.connect(); Statement s = pg.createStatement()) {
                // A record's offset names the commit LSN of the transaction before its own (lsn_commit), and Debezium
                // confirms that to the slot once the record's offset is committed. So the marker's transaction is
                // confirmed by the next record: one more change after it, as any stream that keeps running has.
                s.execute("INSERT INTO " + p.name + ".events VALUES (100000, 'after the marker')");
                Awaitility.await("the slot confirms the stream past the load").atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofSeconds(1)).until(() -> single(s, "SELECT (confirmed_flush_lsn >= '" + lsnBeforeMarker
                                + "'::pg_lsn)::text FROM pg_replication_slots WHERE slot_name = '" + p.name + "'").equals("true"));
            }
        }
    }

    @Test
    void inTheChangeEventLayoutAKeylessTableGoesToTheSinksDeadLetterQueueCountedAndTheSinkRuns(LocalStack stack) throws Exception {
        try (Pipeline p = new Pipeline(stack, "klce")) {
            p.sql("CREATE SCHEMA ${schema}",
                    "CREATE TABLE ${schema}.items (id bigint PRIMARY KEY, name text)",
                    "CREATE TABLE ${schema}.audit (at timestamptz NOT NULL DEFAULT now(), what text)");
            p.start("change-events/", Map.of(), Map.of(), List.of("items", "audit"), "items", "audit");
            try (Connection pg = p.connect(); Statement s = pg.createStatement()) {
                for (int i = 1; i <= 50; i++) {
                    s.execute("INSERT INTO " + p.name + ".items VALUES (" + i + ", 'item " + i + "')");
                    s.execute("INSERT INTO " + p.name + ".audit (what) VALUES ('added " + i + "')");
                }
                s.execute("UPDATE " + p.name + ".items SET name = 'renamed' WHERE id <= 10");
            }
            Awaitility.await("every item searchable").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1))
                    .ignoreExceptions().untilAsserted(() -> assertSameRows(stack, p, "items", "id"));
            List<Topics.Event> deadLetters = Topics.read(stack, p.dlq(), Duration.ofSeconds(60), read -> read.size() >= 50);
            assertThat(deadLetters).hasSize(50).allSatisfy(e -> {
                assertThat(header(e, "__connect.errors.topic")).isEqualTo(p.topic("audit"));
                assertThat(header(e, "__connect.errors.exception.message")).contains("record has no key");
            });
            assertThat(Topics.endOffsets(stack, p.dlq())).isEqualTo(50);
            assertThat(p.sinkTaskState()).isEqualTo("RUNNING");
            assertThat(metric(Http.getAny(stack.connectUrl() + "/metrics").text(), p.name + ".audit", "no_key", "thrown"))
                    .isEqualTo(50);
        }
    }

    /** Every row of the table as a document under its key's id, every column equal as text, and no other document. */
    private static void assertSameRows(LocalStack stack, Pipeline p, String table, String key) throws Exception {
        Map<String, Map<String, String>> expected = new HashMap<>();
        try (Connection pg = p.connect(); Statement s = pg.createStatement();
                ResultSet rs = s.executeQuery("SELECT * FROM " + p.name + "." + table)) {
            ResultSetMetaData md = rs.getMetaData();
            while (rs.next()) {
                Map<String, String> row = new HashMap<>();
                for (int c = 1; c <= md.getColumnCount(); c++) {
                    row.put(md.getColumnName(c), rs.getString(c));
                }
                expected.put(rs.getString(key), row);
            }
        }
        Map<String, Map<String, String>> actual = new HashMap<>();
        JsonNode page = Http.post(stack.openSearchUrl() + "/" + index(p, table) + "/_search?scroll=1m&size=10000",
                Map.of("query", Map.of("match_all", Map.of()))).body();
        while (page.path("hits").path("hits").size() > 0) {
            for (JsonNode hit : page.path("hits").path("hits")) {
                Map<String, String> doc = new HashMap<>();
                for (String column : expected.values().iterator().next().keySet()) {
                    JsonNode v = hit.path("_source").path(column);
                    doc.put(column, v.isNull() || v.isMissingNode() ? null : v.asText());
                }
                actual.put(hit.path("_id").asText(), doc);
            }
            page = Http.post(stack.openSearchUrl() + "/_search/scroll", Map.of("scroll", "1m",
                    "scroll_id", page.path("_scroll_id").asText())).body();
        }
        assertThat(actual.size()).as(table + ": documents").isEqualTo(expected.size());
        List<String> wrong = new ArrayList<>();
        expected.forEach((id, row) -> {
            if (!row.equals(actual.get(id))) {
                wrong.add(id + ": row " + row + " / document " + actual.get(id));
            }
        });
        assertThat(wrong).as(table + ": rows whose document differs").isEmpty();
    }

    private static long metric(String scrape, String table, String reason, String handling) {
        Matcher m = Pattern.compile("^lockstep_transform_rejected_records_total\\{handling=\"" + handling + "\",reason=\""
                + reason + "\",table=\""
                + Pattern.quote(table) + "\",transform=\"ToSearchDocument\"} ([0-9.E]+)$", Pattern.MULTILINE).matcher(scrape);
        assertThat(m.find()).as("metric for " + table + " in /metrics").isTrue();
        return (long) Double.parseDouble(m.group(1));
    }

    private static String header(Topics.Event e, String name) {
        Header h = e.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static String index(Pipeline p, String table) {
        return p.topic(table).toLowerCase(java.util.Locale.ROOT);
    }

    private static long count(LocalStack stack, String index) {
        Http.Response r = Http.get(stack.openSearchUrl() + "/" + index + "/_count");
        return r.status() == 200 ? r.body().path("count").asLong() : -1;
    }

    private static List<String> rows(Pipeline p, String sql) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection pg = p.connect(); Statement s = pg.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static String single(Statement s, String sql) throws Exception {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
