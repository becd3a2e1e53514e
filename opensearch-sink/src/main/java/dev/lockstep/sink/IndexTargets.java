package dev.lockstep.sink;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.opensearch.client.opensearch.OpenSearchClient;
import org.opensearch.client.opensearch.generic.Response;

/**
 * Which concrete indices a record for an index name goes to. A versioned index ({@code products_v1}, the name
 * {@code products} being an alias) also carries the write alias {@code products.writes}: the sink writes to every
 * index behind it. While the reconciler rebuilds an index into its next version, the write alias holds both versions,
 * so the stream keeps both current; the search alias moves to the new version only once it is verified. Without a
 * write alias the name itself is the target (an index made before versioning, or the user's own alias).
 *
 * <p>The targets are read again at most every {@link IndexVersions#TARGETS_REFRESH_MS}, in one request for every name that needs it,
 * before the records that need them are queued: a rebuild that adds an index to the write alias waits longer than
 * that before it fills the new index, so every change queued after the fill began reaches both.
 */
final class IndexTargets {

    private final OpenSearchClient client;
    private final Map<String, Resolved> byName = new HashMap<>();
    private final java.util.Set<String> refusedWarned = new java.util.HashSet<>();
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(IndexTargets.class);

    private record Resolved(List<String> indices, long readAtMs) {
    }

    IndexTargets(OpenSearchClient client) {
        this.client = client;
    }

    /** Whether the targets of {@code name} must be read before its records are queued. */
    boolean stale(String name, long nowMs) {
        Resolved r = byName.get(name);
        return r == null || nowMs - r.readAtMs >= IndexVersions.TARGETS_REFRESH_MS;
    }

    /** The concrete indices of {@code name} as last read (the name itself until read). */
    List<String> of(String name) {
        Resolved r = byName.get(name);
        return r == null ? List.of(name) : r.indices;
    }

    /**
     * Reads the write aliases of these names, in one request. When OpenSearch cannot answer, names read before keep
     * their targets (read again a refresh later): an outage is the bulks' to wait out, with backpressure, not a reason
     * to refuse records. Throws only for a name never read.
     */
    void refresh(Collection<String> names) throws IOException {
        if (names.isEmpty()) {
            return;
        }
        try {
            read(names);
        } catch (IOException | RuntimeException e) {
            long now = System.currentTimeMillis();
            if (!names.stream().allMatch(byName::containsKey)) {
                throw e;
            }
            names.forEach(name -> byName.put(name, new Resolved(byName.get(name).indices, now)));
        }
    }

    private void read(Collection<String> names) throws IOException {
        long now = System.currentTimeMillis();
        StringBuilder aliases = new StringBuilder();
        for (String name : names) {
            aliases.append(aliases.length() == 0 ? "" : ",").append(IndexVersions.writeAlias(name));
        }
        Map<String, List<String>> found = new HashMap<>();
        // A missing alias answers 404 with the found ones in the body, next to "error" and "status".
        Response sent;
        try {
            sent = GenericRequests.send(client, "GET", "/_alias/" + aliases, null);
        } catch (IOException e) {
            int status = OpenSearchClients.statusOf(e);
            if (status != 401 && status != 403) {
                throw e;
            }
            refused(names, aliases, status, now);
            return;
        }
        try (Response response = sent) {
            if (response.getStatus() == 401 || response.getStatus() == 403) {
                refused(names, aliases, response.getStatus(), now);
                return;
            }
            if (response.getStatus() >= 300 && response.getStatus() != 404) {
                throw new IOException("GET /_alias/" + aliases + " answered " + response.getStatus() + ": " + GenericRequests.bodyText(response));
            }
            JsonNode body = IndexDefinition.JSON.readTree(GenericRequests.bodyText(response));
            for (Iterator<Map.Entry<String, JsonNode>> it = body.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> index = it.next();
                if (index.getValue().has("aliases")) {
                    index.getValue().path("aliases").fieldNames()
                            .forEachRemaining(alias -> found.computeIfAbsent(alias, a -> new ArrayList<>()).add(index.getKey()));
                }
            }
        }
        // sorted, so the order of a record's operations is stable
        for (String name : names) {
            List<String> indices = found.get(IndexVersions.writeAlias(name));
            byName.put(name, new Resolved(indices == null ? List.of(name) : indices.stream().sorted().toList(), now));
        }
    }

    /** A user who may write documents but not read aliases: the names are written as they are. */
    private void refused(Collection<String> names, CharSequence aliases, int status, long now) {
        if (refusedWarned.add(aliases.toString())) {
            log.warn("The sink's user may not read the write aliases {} (status {}): records go to the index names as they are; "
                    + "grant indices:admin/aliases/get on them so rebuilds behind an alias reach this sink", aliases, status);
        }
        names.forEach(name -> byName.put(name, new Resolved(List.of(name), now)));
    }
}
