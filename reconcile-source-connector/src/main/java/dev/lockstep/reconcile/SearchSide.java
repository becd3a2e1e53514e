package dev.lockstep.reconcile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockstep.sink.OpenSearchClients;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.opensearch.client.opensearch.OpenSearchClient;
import org.opensearch.client.opensearch.generic.Body;
import org.opensearch.client.opensearch.generic.Request;
import org.opensearch.client.opensearch.generic.Requests;
import org.opensearch.client.opensearch.generic.Response;

/**
 * The reconciler's reads of OpenSearch. Segment checksums are computed on the node: per key range a count and the
 * sums of the lineage's {@code hash_hi}/{@code hash_lo} (exact: doubles hold sums of up to 2^21 halves), many
 * ranges per request, against a point-in-time so that every request of a run sees the same index. Documents are
 * fetched only for small segments and by id.
 */
final class SearchSide implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    /** OpenSearch's default index.max_result_window: the most documents one leaf search returns. */
    static final int MAX_LEAF_DOCS = 10_000;

    private final OpenSearchClient client;
    private final String lineage;

    SearchSide(ReconcileConfig config) {
        this.client = OpenSearchClients.create(config.openSearchConfig());
        String field = config.getString(dev.lockstep.smt.ToSearchDocument.METADATA_FIELD_CONFIG);
        this.lineage = field == null || field.isBlank() ? "lockstep" : field;
    }

    /** A point-in-time of one index, and the path of the field that ranges over the table's first key column. */
    record View(String index, String pit, String keyPath) {
    }

    /** Opens a point-in-time of the table's index; {@code null} when the index does not exist yet. */
    View open(TableSpec table) throws IOException {
        JsonNode mapping = call("GET", "/" + table.index + "/_mapping/field/" + table.keyField + "," + table.keyField + ".keyword", null, 404);
        if (mapping == null) {
            return null;
        }
        // keyed by the concrete index: for an alias (a versioned index) not the name asked for
        java.util.Iterator<JsonNode> indices = mapping.elements();
        JsonNode fields = indices.hasNext() ? indices.next().path("mappings") : JSON.createObjectNode();
        String keyPath = table.keyField;
        if (table.keyKind != TableSpec.KeyKind.INTEGER) {
            String type = fields.path(table.keyField).path("mapping").path(leaf(table.keyField)).path("type").asText();
            if (!type.equals("keyword")) {
                if (fields.has(table.keyField + ".keyword")) {
                    keyPath = table.keyField + ".keyword";
                } else if (!fields.isEmpty()) {
                    throw new IllegalStateException("index " + table.index + ": field '" + table.keyField + "' (the key of " + table
                            + ") is mapped as " + type + " without a keyword subfield; map it as keyword so key ranges can be compared");
                }
            }
        }
        awaitShards(table.index);
        // A search sees what the last refresh made visible; one refresh per run makes the view current, so a change
        // indexed just before the run is compared rather than left to the settle re-check or the next run.
        call("POST", "/" + table.index + "/_refresh", null);
        JsonNode pit = call("POST", "/" + table.index + "/_search/point_in_time?keep_alive=10m", null);
        return new View(table.index, pit.path("pit_id").asText(), keyPath);
    }

    void close(View view) {
        if (view == null) {
            return;
        }
        try {
            ObjectNode body = JSON.createObjectNode();
            body.putArray("pit_id").add(view.pit());
            call("DELETE", "/_search/point_in_time", body);
        } catch (IOException | RuntimeException ignored) {
            // it expires by itself
        }
    }

    /** Count and hash sums of each segment, in one request; the segments are contiguous, in key order. */
    List<Observed.Checksum> checksums(View view, List<Segment> segments) throws IOException {
        List<Observed.Checksum> out = new ArrayList<>();
        if (view == null) {
            segments.forEach(s -> out.add(Observed.Checksum.EMPTY));
            return out;
        }
        ObjectNode body = search(view, 0);
        // The filters aggregation visits every document the query matches: the query narrows it to the segments'
        // span (they are contiguous), or a small segment would cost a pass over the whole index.
        body.set("query", range(view, new Segment(segments.get(0).lo(), segments.get(segments.size() - 1).hi())));
        ObjectNode filters = body.putObject("aggs").putObject("s").putObject("filters").putObject("filters");
        for (int i = 0; i < segments.size(); i++) {
            filters.set(String.valueOf(i), range(view, segments.get(i)));
        }
        ObjectNode sums = ((ObjectNode) body.get("aggs").get("s")).putObject("aggs");
        sums.putObject("hi").putObject("sum").put("field", lineage + ".hash_hi");
        sums.putObject("lo").putObject("sum").put("field", lineage + ".hash_lo");
        JsonNode buckets = call("POST", "/_search", body).path("aggregations").path("s").path("buckets");
        for (int i = 0; i < segments.size(); i++) {
            JsonNode b = buckets.path(String.valueOf(i));
            out.add(new Observed.Checksum(b.path("doc_count").asLong(), (long) b.path("hi").path("value").asDouble(),
                    (long) b.path("lo").path("value").asDouble()));
        }
        return out;
    }

    /**
     * The {@code count} documents of a (small) segment, with their _source when {@code withSource}, else the lineage
     * only (their field names are then unknown: the settle re-check reads whole documents).
     */
    List<Observed.Doc> docs(View view, Segment segment, long count, boolean withSource) throws IOException {
        if (view == null || count == 0) {
            return List.of();
        }
        // Sized to the segment's count (the point-in-time does not change): a larger size costs the node a larger
        // priority queue per search. Without whole documents, only the lineage travels.
        ObjectNode body = search(view, (int) Math.min(MAX_LEAF_DOCS, count));
        body.set("query", range(view, segment));
        body.put("version", true);
        if (!withSource) {
            body.putArray("_source").add(lineage + ".hash_hi").add(lineage + ".hash_lo").add(lineage + ".version").add(lineage + ".txid");
        }
        JsonNode hits = call("POST", "/_search", body).path("hits").path("hits");
        List<Observed.Doc> docs = new ArrayList<>();
        for (JsonNode hit : hits) {
            docs.add(doc(hit, withSource));
        }
        return docs;
    }

    /** Documents without the key field at all (added by hand, say): no key range holds them. */
    List<Observed.Doc> docsWithoutKey(View view, int limit) throws IOException {
        if (view == null) {
            return List.of();
        }
        ObjectNode body = search(view, limit);
        body.putObject("query").putObject("bool").putArray("must_not").addObject().putObject("exists").put("field", view.keyPath());
        body.put("version", true);
        List<Observed.Doc> docs = new ArrayList<>();
        for (JsonNode hit : call("POST", "/_search", body).path("hits").path("hits")) {
            docs.add(doc(hit, true));
        }
        return docs;
    }

    /** The documents with these ids that exist, read in real time (not from the point-in-time). */
    Map<String, Observed.Doc> docsById(String index, Collection<String> ids) throws IOException {
        Map<String, Observed.Doc> out = new LinkedHashMap<>();
        if (ids.isEmpty()) {
            return out;
        }
        ObjectNode body = JSON.createObjectNode();
        ArrayNode array = body.putArray("ids");
        ids.forEach(array::add);
        JsonNode response = call("POST", "/" + index + "/_mget", body, 404);
        if (response == null) {
            return out;
        }
        for (JsonNode d : response.path("docs")) {
            if (d.path("found").asBoolean()) {
                out.put(d.path("_id").asText(), doc(d, true));
            }
        }
        return out;
    }

    /**
     * The pipeline's recent commit-to-index latency: the largest {@code indexed_at - source_ts_ms} among the 50
     * documents indexed last (0 when unknown). While the pipeline lags, a change in flight can outlast a fixed
     * settle delay; the settle waits at least twice this.
     */
    long recentLatencyMs(String index) throws IOException {
        ObjectNode body = JSON.createObjectNode().put("size", 50);
        body.putArray("_source").add(lineage + ".indexed_at").add(lineage + ".source_ts_ms");
        body.putArray("sort").addObject().putObject(lineage + ".indexed_at").put("order", "desc").put("unmapped_type", "long");
        JsonNode response = call("POST", "/" + index + "/_search", body, 404);
        long max = 0;
        if (response != null) {
            for (JsonNode hit : response.path("hits").path("hits")) {
                JsonNode l = hit.path("_source").path(lineage);
                if (l.path("indexed_at").canConvertToLong() && l.path("source_ts_ms").canConvertToLong()) {
                    max = Math.max(max, l.path("indexed_at").asLong() - l.path("source_ts_ms").asLong());
                }
            }
        }
        return max;
    }

    /**
     * Waits (up to 30 s) until the index's primary shards are active: an index the sink has just created answers
     * searches with 503 until then. Returns at once for an index that does not exist.
     */
    void awaitShards(String index) throws IOException {
        if (call("HEAD", "/" + index, null, 404) == null) {
            return;
        }
        // 408 when the shards are still not active after 30 s: the search that follows reports it
        call("GET", "/_cluster/health/" + index + "?wait_for_status=yellow&timeout=30s", null, 408);
    }

    /** The highest lineage version the index holds (0 for none): the floor of every repair's version. */
    long maxVersion(String index) throws IOException {
        ObjectNode body = JSON.createObjectNode().put("size", 0);
        body.putObject("aggs").putObject("v").putObject("max").put("field", lineage + ".version");
        JsonNode response;
        for (int attempt = 1;; attempt++) {
            awaitShards(index);
            try {
                response = call("POST", "/" + index + "/_search", body, 404);
                break;
            } catch (IOException e) {
                // The sink may create the index between the check and the search (a first load): its shards start.
                if (attempt == 3 || !String.valueOf(e.getMessage()).contains("503")) {
                    throw e;
                }
            }
        }
        JsonNode value = response == null ? null : response.path("aggregations").path("v").path("value");
        return value == null || value.isNull() || value.isMissingNode() ? 0 : (long) value.asDouble();
    }

    /**
     * Creates the audit index unless it exists: field differences hold values of any type under one name (a number
     * in one report, text in the next), so they are stored but not indexed; ids, classes and counts stay searchable.
     */
    void ensureAuditIndex(String index) throws IOException {
        if (call("HEAD", "/" + index, null, 404) != null) {
            return;
        }
        ObjectNode body = JSON.createObjectNode();
        ObjectNode mappings = body.putObject("mappings");
        ObjectNode template = mappings.putArray("dynamic_templates").addObject().putObject("field_differences");
        template.put("path_match", "table.mismatches.*.ids.fields");
        template.putObject("mapping").put("type", "object").put("enabled", false);
        ObjectNode props = mappings.putObject("properties");
        props.putObject("run_id").put("type", "keyword");
        props.putObject("connector").put("type", "keyword");
        props.putObject("trigger").put("type", "keyword");
        props.putObject("started_at").put("type", "date");
        props.putObject("ended_at").put("type", "date");
        props.putObject("verified_through").put("type", "date");
        props.putObject("last_successful_validation").put("type", "date");
        props.putObject("table").putObject("properties").putObject("table").put("type", "keyword");
        try {
            call("PUT", "/" + index, body);
        } catch (IOException e) {
            if (!String.valueOf(e.getMessage()).contains("resource_already_exists_exception")) {
                throw e;
            }
        }
    }

    /** Writes a document (the audit trail). */
    void put(String index, String id, JsonNode document) throws IOException {
        call("PUT", "/" + index + "/_doc/" + java.net.URLEncoder.encode(id, java.nio.charset.StandardCharsets.UTF_8) + "?refresh=true", document);
    }

    /** Sends a bulk request (NDJSON); its answer, whose items say what became of each operation. */
    JsonNode bulk(String ndjson) throws IOException {
        Request request = Requests.builder().method("POST").endpoint("/_bulk")
                .body(Body.from(ndjson.getBytes(java.nio.charset.StandardCharsets.UTF_8), "application/x-ndjson")).build();
        try (Response response = client.generic().execute(request)) {
            byte[] bytes = response.getBody().map(Body::bodyAsBytes).orElse(new byte[0]);
            if (response.getStatus() >= 300) {
                throw new IOException("POST /_bulk answered " + response.getStatus() + ": "
                        + new String(bytes, 0, Math.min(bytes.length, 500), java.nio.charset.StandardCharsets.UTF_8));
            }
            return JSON.readTree(bytes);
        }
    }

    /** Runs a search on an index (the REST resource reads the audit trail with it). */
    JsonNode search(String index, JsonNode body) throws IOException {
        return call("POST", "/" + index + "/_search", body, 404);
    }

    private Observed.Doc doc(JsonNode hit, boolean withSource) {
        JsonNode source = hit.path("_source");
        JsonNode l = source.path(lineage);
        Set<String> fields = new LinkedHashSet<>();
        for (Iterator<String> it = source.fieldNames(); it.hasNext();) {
            String f = it.next();
            if (!f.equals(lineage)) {
                fields.add(f);
            }
        }
        return new Observed.Doc(hit.path("_id").asText(), l.path("hash_hi").asLong(-1), l.path("hash_lo").asLong(-1),
                l.path("version").asLong(-1), hit.path("_version").asLong(-1), l.hasNonNull("txid") ? l.get("txid").asLong() : null,
                fields, withSource ? source : null);
    }

    private ObjectNode search(View view, int size) {
        ObjectNode body = JSON.createObjectNode().put("size", size).put("track_total_hits", false);
        body.putObject("pit").put("id", view.pit()).put("keep_alive", "10m");
        return body;
    }

    private static ObjectNode range(View view, Segment segment) {
        ObjectNode query = JSON.createObjectNode();
        ObjectNode r = query.putObject("range").putObject(view.keyPath());
        if (segment.lo() instanceof Long l) {
            r.put("gte", l);
        } else if (segment.lo() != null) {
            r.put("gte", segment.lo().toString());
        }
        if (segment.hi() instanceof Long l) {
            r.put("lt", l);
        } else if (segment.hi() != null) {
            r.put("lt", segment.hi().toString());
        }
        if (segment.lo() == null && segment.hi() == null) {
            return (ObjectNode) JSON.createObjectNode().set("exists", JSON.createObjectNode().put("field", view.keyPath()));
        }
        return query;
    }

    private static String leaf(String path) {
        return path.substring(path.lastIndexOf('.') + 1);
    }

    JsonNode call(String method, String path, JsonNode body) throws IOException {
        return call(method, path, body, -1);
    }

    /** A request; {@code null} when the answer is {@code nullStatus}, an IOException for any other failure. */
    JsonNode call(String method, String path, JsonNode body, int nullStatus) throws IOException {
        String endpoint = path;
        Map<String, String> query = new LinkedHashMap<>();
        int q = path.indexOf('?');
        if (q >= 0) {
            endpoint = path.substring(0, q);
            for (String pair : path.substring(q + 1).split("&")) {
                int eq = pair.indexOf('=');
                query.put(pair.substring(0, eq), pair.substring(eq + 1));
            }
        }
        var builder = Requests.builder().method(method).endpoint(endpoint).query(query);
        if (body != null) {
            builder.body(Body.from(JSON.writeValueAsBytes(body), "application/json"));
        }
        Request request = builder.build();
        try (Response response = client.generic().execute(request)) {
            byte[] bytes = response.getBody().map(Body::bodyAsBytes).orElse(new byte[0]);
            if (response.getStatus() == nullStatus) {
                return null;
            }
            if (response.getStatus() >= 300) {
                throw new IOException(method + " " + path + " answered " + response.getStatus() + ": "
                        + new String(bytes, 0, Math.min(bytes.length, 500), java.nio.charset.StandardCharsets.UTF_8));
            }
            return bytes.length == 0 ? JSON.createObjectNode() : JSON.readTree(bytes);
        }
    }

    @Override
    public void close() {
        try {
            client._transport().close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
