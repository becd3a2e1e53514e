package dev.lockstep.reconcile;

import dev.lockstep.sink.OpenSearchSinkConnector;
import dev.lockstep.smt.hash.FieldMapping;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.source.SourceConnector;

/**
 * The reconciler: proves that OpenSearch holds what PostgreSQL holds, per table, and repairs what differs through
 * the pipeline's own topics. See docs/reconciliation.md. Tables, and key ranges of large tables, are spread over
 * {@code tasks.max} tasks ({@link TaskPlan}).
 */
public class ReconcileSourceConnector extends SourceConnector {
    private Map<String, String> props;

    @Override
    public void start(Map<String, String> props) {
        this.props = Map.copyOf(props);
        new ReconcileConfig(props);
    }

    @Override
    public Class<? extends Task> taskClass() {
        return ReconcileSourceTask.class;
    }

    @Override
    public List<Map<String, String>> taskConfigs(int maxTasks) {
        List<Map<String, String>> configs = new ArrayList<>();
        for (List<Assignment> assignments : TaskPlan.plan(new ReconcileConfig(props), maxTasks)) {
            Map<String, String> config = new HashMap<>(props);
            config.put(ReconcileSourceTask.TASK_ASSIGNMENTS, Assignment.encode(assignments));
            config.put(ReconcileSourceTask.CONNECTOR_NAME, props.getOrDefault("name", "lockstep-reconciler"));
            config.put(ReconcileSourceTask.TASK_ID, String.valueOf(configs.size()));
            configs.add(config);
        }
        return configs;
    }

    @Override
    public void stop() {
    }

    @Override
    public ConfigDef config() {
        return ReconcileConfig.CONFIG_DEF;
    }

    /**
     * Per-field validation, then what only the servers can tell, each on the field to fix: OpenSearch reachable with
     * the credentials (the sink's checks), PostgreSQL reachable with the role, a UTF8 database (the canonical hash is
     * defined on UTF-8), and every table: it exists, the role can read it, it has a primary key, every column has a
     * type the reconciler compares.
     */
    @Override
    public Config validate(Map<String, String> connectorConfigs) {
        Config config = super.validate(connectorConfigs);
        OpenSearchSinkConnector.validateConnection(config, connectorConfigs);
        if (config.configValues().stream().anyMatch(v -> !v.errorMessages().isEmpty())) {
            return config;
        }
        ReconcileConfig parsed = new ReconcileConfig(connectorConfigs);
        if (parsed.repairMode() == ReconcileConfig.RepairMode.DEBEZIUM_SIGNAL) {
            for (String required : List.of(ReconcileConfig.SIGNAL_TOPIC, ReconcileConfig.SIGNAL_BOOTSTRAP_SERVERS)) {
                String value = parsed.getString(required);
                if (value == null || value.isBlank()) {
                    find(config, required).addErrorMessage("repair.mode=debezium-signal needs " + required
                            + ", as the Debezium source's own (signal.enabled.channels must include kafka)");
                }
            }
            if (config.configValues().stream().anyMatch(v -> !v.errorMessages().isEmpty())) {
                return config;
            }
        }
        ConfigValue url = find(config, ReconcileConfig.DATABASE_URL);
        Properties login = new Properties();
        login.setProperty("user", parsed.getString(ReconcileConfig.DATABASE_USER));
        Password password = parsed.databasePassword();
        if (password != null) {
            login.setProperty("password", password.value());
        }
        login.setProperty("connectTimeout", "10");
        try (Connection pg = DriverManager.getConnection(parsed.getString(ReconcileConfig.DATABASE_URL), login)) {
            try (Statement s = pg.createStatement(); ResultSet rs = s.executeQuery("SHOW server_encoding")) {
                rs.next();
                if (!rs.getString(1).equalsIgnoreCase("UTF8")) {
                    url.addErrorMessage("the database's encoding is " + rs.getString(1) + "; the reconciler's canonical hash needs "
                            + "a UTF8 database (docs/canonical-hash.md)");
                }
            }
            ConfigValue tables = find(config, ReconcileConfig.TABLES);
            FieldMapping mapping = FieldMapping.from(new AbstractConfig(dev.lockstep.smt.ToSearchDocument.CONFIG_DEF, parsed.documentOptions()));
            for (ReconcileConfig.TableName table : parsed.tables()) {
                try {
                    TableSpec spec = TableSpec.read(pg, table, mapping, parsed.getString(ReconcileConfig.TOPIC_PREFIX),
                            parsed.getString(ReconcileConfig.INDEX_NAME_PATTERN));
                    try (Statement s = pg.createStatement()) {
                        s.executeQuery("SELECT 1 FROM " + spec.qualified() + " LIMIT 0").close();
                    }
                } catch (IllegalArgumentException e) {
                    tables.addErrorMessage(e.getMessage());
                } catch (SQLException e) {
                    tables.addErrorMessage("table " + table + ": " + e.getMessage());
                }
            }
        } catch (SQLException e) {
            String state = e.getSQLState() == null ? "" : e.getSQLState();
            if (state.equals("28P01") || state.equals("28000")) {
                find(config, password == null ? ReconcileConfig.DATABASE_USER : ReconcileConfig.DATABASE_PASSWORD)
                        .addErrorMessage("PostgreSQL refused the login of " + parsed.getString(ReconcileConfig.DATABASE_USER) + ": "
                                + e.getMessage());
            } else {
                url.addErrorMessage("cannot connect to PostgreSQL at " + parsed.getString(ReconcileConfig.DATABASE_URL) + ": "
                        + e.getMessage());
            }
        }
        return config;
    }

    private static ConfigValue find(Config config, String name) {
        return config.configValues().stream().filter(v -> v.name().equals(name)).findFirst().orElseThrow();
    }

    @Override
    public String version() {
        String v = getClass().getPackage().getImplementationVersion();
        return v == null ? "unknown" : v;
    }
}
