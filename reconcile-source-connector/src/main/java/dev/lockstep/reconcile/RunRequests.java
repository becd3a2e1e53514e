package dev.lockstep.reconcile;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The reconciler tasks running in this worker, by connector, so the worker's REST resource
 * ({@link ReconcileResource}) can reach them: connectors, tasks and the REST extension share the bundle's class loader.
 */
final class RunRequests {
    private static final Map<String, List<ReconcileSourceTask>> TASKS = new ConcurrentHashMap<>();

    private RunRequests() {
    }

    static void register(String connector, ReconcileSourceTask task) {
        TASKS.computeIfAbsent(connector, c -> new CopyOnWriteArrayList<>()).add(task);
    }

    static void unregister(String connector, ReconcileSourceTask task) {
        List<ReconcileSourceTask> tasks = TASKS.get(connector);
        if (tasks != null) {
            tasks.remove(task);
        }
    }

    static List<ReconcileSourceTask> tasks(String connector) {
        return TASKS.getOrDefault(connector, List.of());
    }

    static Set<String> connectors() {
        return TASKS.keySet();
    }
}
