package dev.lockstep.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockstep.it.Http;
import dev.lockstep.it.LocalStack;
import dev.lockstep.sink.IndexDefinition;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * What the lineage object's mapping costs OpenSearch ({@code bin/lockstep-bench mapping [docs] [rounds]}): the same
 * documents (the sink benchmark's products with a lineage object) sent by one {@code _bulk} loader with
 * {@code external_gte} versions into an index mapped as the sink maps it now, and into one where the lineage's
 * {@code hash} and {@code id} are searchable keywords (the mapping before 2026-12-04). The two alternate round by
 * round on the same node. Printed per index: load time, OpenSearch's CPU from the first bulk until its merges
 * end (per 1M documents), and the store size.
 */
public final class LineageMappingBenchmark {
    private static final int BULK = 2_000;
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    public static void main(String[] args) throws Exception {
        int docs = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        try (LocalStack stack = LocalStack.startOrReuse()) {
            long pid = LatencyBenchmark.pid(stack.stackDir().resolve("pids"), "opensearch");
            List<byte[]> bodies = bodies(docs);
            Map<String, ObjectNode> variants = new LinkedHashMap<>();
            variants.put("as shipped (hash, id kept in _source only)", mappings(false));
            variants.put("hash, id searchable keywords (before)", mappings(true));
            Map<String, List<Double>> cpu = new LinkedHashMap<>();
            System.out.printf("%,d documents in bulks of %,d, one connection, external_gte; round 0 warms the node up%n", docs, BULK);
            for (int round = 0; round <= rounds; round++) {
                for (Map.Entry<String, ObjectNode> v : variants.entrySet()) {
                    String index = "lineage-mapping-bench";
                    Http.deleteIndex(stack.openSearchUrl(), index);
                    ObjectNode create = Http.JSON.createObjectNode();
                    create.putObject("settings").putObject("index").put("number_of_shards", 1).put("number_of_replicas", 0)
                            .put("refresh_interval", "30s");
                    create.set("mappings", v.getValue());
                    check(Http.put(stack.openSearchUrl() + "/" + index, create), "create " + index);
                    long ticks = SinkBenchmark.cpuTicks(pid);
                    long t0 = System.nanoTime();
                    for (byte[] body : bodies) {
                        HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create(stack.openSearchUrl() + "/" + index + "/_bulk"))
                                .header("Content-Type", "application/x-ndjson").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                                HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() != 200 || r.body().startsWith("{\"took\":") && r.body().contains("\"errors\":true")) {
                            throw new IllegalStateException("bulk failed: " + r.body().substring(0, Math.min(500, r.body().length())));
                        }
                    }
                    double load = (System.nanoTime() - t0) / 1e9;
                    Http.post(stack.openSearchUrl() + "/" + index + "/_refresh", null);
                    while (Http.get(stack.openSearchUrl() + "/" + index + "/_stats/merge").body().at("/_all/total/merges/current").asLong() > 0) {
                        Thread.sleep(200);
                    }
                    double seconds = (SinkBenchmark.cpuTicks(pid) - ticks) / 100.0;
                    JsonNode stats = Http.get(stack.openSearchUrl() + "/" + index + "/_stats/docs,store").body().at("/_all/primaries");
                    if (stats.at("/docs/count").asLong() != docs) {
                        throw new IllegalStateException(index + " holds " + stats.at("/docs/count") + " documents, not " + docs);
                    }
                    System.out.printf("round %d  %-44s load %5.1f s (%,6.0f docs/s); OpenSearch %5.1f CPU-s (%5.1f per 1M docs); store %,.1f MB%n",
                            round, v.getKey(), load, docs / load, seconds, seconds * 1e6 / docs, stats.at("/store/size_in_bytes").asLong() / 1e6);
                    if (round > 0) {
                        cpu.computeIfAbsent(v.getKey(), k -> new ArrayList<>()).add(seconds * 1e6 / docs);
                    }
                    Http.deleteIndex(stack.openSearchUrl(), index);
                }
            }
            cpu.forEach((k, v) -> System.out.printf("median OpenSearch CPU per 1M documents, %-44s %5.1f s (rounds 1-%d: %s)%n", k,
                    v.stream().sorted().toList().get(v.size() / 2), rounds, v.stream().map(d -> String.format("%.1f", d)).toList()));
        }
    }

    /** The products' mapping, as derived from their columns, and the lineage object's, as the sink maps it. */
    private static ObjectNode mappings(boolean searchableKeywords) throws Exception {
        ObjectNode m = (ObjectNode) Http.JSON.readTree(IndexDefinition.mappings("""
                {"properties": {"id": {"type": "long"}, "price": {"type": "double"}, "attrs": {"type": "flat_object"},
                 "name": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
                 "tags": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
                 "updated_at": {"type": "date_nanos"}, "active": {"type": "boolean"}}}""", "lockstep"));
        if (searchableKeywords) {
            for (String field : new String[] {"hash", "id"}) {
                ((ObjectNode) m.at("/properties/lockstep/properties")).putObject(field).put("type", "keyword");
            }
        }
        return m;
    }

    /** The sink benchmark's products (SinkBenchmark's INSERT), as the sink sends them, in bulk bodies. */
    private static List<byte[]> bodies(int docs) {
        SplittableRandom random = new SplittableRandom(7);
        List<byte[]> bodies = new ArrayList<>();
        StringBuilder b = new StringBuilder();
        for (int g = 1; g <= docs; g++) {
            long hash = random.nextLong();
            b.append("{\"index\":{\"_id\":\"").append(g).append("\",\"version\":").append(g).append(",\"version_type\":\"external_gte\"}}\n")
                    .append("{\"id\":").append(g).append(",\"name\":\"Stainless steel kettle ").append(g).append("\",\"price\":\"")
                    .append(g % 10000).append(".90\",\"tags\":[\"kitchen\",\"steel\",\"tag-").append(g % 100)
                    .append("\"],\"attrs\":{\"colour\":\"silver\",\"watts\":").append(1000 + g % 3000)
                    .append("},\"updated_at\":\"2026-01-05T09:30:00.000000Z\",\"active\":").append(g % 2 == 0)
                    .append(",\"lockstep\":{\"hash\":\"").append(String.format("%016x", hash)).append("\",\"hash_hi\":").append(hash >>> 32)
                    .append(",\"hash_lo\":").append(hash & 0xffffffffL).append(",\"version\":").append(g).append(",\"commit_lsn\":")
                    .append(151_630_912L + g).append(",\"txid\":").append(789 + g).append(",\"source_ts_ms\":").append(1_796_402_237_110L + g)
                    .append(",\"id\":\"").append(g).append("\",\"indexed_at\":").append(1_796_402_237_225L + g).append("}}\n");
            if (g % BULK == 0 || g == docs) {
                bodies.add(b.toString().getBytes(StandardCharsets.UTF_8));
                b.setLength(0);
            }
        }
        return bodies;
    }

    private static void check(Http.Response r, String what) {
        if (r.status() != 200) {
            throw new IllegalStateException(what + ": " + r.status() + " " + r.text());
        }
    }
}
