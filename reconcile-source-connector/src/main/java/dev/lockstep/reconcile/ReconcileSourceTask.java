package dev.lockstep.reconcile;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the reconciliation of its tables on their schedule. A run works on its own thread; its repair records and
 * audit records reach Connect through {@link #poll()}. Each table's schedule state (last run, last success,
 * verified_through) lives in the connector's offsets, committed with the table's audit record, so a restarted or
 * rebalanced task keeps the schedule; a run cut short is simply run again (every step of a run is idempotent: repairs
 * are versioned).
 */
public class ReconcileSourceTask extends SourceTask {
    private static final Logger LOG = LoggerFactory.getLogger(ReconcileSourceTask.class);
    static final String TASK_ASSIGNMENTS = "lockstep.task.assignments";
    static final String CONNECTOR_NAME = "lockstep.connector.name";
    static final String TASK_ID = "lockstep.task.id";
    private static final DateTimeFormatter RUN_ID = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS").withZone(ZoneOffset.UTC);

    private final LinkedBlockingQueue<SourceRecord> queue = new LinkedBlockingQueue<>(10_000);
    private final AtomicLong unacknowledged = new AtomicLong();
    private final Map<Assignment, Reconciler.TableState> states = java.util.Collections.synchronizedMap(new LinkedHashMap<>());
    private ReconcileConfig config;
    private String connectorName;
    private int taskId;
    private List<Assignment> assignments;
    private SearchSide search;
    private ReconcileMetrics metrics;
    private Reconciler reconciler;
    private volatile Thread runThread;
    private Schedule schedule;
    private long startedAt;
    private final java.util.Set<Assignment> requested = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile String requestedBy;
    private IndexRebuild rebuild;
    /** Rebuilds asked for on the REST API, by the assignment that performs them. */
    private final Map<Assignment, IndexRebuild.Changes> rebuildRequests = new java.util.concurrent.ConcurrentHashMap<>();
    /** The latest rebuild of each table of this task. */
    private final Map<String, IndexRebuild.Status> rebuilds = new java.util.concurrent.ConcurrentHashMap<>();
    /** Deletes a replaced version once its grace period is over (later runs of the table do it too, after a restart). */
    private java.util.concurrent.ScheduledExecutorService retirements;

    @Override
    public String version() {
        String v = getClass().getPackage().getImplementationVersion();
        return v == null ? "unknown" : v;
    }

