package dev.lockstep.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Mappings derived from column types on the real stack, in both topic layouts: every type of docs/mappings.md
 * mapped before the first document, a range query on a numeric, then schema changes while streaming (ADD, DROP,
 * RENAME COLUMN, widenings, and type changes OpenSearch cannot apply in place), with no failed task and nothing
 * in the dead-letter queue. Documents that predate a DROP or RENAME are the reconciler's schema class
 * (ReconcileOperationsIT).
 */
@ExtendWith(StackExtension.class)
class MappingsIT {

    @ParameterizedTest(name = "config/connectors/{0}")
    @ValueSource(strings = {"", "change-events/"})
    void fieldsAreMappedByColumnTypeAndSchemaChangesNeverFailOrDeadLetter(String layout, LocalStack stack) throws Exception {
        try (Pipeline p = new Pipeline(stack, "mp", layout)) {
            p.sql("CREATE SCHEMA ${schema}", "CREATE TYPE ${schema}.mood AS ENUM ('sad', 'happy')",
                    "CREATE TABLE ${schema}.items (id bigint PRIMARY KEY, qty integer, small smallint, price numeric(12,2), "
                            + "big numeric(30,10), anynum numeric, r real, d double precision, name text, code varchar(10), u uuid, "
                            + "mood ${schema}.mood, flag boolean, day date, at timestamp, at3 timestamp(3), atz timestamptz, "
                            + "t time, iv interval, raw bytea, attrs jsonb, tags text[], prices numeric(8,2)[], n2t integer, "
                            + "t2n text, scale numeric(10,2))",
                    "INSERT INTO ${schema}.items SELECT g, g, g, g * 10.5, g * 1.0000000001, g / 3.0, g * 0.5, g * 0.25, "
                            + "'item ' || g, 'c' || g, gen_random_uuid(), 'happy', g % 2 = 0, DATE '2026-01-01' + g, "
                            + "TIMESTAMP '2026-01-01 10:00:00.123456' + g * interval '1 hour', TIMESTAMP '2026-01-01 10:00:00.123', "
                            + "TIMESTAMPTZ '2026-01-01 10:00:00.654321+00' + g * interval '1 day', TIME '09:30:00', interval '1 day', "
                            + "'\\x01', jsonb_build_object('colour', 'c' || g, 'size', jsonb_build_object('w', g)), ARRAY['a', 'b'], "
                            + "ARRAY[1.50, 2.25]::numeric(8,2)[], g, (g * 7)::text, g * 1.25 FROM generate_series(1, 20) g");
            String index = p.topic("items");
            p.start(Map.of(), "items");
            ReconcileIT.awaitCount(stack, index, 20);

            JsonNode props = properties(stack, index);
            assertThat(type(props, "id")).isEqualTo("long");
            assertThat(type(props, "qty")).isEqualTo("long");
            assertThat(type(props, "small")).isEqualTo("long");
            assertThat(type(props, "price")).isEqualTo("double");
            assertThat(props.path("price").path("fields").has("exact")).isFalse();
            assertThat(type(props, "big")).isEqualTo("double");
            assertThat(props.path("big").path("fields").path("exact").path("type").asText()).isEqualTo("keyword");
            assertThat(props.path("anynum").path("fields").path("exact").path("type").asText()).isEqualTo("keyword");
            assertThat(type(props, "r")).isEqualTo("float");
            assertThat(type(props, "d")).isEqualTo("double");
            assertThat(type(props, "name")).isEqualTo("text");
            assertThat(props.path("name").path("fields").path("keyword").path("type").asText()).isEqualTo("keyword");
            assertThat(type(props, "code")).isEqualTo("text");
            assertThat(type(props, "u")).isEqualTo("keyword");
            assertThat(type(props, "mood")).isEqualTo("keyword");
            assertThat(type(props, "flag")).isEqualTo("boolean");
            assertThat(type(props, "day")).isEqualTo("date");
            assertThat(type(props, "at")).isEqualTo("date_nanos");
            assertThat(type(props, "at3")).isEqualTo("date");
            assertThat(type(props, "atz")).isEqualTo("date_nanos");
            assertThat(type(props, "t")).isEqualTo("keyword");
            assertThat(type(props, "iv")).isEqualTo("keyword");
            assertThat(type(props, "raw")).isEqualTo("binary");
            assertThat(type(props, "attrs")).isEqualTo("flat_object");
            assertThat(type(props, "tags")).isEqualTo("text");
            assertThat(type(props, "prices")).isEqualTo("double");
            assertThat(props.path("lockstep").path("properties").path("hash_hi").path("type").asText()).isEqualTo("long");

            // Numbers compare as numbers (as text, "105.00" < "52.50"), timestamps by their microseconds, json by path.
            assertThat(ids(stack, index, "{\"range\":{\"price\":{\"gte\":50,\"lte\":105}}}")).containsExactlyInAnyOrder("5", "6", "7", "8", "9", "10");
            JsonNode top = search(stack, index, "{\"size\":1,\"sort\":[{\"price\":\"desc\"}],\"query\":{\"match_all\":{}}}");
            assertThat(top.path("hits").path("hits").get(0).path("_id").asText()).isEqualTo("20");
            assertThat(top.path("hits").path("hits").get(0).path("_source").path("price").asText()).isEqualTo("210.00");
            assertThat(ids(stack, index, "{\"range\":{\"atz\":{\"gt\":\"2026-01-03T10:00:00.654320Z\",\"lt\":\"2026-01-03T10:00:00.654322Z\"}}}"))
                    .containsExactly("2");
            assertThat(ids(stack, index, "{\"term\":{\"attrs.colour\":\"c3\"}}")).containsExactly("3");
            assertThat(ids(stack, index, "{\"term\":{\"big.exact\":\"4.0000000004\"}}")).containsExactly("4");

            // ADD COLUMN: mapped by its type before any value arrives (the first change carries NULL).
            p.sql("ALTER TABLE ${schema}.items ADD COLUMN weight numeric(8,3)", "UPDATE ${schema}.items SET name = 'added' WHERE id = 1");
            awaitSource(stack, index, "1", s -> s.path("name").asText().equals("added"));
            assertThat(type(properties(stack, index), "weight")).isEqualTo("double");
            p.sql("UPDATE ${schema}.items SET weight = 2.5 WHERE id = 1");
            awaitSource(stack, index, "1", s -> s.path("weight").asText().equals("2.500"));
            assertThat(ids(stack, index, "{\"range\":{\"weight\":{\"gt\":2}}}")).containsExactly("1");

            // DROP COLUMN: the field leaves each document as its row changes.
            p.sql("ALTER TABLE ${schema}.items DROP COLUMN small", "UPDATE ${schema}.items SET name = 'dropped' WHERE id = 2");
            awaitSource(stack, index, "2", s -> s.path("name").asText().equals("dropped"));
            assertThat(source(stack, index, "2").has("small")).isFalse();
            assertThat(source(stack, index, "3").has("small")).isTrue();

            // RENAME COLUMN: the new field is mapped by its type; the old one leaves as rows change.
            p.sql("ALTER TABLE ${schema}.items RENAME COLUMN code TO sku", "UPDATE ${schema}.items SET name = 'renamed' WHERE id = 3");
            awaitSource(stack, index, "3", s -> s.path("sku").asText().equals("c3") && !s.has("code"));
            assertThat(type(properties(stack, index), "sku")).isEqualTo("text");

            // Widening: int to bigint, a longer varchar; values beyond the old range are indexed and searchable.
            p.sql("ALTER TABLE ${schema}.items ALTER COLUMN qty TYPE bigint, ALTER COLUMN sku TYPE varchar(100)",
                    "UPDATE ${schema}.items SET qty = 5000000000, sku = repeat('x', 50) WHERE id = 4");
            awaitSource(stack, index, "4", s -> s.path("qty").asLong() == 5_000_000_000L);
            assertThat(ids(stack, index, "{\"range\":{\"qty\":{\"gt\":4000000000}}}")).containsExactly("4");

            // Changes OpenSearch cannot apply in place: the documents are indexed, the conflicts are shown.
            p.sql("ALTER TABLE ${schema}.items ALTER COLUMN n2t TYPE text USING n2t::text",
                    "ALTER TABLE ${schema}.items ALTER COLUMN t2n TYPE integer USING t2n::integer",
                    "ALTER TABLE ${schema}.items ALTER COLUMN scale TYPE numeric(10,4)",
                    "UPDATE ${schema}.items SET n2t = 'not a number', t2n = 42, scale = 1.2345 WHERE id = 5",
                    "UPDATE ${schema}.items SET n2t = '77' WHERE id = 6");
            awaitSource(stack, index, "5", s -> s.path("n2t").asText().equals("not a number") && s.path("t2n").asInt() == 42
                    && s.path("scale").asText().equals("1.2345"));
            awaitSource(stack, index, "6", s -> s.path("n2t").asText().equals("77"));
            assertThat(ids(stack, index, "{\"range\":{\"scale\":{\"gt\":1.2344,\"lt\":1.2346}}}")).containsExactly("5");
            assertThat(ids(stack, index, "{\"term\":{\"n2t\":77}}")).containsExactly("6"); // still a number where it parses
            JsonNode five = Http.get(stack.openSearchUrl() + "/" + index + "/_doc/5").body();
            assertThat(five.path("_ignored").toString()).contains("n2t");

            String metrics = Http.getAny(stack.connectUrl() + "/metrics").text();
            assertThat(metrics).containsPattern("lockstep_sink_mapping_conflicts\\{column_type=\"text\",connector=\"" + p.name
                    + "-sink\",field=\"n2t\",index=\"" + java.util.regex.Pattern.quote(index + "_v1") + "\",index_type=\"long\"")
                    .containsPattern("lockstep_sink_mapping_conflicts\\{column_type=\"integer\",connector=\"" + p.name
                            + "-sink\",field=\"t2n\",index=\"" + java.util.regex.Pattern.quote(index + "_v1") + "\",index_type=\"text\"")
                    .doesNotContainPattern("lockstep_sink_mapping_conflicts\\{[^}]*field=\"(qty|sku|scale|weight)\"");
            assertThat(metrics).containsPattern("lockstep_sink_dlq_records_total\\{connector=\"" + p.name + "-sink\",task=\"0\"} 0.0");
            assertThat(p.sinkTaskState()).isEqualTo("RUNNING");
            assertThat(Http.get(stack.connectUrl() + "/connectors/" + p.name + "-source/status").body().path("tasks").path(0)
                    .path("state").asText()).isEqualTo("RUNNING");
        }
    }

