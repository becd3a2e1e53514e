package dev.lockstep.reconcile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockstep.sink.IndexVersions;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds a table's index into its next version behind the alias users search, without a gap:
 * <ol>
 *   <li>creates {@code <name>_v<n+1>} with the current mapping, the fields the sink could not remap in place
 *       ({@code _meta.lockstep.rebuild}) and the request's mappings and settings; refresh off, no replicas while it fills;</li>
 *   <li>adds it to the write alias {@code <name>.writes}, so every sink task writes the stream to both versions, and
 *       waits until every task has read its targets again;</li>
 *   <li>fills it from the current version (scrolled pages, bulks; each document at its own external version, so a
 *       newer one the stream wrote first is kept);</li>
 *   <li>verifies it against PostgreSQL with a reconciler run (repairs go through the topics, to both versions), up to
 *       {@code rebuild.verify.attempts} runs until one is verified;</li>
 *   <li>moves the search alias and the write alias to it in one atomic {@code _aliases} request, and marks the old version
 *       retired; it is deleted after {@code rebuild.grace.ms} ({@link #deleteRetired}).</li>
 * </ol>
 * An index made before versioning ({@code <name>} itself) is rebuilt into {@code <name>_v1}, and the same atomic request
 * removes it while it adds the alias. A rebuild that fails leaves the search alias where it was and deletes the
 * unfinished version. Every step can be run again: one left over by a stopped task is deleted before the next starts.
 */
final class IndexRebuild {
    private static final Logger LOG = LoggerFactory.getLogger(IndexRebuild.class);
    private static final int COPY_PAGE = 2_000;
    /** Settings of an index that belong to it alone, not copied into its next version. */
    private static final List<String> OWN_SETTINGS = List.of("index.uuid", "index.creation_date", "index.provided_name", "index.version.",
            "index.routing.allocation.initial_recovery.", "index.resize.", "index.blocks.", "index.history.uuid");

    /** What a rebuild is asked to change: the mappings and settings given to the REST request (either may be null). */
    record Changes(JsonNode mappings, JsonNode settings) {
        static final Changes NONE = new Changes(null, null);
    }

    /** Runs the reconciler against an index; true when the run was verified (every mismatch repaired and validated). */
    @FunctionalInterface
    interface Verifier {
        boolean verify(String index, int attempt) throws InterruptedException;
    }

    /** The state of one rebuild, as {@code GET /lockstep/reconcile/{connector}/rebuilds} shows it. */
    static final class Status {
        final String table;
        final String name;
        final String trigger;
        final long startedAt = System.currentTimeMillis();
        volatile String phase = "starting";
        volatile String from;
        volatile String to;
        volatile long copied;
        /** Documents not copied because the stream had already written them (or a newer version) into the new index. */
        volatile long newer;
        volatile int verificationRuns;
        volatile long endedAt;
        volatile String error;

        Status(String table, String name, String trigger) {
            this.table = table;
            this.name = name;
            this.trigger = trigger;
        }

        ObjectNode toJson() {
            ObjectNode o = SearchSide.JSON.createObjectNode().put("table", table).put("alias", name).put("trigger", trigger)
                    .put("phase", phase).put("from", from).put("to", to).put("documents_copied", copied).put("documents_newer", newer)
                    .put("verification_runs", verificationRuns).put("started_at", Instant.ofEpochMilli(startedAt).toString());
            if (endedAt > 0) {
                o.put("ended_at", Instant.ofEpochMilli(endedAt).toString());
            }
            if (error != null) {
                o.put("error", error);
            }
            return o;
        }
    }

    private final SearchSide search;
    private final ReconcileConfig config;

    IndexRebuild(SearchSide search, ReconcileConfig config) {
        this.search = search;
        this.config = config;
    }

    /** The fields the sink asked to remap ({@code _meta.lockstep.rebuild.fields} of the index behind {@code name}), or null. */
    JsonNode requested(String name) throws IOException {
        JsonNode answer = search.call("GET", "/" + name + "/_mapping", null, 404);
        if (answer == null || !answer.elements().hasNext()) {
            return null;
        }
        JsonNode fields = answer.elements().next().path("mappings").path("_meta").path("lockstep").path("rebuild").path("fields");
        return fields.isObject() && !fields.isEmpty() ? fields : null;
    }

    /** Rebuilds the index {@code status.name}; throws when it cannot, with the search alias left as it was. */
    void run(Status status, Changes changes, Verifier verifier) throws Exception {
        String name = status.name;
        String writes = IndexVersions.writeAlias(name);
        JsonNode aliased = search.call("GET", "/_alias/" + enc(name), null, 404);
        String current;
        boolean legacy;
        if (aliased != null) {
            List<String> behind = names(aliased);
            if (behind.size() != 1) {
                throw new IllegalStateException("the alias " + name + " points to " + behind + "; a rebuild needs it on exactly one index");
            }
            current = behind.get(0);
            legacy = false;
        } else if (search.call("HEAD", "/" + enc(name), null, 404) != null) {
            current = name;
            legacy = true;
        } else {
            throw new IllegalStateException("there is no index " + name + " to rebuild (the sink creates it with the first document)");
        }
        status.from = current;
        // A version left behind by a rebuild that stopped half-way is in the write alias but not behind the search alias.
        JsonNode writers = search.call("GET", "/_alias/" + enc(writes), null, 404);
        for (String leftover : writers == null ? List.<String>of() : names(writers)) {
            if (!leftover.equals(current)) {
                LOG.warn("Rebuild of {}: deleting {}, left unfinished by an earlier rebuild", name, leftover);
                search.call("DELETE", "/" + enc(leftover), null, 404);
            }
        }
        String next = IndexVersions.next(name, current, existingVersions(name));
        status.to = next;

        status.phase = "creating";
        JsonNode mapping = search.call("GET", "/" + enc(current) + "/_mapping", null).elements().next().path("mappings");
        ObjectNode mappings = nextMappings(mapping, changes.mappings(), current);
        ObjectNode settings = nextSettings(withoutFirstLoad(search.call("GET", "/" + enc(current) + "/_settings?flat_settings=true", null)
                .elements().next().path("settings"), mapping), changes.settings());
        JsonNode refresh = settings.remove("index.refresh_interval");
        JsonNode replicas = settings.remove("index.number_of_replicas");
        settings.put("index.refresh_interval", "-1").put("index.number_of_replicas", 0);
        // The current version joins the write alias first: once the next one is in it, the sink writes both.
        aliases(action("add", current, writes));
        ObjectNode create = SearchSide.JSON.createObjectNode();
        create.set("settings", settings);
        create.set("mappings", mappings);
        create.putObject("aliases").putObject(writes);
        boolean swapped = false;
        try {
            search.call("PUT", "/" + enc(next), create);
            LOG.info("Rebuild of {}: created {} (from {}); the sink writes the stream to both", name, next, current);
            status.phase = "awaiting writers";
            Thread.sleep(3 * IndexVersions.TARGETS_REFRESH_MS + 500);

            status.phase = "copying";
            copy(status, current, next);
            ObjectNode restore = SearchSide.JSON.createObjectNode();
            restore.set("index.refresh_interval", refresh == null ? SearchSide.JSON.nullNode() : refresh);
            restore.set("index.number_of_replicas", replicas == null ? SearchSide.JSON.nullNode() : replicas);
            search.call("PUT", "/" + enc(next) + "/_settings", restore);
            search.call("POST", "/" + enc(next) + "/_refresh", null);

            status.phase = "verifying";
            int attempts = config.getInt(ReconcileConfig.REBUILD_VERIFY_ATTEMPTS);
            boolean verified = false;
            for (int attempt = 1; attempt <= attempts && !verified; attempt++) {
                status.verificationRuns = attempt;
                verified = verifier.verify(next, attempt);
            }
            if (!verified) {
                throw new IllegalStateException(next + " was not verified in " + attempts + " reconciler runs (their reports are in the "
                        + "audit trail, trigger 'rebuild'); the alias " + name + " stays on " + current);
            }

            status.phase = "swapping";
            ArrayNode actions = SearchSide.JSON.createArrayNode();
            actions.add(action("add", next, name));
            if (legacy) {
                // The old index has the name the alias takes: removed in the same atomic request.
                actions.addObject().putObject("remove_index").put("index", current);
            } else {
                actions.add(action("remove", current, name));
                actions.add(action("remove", current, writes));
            }
            aliases(actions);
            swapped = true;
            if (!legacy) {
                retire(current, next, mapping);
            }
            LOG.info("Rebuild of {}: the alias now points to {}; {} is deleted after {} ms", name, next, legacy ? "nothing" : current,
                    config.getLong(ReconcileConfig.REBUILD_GRACE_MS));
            status.phase = "done";
        } finally {
            if (!swapped) {
                status.phase = "failed";
                try {
                    search.call("DELETE", "/" + enc(next), null, 404);
                } catch (IOException | RuntimeException e) {
                    LOG.warn("Rebuild of {}: cannot delete the unfinished {}: {}", name, next, e.toString());
                }
            }
            status.endedAt = System.currentTimeMillis();
        }
    }

    /**
     * Copies every document of {@code from} into {@code to} at its own version ({@code external}: a newer one the
     * stream wrote first is kept), in scrolled pages and bulks. Not {@code _reindex}: its module is not on every node.
     */
    private void copy(Status status, String from, String to) throws IOException {
        long started = System.currentTimeMillis();
        ObjectNode query = SearchSide.JSON.createObjectNode().put("size", COPY_PAGE).put("version", true);
        query.putArray("sort").add("_doc");
        JsonNode page = search.call("POST", "/" + enc(from) + "/_search?scroll=5m", query);
        String scroll = page.path("_scroll_id").asText();
        long failures = 0;
        try {
            while (page.path("hits").path("hits").size() > 0) {
                StringBuilder bulk = new StringBuilder();
                for (JsonNode hit : page.path("hits").path("hits")) {
                    ObjectNode action = SearchSide.JSON.createObjectNode();
                    action.putObject("index").put("_index", to).put("_id", hit.path("_id").asText())
                            .put("version", hit.path("_version").asLong()).put("version_type", "external");
                    bulk.append(action).append('\n').append(hit.path("_source")).append('\n');
                }
                for (JsonNode item : search.bulk(bulk.toString()).path("items")) {
                    JsonNode result = item.path("index");
                    if (result.path("status").asInt() == 409) {
                        status.newer++;
                    } else if (result.path("status").asInt() >= 300) {
                        // A document the new mapping rejects: the verification finds it missing; say why here.
                        if (failures++ == 0) {
                            LOG.warn("Rebuild: {} rejects document {} of {}: {}", to, result.path("_id").asText(), from, result.path("error"));
                        }
                    } else {
                        status.copied++;
                    }
                }
                ObjectNode next = SearchSide.JSON.createObjectNode().put("scroll", "5m").put("scroll_id", scroll);
                page = search.call("POST", "/_search/scroll", next);
                scroll = page.path("_scroll_id").asText(scroll);
            }
        } finally {
            ObjectNode clear = SearchSide.JSON.createObjectNode();
            clear.putArray("scroll_id").add(scroll);
            search.call("DELETE", "/_search/scroll", clear, 404);
        }
        LOG.info("Rebuild: copied {} documents from {} into {} in {} ms ({} newer there already, {} rejected)", status.copied, from, to,
                System.currentTimeMillis() - started, status.newer, failures);
    }

    /** The next version's mappings: the current ones, the sink's requested fields, then the request's own. */
    static ObjectNode nextMappings(JsonNode current, JsonNode requestMappings, String rebuiltFrom) {
        ObjectNode out = current.isObject() ? (ObjectNode) current.deepCopy() : SearchSide.JSON.createObjectNode();
        ObjectNode properties = out.has("properties") ? (ObjectNode) out.get("properties") : out.putObject("properties");
        JsonNode requested = current.path("_meta").path("lockstep").path("rebuild").path("fields");
        requested.fields().forEachRemaining(f -> properties.set(f.getKey(), f.getValue().path("mapping")));
        if (requestMappings != null && requestMappings.isObject()) {
            requestMappings.fields().forEachRemaining(e -> {
                if (e.getKey().equals("properties")) {
                    e.getValue().fields().forEachRemaining(f -> properties.set(f.getKey(), f.getValue()));
                } else {
                    out.set(e.getKey(), e.getValue());
                }
            });
        }
        // The column types the fields are mapped from go along, updated for the remapped fields; the request is done.
        ObjectNode meta = out.has("_meta") && out.get("_meta").isObject() ? (ObjectNode) out.get("_meta") : out.putObject("_meta");
        JsonNode before = meta.path("lockstep").path("column_types");
        ObjectNode lockstep = SearchSide.JSON.createObjectNode().put("rebuilt_from", rebuiltFrom).put("rebuilt_at", System.currentTimeMillis());
        ObjectNode columnTypes = lockstep.putObject("column_types");
        before.fields().forEachRemaining(e -> columnTypes.set(e.getKey(), e.getValue()));
        requested.fields().forEachRemaining(f -> columnTypes.set(f.getKey(), f.getValue().path("column_type")));
        meta.set("lockstep", lockstep);
        return out;
    }

    /**
     * The current version's settings without those the sink set only while a snapshot first filled it (the keys its
     * {@code _meta.lockstep.first_load} names): a rebuild during that load must not keep them for good.
     */
    static JsonNode withoutFirstLoad(JsonNode flatSettings, JsonNode mapping) {
        JsonNode keys = mapping.path("_meta").path("lockstep").path("first_load").path("settings");
        if (!keys.isArray() || keys.isEmpty() || !flatSettings.isObject()) {
            return flatSettings;
        }
        ObjectNode own = flatSettings.deepCopy();
        keys.forEach(k -> own.remove(k.asText()));
        return own;
    }

    /** The next version's settings: the current index's own (minus what is its alone), then the request's. */
    static ObjectNode nextSettings(JsonNode flatCurrent, JsonNode requestSettings) {
        ObjectNode out = SearchSide.JSON.createObjectNode();
        flatCurrent.fields().forEachRemaining(e -> {
            if (OWN_SETTINGS.stream().noneMatch(own -> own.endsWith(".") ? e.getKey().startsWith(own) : e.getKey().equals(own))) {
                out.set(e.getKey(), e.getValue());
            }
        });
        if (requestSettings != null && requestSettings.isObject()) {
            flatten("", requestSettings, out);
        }
        return out;
    }

    private static void flatten(String prefix, JsonNode node, ObjectNode out) {
        node.fields().forEachRemaining(e -> {
            String key = prefix + e.getKey();
            if (e.getValue().isObject()) {
                flatten(key + ".", e.getValue(), out);
            } else {
                out.set(key.startsWith("index.") ? key : "index." + key, e.getValue());
            }
        });
    }

    /** Marks the replaced version retired (its _meta), so any later run deletes it once the grace period is over. */
    private void retire(String old, String next, JsonNode mapping) throws IOException {
        ObjectNode meta = mapping.path("_meta").isObject() ? (ObjectNode) mapping.path("_meta").deepCopy() : SearchSide.JSON.createObjectNode();
        meta.putObject("lockstep").put("retired_at", System.currentTimeMillis()).put("replaced_by", next);
        ObjectNode body = SearchSide.JSON.createObjectNode();
        body.set("_meta", meta);
        search.call("PUT", "/" + enc(old) + "/_mapping", body);
    }

    /**
     * Deletes the retired versions of {@code name} whose grace period is over and that no alias of it points to:
     * searches still running on an old version had that long to finish.
     */
    void deleteRetired(String name) throws IOException {
        JsonNode versions = search.call("GET", "/" + enc(name) + "_v*/_mapping", null, 404);
        if (versions == null) {
            return;
        }
        long grace = config.getLong(ReconcileConfig.REBUILD_GRACE_MS);
        for (Iterator<Map.Entry<String, JsonNode>> it = versions.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            long retiredAt = e.getValue().path("mappings").path("_meta").path("lockstep").path("retired_at").asLong(0);
            if (retiredAt == 0 || System.currentTimeMillis() - retiredAt < grace || !IndexVersions.isVersionOf(name, e.getKey())) {
                continue;
            }
            JsonNode aliases = search.call("GET", "/" + enc(e.getKey()) + "/_alias", null).path(e.getKey()).path("aliases");
            if (aliases.has(name) || aliases.has(IndexVersions.writeAlias(name))) {
                continue; // moved back by hand: not retired any more
            }
            search.call("DELETE", "/" + enc(e.getKey()), null, 404);
            LOG.info("Deleted {}, replaced as {} {} ms ago", e.getKey(), name, System.currentTimeMillis() - retiredAt);
        }
    }

    private List<String> existingVersions(String name) throws IOException {
        JsonNode found = search.call("GET", "/" + enc(name) + "_v*/_alias", null, 404);
        return found == null ? List.of() : names(found);
    }

    private void aliases(JsonNode actions) throws IOException {
        ObjectNode body = SearchSide.JSON.createObjectNode();
        if (actions.isArray()) {
            body.set("actions", actions);
        } else {
            body.putArray("actions").add(actions);
        }
        search.call("POST", "/_aliases", body);
    }

    private static ObjectNode action(String verb, String index, String alias) {
        ObjectNode a = SearchSide.JSON.createObjectNode();
        a.putObject(verb).put("index", index).put("alias", alias);
        return a;
    }

    private static List<String> names(JsonNode byIndex) {
        List<String> out = new ArrayList<>();
        byIndex.fieldNames().forEachRemaining(n -> {
            if (!n.equals("error") && !n.equals("status")) {
                out.add(n);
            }
        });
        return out;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
