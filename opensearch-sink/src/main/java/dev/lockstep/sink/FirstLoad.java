package dev.lockstep.sink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockstep.smt.CommitLsnVersion;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.opensearch.client.opensearch.OpenSearchClient;
import org.opensearch.client.opensearch.generic.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An index the sink creates is filled by a snapshot first (Debezium's initial snapshot: every record carries the
 * snapshot version {@value CommitLsnVersion#SNAPSHOT}). Refreshing it every second meanwhile costs OpenSearch about as
 * much CPU as indexing (measured in docs/benchmarks.md), and on a small machine that CPU is the load's bound. So the
 * index is created with {@code index.first.load.settings} (by default a refresh every 30 s) for every key the user's
 * {@code index.settings} leaves unset, and those keys go back to the node's defaults (PUT _settings with null) with a
 * refresh when the load ends:
 * <ul>
 *   <li>at the index's first record that is not a snapshot read (the stream has begun), or</li>
 *   <li>once no snapshot read reached it for {@code index.first.load.idle.ms} and the task holds none of its operations
 *       (none waits, none is in flight: so the end's refresh covers the whole snapshot, and a task pausing its
 *       partitions for backpressure does not end the load).</li>
 * </ul>
 * The keys it changed are noted in the index's {@code _meta.lockstep.first_load} with the connector and task that
 * created it, so a task that restarts mid-load (or another task of the connector) finds the load and ends it the same
 * way; the note is removed at the end. A task records reach finds the note then; the creating task, restarted, also
 * looks for its notes when it starts, since it may have nothing left to consume once the whole snapshot was
 * committed (and would otherwise end the load only at the table's next change).
 */
final class FirstLoad implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FirstLoad.class);
    static final String META_KEY = "first_load";
    private static final long TICK_MS = 250;
    /** A load found at the start waits this long for the task's partitions before its idle time counts. */
    static final long ASSIGNMENT_GRACE_MS = 60_000;

    private final OpenSearchClient client;
    private final ObjectNode loadSettings;
    private final long idleMs;
    private final String connector;
    private final String task;
    /** Whether the task has had partitions assigned since it started. */
    private volatile boolean assigned;
    /** Held while _meta is read and written back, so this and {@link IndexFields}' _meta updates do not overwrite each other. */
    private final Object metaLock;
    /** concrete index -> its load; and the names records use for it (the alias until the targets are read). */
    private final Map<String, Load> loading = new ConcurrentHashMap<>();
    private final Map<String, String> concreteOf = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer;
    /** Whether the task holds an operation on one of these index names (waiting or in flight). */
    private volatile java.util.function.Predicate<java.util.Collection<String>> holds = names -> false;

    private static final class Load {
        final String concrete;
        final List<String> keys;
        volatile long lastSnapshotReadMs;

        Load(String concrete, List<String> keys, long now) {
            this.concrete = concrete;
            this.keys = keys;
            this.lastSnapshotReadMs = now;
        }
    }

    /**
     * @param loadSettings the settings an index gets for its first load (flat or nested keys, with or without the
     *                     {@code index.} prefix); empty: no first-load settings
     * @param userSettings the user's {@code index.settings}: keys set there are left alone
     */
    FirstLoad(OpenSearchClient client, JsonNode loadSettings, JsonNode userSettings, long idleMs, Object metaLock, String connector,
            String task, String threadName) {
        this.client = client;
        this.idleMs = idleMs;
        this.connector = connector;
        this.task = task;
        this.metaLock = metaLock;
        Map<String, JsonNode> user = flatten(userSettings);
        this.loadSettings = IndexDefinition.JSON.createObjectNode();
        flatten(loadSettings).forEach((key, value) -> {
            if (!user.containsKey(key)) {
                this.loadSettings.set(key, value);
            }
        });
        // Also without first-load settings of its own: an index made under earlier settings may be found mid-load.
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::endIdle, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
        if (client != null) {
            timer.execute(this::resumeOwnLoads);
        }
    }

    /**
     * Adds the first-load settings and the note naming them to the body of {@code PUT /<concrete>}. Returns the keys
     * set (none when there are no first-load settings).
     */
    List<String> prepareCreate(ObjectNode body) {
        List<String> keys = new ArrayList<>();
        if (loadSettings.isEmpty()) {
            return keys;
        }
        ObjectNode settings = body.has("settings") && body.get("settings").isObject() ? (ObjectNode) body.get("settings") : body.putObject("settings");
        // flat keys next to the user's (nested or flat): OpenSearch flattens both; none of these keys is the user's
        loadSettings.fields().forEachRemaining(e -> {
            settings.set(e.getKey(), e.getValue());
            keys.add(e.getKey());
        });
        ObjectNode mappings = body.has("mappings") && body.get("mappings").isObject() ? (ObjectNode) body.get("mappings") : body.putObject("mappings");
        ObjectNode meta = mappings.has("_meta") && mappings.get("_meta").isObject() ? (ObjectNode) mappings.get("_meta") : mappings.putObject("_meta");
        ObjectNode lockstep = meta.has("lockstep") && meta.get("lockstep").isObject() ? (ObjectNode) meta.get("lockstep") : meta.putObject("lockstep");
        ObjectNode note = lockstep.putObject(META_KEY);
        keys.forEach(note.putArray("settings")::add);
        note.put("started_ms", System.currentTimeMillis());
        note.put("connector", connector);
        note.put("task", task);
        return keys;
    }

    /** The sink created {@code concrete} (known to records as {@code name}) with these first-load settings. */
    void started(String name, String concrete, List<String> keys) {
        if (keys.isEmpty()) {
            return;
        }
        loading.put(concrete, new Load(concrete, List.copyOf(keys), System.currentTimeMillis()));
        concreteOf.put(name, concrete);
        concreteOf.put(concrete, concrete);
        log.info("Index {}: first load with {} until the snapshot ends", concrete, loadSettings);
    }

    /** An existing index: if its {@code _meta} notes a first load (a task restarted mid-load), ends it like the creator would. */
    void found(String name, String concrete, JsonNode mappings) {
        JsonNode note = mappings.path("_meta").path("lockstep").path(META_KEY);
        if (!note.isObject()) {
            return;
        }
        concreteOf.put(name, concrete); // also when resumed at the start: records reach it by this name
        resume(concrete, note, System.currentTimeMillis());
    }

    private void resume(String concrete, JsonNode note, long idleFrom) {
        if (loading.containsKey(concrete)) {
            return;
        }
        concreteOf.put(concrete, concrete);
        List<String> keys = new ArrayList<>();
        note.path("settings").forEach(k -> keys.add(k.asText()));
        if (loading.putIfAbsent(concrete, new Load(concrete, keys, idleFrom)) == null) {
            log.info("Index {}: resuming its first load (settings {} until the snapshot ends)", concrete, keys);
        }
    }

    /**
     * At the start: the loads this task created and had not ended (their note names this connector and task). Until
     * the task has partitions their idle time does not count. A node that refuses the request (no permission to read
     * every index's mapping) is left alone: records reaching such an index still find its note.
     */
    private void resumeOwnLoads() {
        JsonNode all;
        try (Response response = GenericRequests.send(client, "GET", "/_mapping?filter_path=*.mappings._meta.lockstep." + META_KEY, null)) {
            if (response.getStatus() != 200) {
                log.debug("First loads of earlier tasks not looked up: GET /_mapping answered {}", response.getStatus());
                return;
            }
            all = IndexDefinition.JSON.readTree(GenericRequests.bodyText(response));
        } catch (IOException | RuntimeException e) {
            log.debug("First loads of earlier tasks not looked up: {}", e.toString());
            return;
        }
        all.fields().forEachRemaining(index -> {
            JsonNode note = index.getValue().path("mappings").path("_meta").path("lockstep").path(META_KEY);
            if (connector.equals(note.path("connector").asText()) && task.equals(note.path("task").asText())) {
                long now = System.currentTimeMillis();
                resume(index.getKey(), note, assigned ? now : now + ASSIGNMENT_GRACE_MS);
            }
        });
        if (assigned) {
            assigned(); // partitions came while the lookup ran
        }
    }

    /** The task got partitions: a load resumed at the start counts its idle time from now. */
    void assigned() {
        assigned = true;
        long now = System.currentTimeMillis();
        loading.values().forEach(load -> {
            if (load.lastSnapshotReadMs > now) {
                load.lastSnapshotReadMs = now;
            }
        });
    }

    /** Tells whether the task still holds operations on an index (the bulk pipeline). */
    void holds(java.util.function.Predicate<java.util.Collection<String>> holds) {
        this.holds = holds;
    }

    /** Whether no index is in its first load (the per-record check costs nothing then). */
    boolean idle() {
        return loading.isEmpty();
    }

    /** A record with this version is queued for {@code target}: a snapshot read keeps its load going, anything else ends it. */
    void queued(String target, Long version) {
        if (loading.isEmpty()) {
            return;
        }
        String concrete = concreteOf.get(target);
        Load load = concrete == null ? null : loading.get(concrete);
        if (load == null) {
            return;
        }
        if (version != null && version == CommitLsnVersion.SNAPSHOT) {
            load.lastSnapshotReadMs = System.currentTimeMillis();
        } else {
            end(load, "its first streamed change");
        }
    }

    private void endIdle() {
        long now = System.currentTimeMillis();
        for (Load load : loading.values()) {
            if (now - load.lastSnapshotReadMs >= idleMs && !holds.test(namesOf(load.concrete))) {
                end(load, "no snapshot read for " + idleMs + " ms, none left to acknowledge");
            }
        }
    }

    /** The concrete index and the names records reach it by (the alias, until the write targets are read). */
    private List<String> namesOf(String concrete) {
        List<String> names = new ArrayList<>();
        concreteOf.forEach((name, c) -> {
            if (c.equals(concrete)) {
                names.add(name);
            }
        });
        return names;
    }

    private void end(Load load, String why) {
        if (!loading.remove(load.concrete, load)) {
            return; // ended by the other thread
        }
        try {
            ObjectNode reset = IndexDefinition.JSON.createObjectNode();
            load.keys.forEach(reset::putNull);
            send("PUT", "/" + load.concrete + "/_settings", reset.toString());
            send("POST", "/" + load.concrete + "/_refresh", null);
            removeNote(load.concrete);
            log.info("Index {}: first load ended ({}); settings {} back to the node's defaults, refreshed", load.concrete, why, load.keys);
        } catch (IOException | RuntimeException e) {
            // OpenSearch away: try again a tick later (the index keeps its load settings meanwhile, nothing is lost)
            log.warn("Index {}: cannot end its first load yet ({}); trying again", load.concrete, e.toString());
            load.lastSnapshotReadMs = System.currentTimeMillis() - idleMs + 1_000;
            loading.putIfAbsent(load.concrete, load);
        }
    }

    private void removeNote(String concrete) throws IOException {
        synchronized (metaLock) {
            JsonNode current;
            try (Response response = GenericRequests.send(client, "GET", "/" + concrete + "/_mapping", null)) {
                if (response.getStatus() == 404) {
                    return;
                }
                current = IndexDefinition.JSON.readTree(GenericRequests.bodyText(response));
            }
            JsonNode meta = IndexFields.mappingsOf(current).path("_meta");
            if (!meta.path("lockstep").has(META_KEY)) {
                return;
            }
            ObjectNode updated = meta.deepCopy();
            ((ObjectNode) updated.get("lockstep")).remove(META_KEY);
            ObjectNode body = IndexDefinition.JSON.createObjectNode();
            body.set("_meta", updated);
            send("PUT", "/" + concrete + "/_mapping", body.toString());
        }
    }

    private void send(String method, String endpoint, String body) throws IOException {
        try (Response response = GenericRequests.send(client, method, endpoint, body)) {
            if (response.getStatus() >= 300 && response.getStatus() != 404) {
                throw new IOException(method + " " + endpoint + " answered " + response.getStatus() + ": " + GenericRequests.bodyText(response));
            }
        }
    }

    /**
     * Index settings as flat keys with the {@code index.} prefix, as OpenSearch reads them: {@code {"index": {"refresh_interval":
     * "5s"}}}, {@code {"index.refresh_interval": "5s"}} and {@code {"refresh_interval": "5s"}} are one key.
     */
    static Map<String, JsonNode> flatten(JsonNode settings) {
        Map<String, JsonNode> out = new java.util.LinkedHashMap<>();
        flatten("", settings, out);
        return out;
    }

    private static void flatten(String prefix, JsonNode node, Map<String, JsonNode> out) {
        if (node == null || !node.isObject()) {
            return;
        }
        node.fields().forEachRemaining(e -> {
            String key = prefix + e.getKey();
            if (e.getValue().isObject()) {
                flatten(key + ".", e.getValue(), out);
            } else {
                out.put(key.startsWith("index.") ? key : "index." + key, e.getValue());
            }
        });
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }

    /** How many indices are in their first load (a gauge). */
    int loadingCount() {
        return loading.size();
    }

    /** The first-load indices still loading (for tests and logs). */
    List<String> loadingIndices() {
        return new ArrayList<>(loading.keySet());
    }
}
