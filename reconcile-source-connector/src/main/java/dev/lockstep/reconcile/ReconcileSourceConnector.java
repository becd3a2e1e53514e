package dev.lockstep.reconcile;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.source.SourceConnector;

/**
 * Skeleton of the reconciler: it will hash PostgreSQL and OpenSearch, classify mismatches and re-emit the
 * mismatched ids. Today it only runs an idle task, so the bundle's shape (discovery, packaging) is in place.
 */
public class ReconcileSourceConnector extends SourceConnector {
    static final ConfigDef CONFIG_DEF = new ConfigDef();
    private Map<String, String> props;

    @Override
    public void start(Map<String, String> props) {
        this.props = Map.copyOf(props);
    }

    @Override
    public Class<? extends Task> taskClass() {
        return ReconcileSourceTask.class;
    }

    @Override
    public List<Map<String, String>> taskConfigs(int maxTasks) {
        return Collections.singletonList(props);
    }

    @Override
    public void stop() {
    }

    @Override
    public ConfigDef config() {
        return CONFIG_DEF;
    }

    @Override
    public String version() {
        String v = getClass().getPackage().getImplementationVersion();
        return v == null ? "unknown" : v;
    }
}