    static JsonNode properties(LocalStack stack, String index) {
        return Http.mappings(stack.openSearchUrl(), index).path("properties");
    }

    private static String type(JsonNode properties, String field) {
        return properties.path(field).path("type").asText("(none)");
    }

    private static JsonNode search(LocalStack stack, String index, String body) {
        Http.post(stack.openSearchUrl() + "/" + index + "/_refresh", null);
        Http.Response r = Http.post(stack.openSearchUrl() + "/" + index + "/_search", body);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return r.body();
    }

    static java.util.List<String> ids(LocalStack stack, String index, String query) {
        JsonNode hits = search(stack, index, "{\"size\":100,\"query\":" + query + "}").path("hits").path("hits");
        java.util.List<String> ids = new java.util.ArrayList<>();
        hits.forEach(h -> ids.add(h.path("_id").asText()));
        return ids;
    }

    private static JsonNode source(LocalStack stack, String index, String id) {
        return Http.get(stack.openSearchUrl() + "/" + index + "/_doc/" + id).body().path("_source");
    }

    private static void awaitSource(LocalStack stack, String index, String id, Predicate<JsonNode> done) {
        java.util.concurrent.atomic.AtomicReference<JsonNode> last = new java.util.concurrent.atomic.AtomicReference<>();
        try {
            Awaitility.await(index + "/_doc/" + id).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
                    .until(() -> {
                        last.set(source(stack, index, id));
                        return done.test(last.get());
                    });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("document " + id + " of " + index + " is still " + last.get() + "; sink metrics: "
                    + Http.getAny(stack.connectUrl() + "/metrics").text().lines().filter(l -> (l.contains(index) || l.contains("dlq")) && !l.contains("latency"))
                            .toList(), e);
        }
    }
}