    @Override
    public void start(Map<String, String> props) {
        config = new ReconcileConfig(props);
        connectorName = props.getOrDefault(CONNECTOR_NAME, "lockstep-reconciler");
        taskId = Integer.parseInt(props.getOrDefault(TASK_ID, "0"));
        String assigned = props.get(TASK_ASSIGNMENTS);
        assignments = assigned == null ? config.tables().stream().map(Assignment::whole).toList() : Assignment.decode(assigned);
        schedule = Schedule.of(config);
        startedAt = System.currentTimeMillis();
        for (Assignment t : assignments) {
            Map<String, Object> offset = context.offsetStorageReader().offset(t.partition());
            states.put(t, Reconciler.TableState.of(offset));
        }
        search = new SearchSide(config);
        metrics = new ReconcileMetrics(connectorName);
        reconciler = new Reconciler(config, connectorName, search, metrics);
        rebuild = new IndexRebuild(search, config);
        retirements = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "lockstep-reconcile-retire-" + connectorName);
            t.setDaemon(true);
            return t;
        });
        for (Map.Entry<Assignment, Reconciler.TableState> e : states.entrySet()) {
            ReconcileMetrics.Table gauges = metrics.table(e.getKey());
            gauges.lastSuccessMs.set(e.getValue().lastSuccessMs());
            gauges.verifiedThroughMs.set(e.getValue().verifiedThroughMs());
        }
        RunRequests.register(connectorName, this);
        LOG.info("Reconciler {} task: {}; next runs {}", connectorName, assignments, nextRuns());
    }

    private Map<String, String> nextRuns() {
        Map<String, String> out = new LinkedHashMap<>();
        states.forEach((t, s) -> out.put(t.toString(), Instant.ofEpochMilli(due(s)).toString()));
        return out;
    }

    private long due(Reconciler.TableState s) {
        return schedule.nextRun(s.lastRunStartMs(), startedAt);
    }

    @Override
    public List<SourceRecord> poll() throws InterruptedException {
        startDueRun();
        SourceRecord first = queue.poll(500, TimeUnit.MILLISECONDS);
        if (first == null) {
            return null;
        }
        List<SourceRecord> out = new ArrayList<>();
        out.add(first);
        queue.drainTo(out, 2_000);
        return out;
    }

    private void startDueRun() {
        if (runThread != null && runThread.isAlive()) {
            return;
        }
        long now = System.currentTimeMillis();
        List<Assignment> due = new ArrayList<>();
        String trigger = "schedule";
        if (!requested.isEmpty() || !rebuildRequests.isEmpty()) {
            due.addAll(requested);
            requested.clear();
            rebuildRequests.keySet().stream().filter(t -> !due.contains(t)).forEach(due::add);
            trigger = requestedBy == null ? "rest" : requestedBy;
        } else {
            states.forEach((t, s) -> {
                if (due(s) <= now) {
                    due.add(t);
                }
            });
        }
        if (due.isEmpty()) {
            return;
        }
        String runId = connectorName + "-" + RUN_ID.format(Instant.ofEpochMilli(now));
        String why = trigger;
        Thread t = new Thread(() -> run(runId, why, due), "lockstep-reconcile-run-" + connectorName);
        t.setDaemon(true);
        runThread = t;
        t.start();
    }

    private void run(String runId, String trigger, List<Assignment> due) {
        TableRun.RepairOutlet outlet = new TableRun.RepairOutlet() {
            @Override
            public void emit(List<SourceRecord> records) throws InterruptedException {
                for (SourceRecord r : records) {
                    unacknowledged.incrementAndGet();
                    queue.put(r);
                }
            }

            @Override
            public boolean awaitAcknowledged(long timeoutMs) throws InterruptedException {
                long deadline = System.currentTimeMillis() + timeoutMs;
                while (unacknowledged.get() > 0) {
                    if (System.currentTimeMillis() >= deadline) {
                        return false;
                    }
                    Thread.sleep(20);
                }
                return true;
            }
        };
        LOG.info("Reconciler {}: run {} ({}) starts for {}", connectorName, runId, trigger, due);
        try {
            for (Assignment table : due) {
                IndexRebuild.Changes changes = rebuildRequests.remove(table);
                String name = TableSpec.indexName(config, table.table());
                if (changes != null || mappingConflict(table, name)) {
                    rebuild(table, name, changes == null ? "mapping conflict" : "rest", changes == null ? IndexRebuild.Changes.NONE : changes,
                            outlet);
                } else {
                    Reconciler.TableState next = reconciler.run(runId, trigger, table, states.get(table), outlet);
                    states.put(table, next);
                }
                deleteRetired(table, name);
            }
        } catch (InterruptedException e) {
            LOG.info("Reconciler {}: run {} stopped (the task stops); it runs again after the restart", connectorName, runId);
            Thread.currentThread().interrupt();
        }
    }

    /** Whether the sink noted fields of the table's index that need a rebuild (and rebuild.on.mapping.conflict is on). */
    private boolean mappingConflict(Assignment table, String name) {
        if (!config.getBoolean(ReconcileConfig.REBUILD_ON_MAPPING_CONFLICT) || !table.ownsKeylessDocuments()) {
            return false;
        }
        try {
            return rebuild.requested(name) != null;
        } catch (Exception e) {
            LOG.warn("Reconciler {}: cannot read the mapping of {} to look for rebuild requests: {}", connectorName, name, e.toString());
            return false;
        }
    }

    /** Rebuilds the table's index; each verification is a whole-table run against the new version. */
    private void rebuild(Assignment table, String name, String trigger, IndexRebuild.Changes changes, TableRun.RepairOutlet outlet)
            throws InterruptedException {
        IndexRebuild.Status status = new IndexRebuild.Status(table.table().toString(), name, trigger);
        rebuilds.put(status.table, status);
        LOG.info("Reconciler {}: rebuilding the index {} of {} ({})", connectorName, name, table.table(), trigger);
        Assignment whole = Assignment.whole(table.table());
        try {
            rebuild.run(status, changes, (index, attempt) -> {
                String runId = connectorName + "-" + RUN_ID.format(Instant.now());
                Reconciler.TableState previous = states.getOrDefault(whole, Reconciler.TableState.of(null));
                Reconciler.TableState next = reconciler.run(runId, "rebuild", whole, previous, outlet, index);
                if (table.isWhole()) {
                    states.put(table, next);
                }
                return next.lastSuccessMs() >= next.lastRunStartMs();
            });
            retirements.schedule(() -> deleteRetired(table, name), config.getLong(ReconcileConfig.REBUILD_GRACE_MS) + 1_000, TimeUnit.MILLISECONDS);
            metrics.rebuilt(table.table(), "done");
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            metrics.rebuilt(table.table(), "failed");
            status.error = String.valueOf(e.getMessage());
            LOG.error("Reconciler {}: the rebuild of {} failed; the alias {} was not moved: {}", connectorName, table.table(), name, e.toString(), e);
        }
    }

    private void deleteRetired(Assignment table, String name) {
        if (!table.ownsKeylessDocuments()) {
            return;
        }
        try {
            rebuild.deleteRetired(name);
        } catch (Exception e) {
            LOG.warn("Reconciler {}: cannot delete retired versions of {}: {}", connectorName, name, e.toString());
        }
    }

    /**
     * Asks for a rebuild of a table's index by the task that owns the table (the first key range of a split one).
     * Returns whether this task will do it.
     */
    boolean requestRebuild(String table, IndexRebuild.Changes changes) {
        for (Assignment t : assignments) {
            if (t.table().toString().equals(table) && t.ownsKeylessDocuments()) {
                rebuildRequests.put(t, changes);
                return true;
            }
        }
        return false;
    }

    /** The latest rebuild of each of this task's tables. */
    java.util.Collection<IndexRebuild.Status> rebuilds() {
        return rebuilds.values();
    }

    /**
     * Asks for a run of the given tables of this task (all of them when {@code only} is empty), as soon as no run
     * is in progress. Returns the tables that will run.
     */
    List<String> requestRun(java.util.Collection<String> only, String trigger) {
        List<String> accepted = new ArrayList<>();
        for (Assignment t : assignments) {
            if (only.isEmpty() || only.contains(t.table().toString())) {
                accepted.add(t.table().toString());
                requestedBy = trigger;
                requested.add(t);
            }
        }
        return accepted;
    }

    /** The task's number within its connector (as {@code GET /connectors/{name}/status} lists it). */
    int taskId() {
        return taskId;
    }

    List<Assignment> assignments() {
        return assignments;
    }

    Map<Assignment, Reconciler.TableState> states() {
        return Map.copyOf(states);
    }

    boolean running() {
        Thread t = runThread;
        return t != null && t.isAlive();
    }

    ReconcileConfig config() {
        return config;
    }

    SearchSide search() {
        return search;
    }

    @Override
    public void commitRecord(SourceRecord record, RecordMetadata metadata) {
        unacknowledged.decrementAndGet();
    }

    @Override
    public void stop() {
        RunRequests.unregister(connectorName, this);
        if (retirements != null) {
            retirements.shutdownNow();
        }
        Thread t = runThread;
        if (t != null) {
            t.interrupt();
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (reconciler != null) {
            reconciler.close();
        }
        if (metrics != null) {
            metrics.close();
        }
        if (search != null) {
            search.close();
        }
    }
}
