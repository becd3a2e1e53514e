package dev.lockstep.reconcile;

import dev.lockstep.sink.OpenSearchSinkConfig;
import dev.lockstep.smt.ToSearchDocument;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/**
 * Every option of the reconciler, defined once and grouped by concern. The OpenSearch connection options are the
 * sink's ({@link OpenSearchSinkConfig#defineConnection}); the document options are {@link ToSearchDocument}'s, so
 * the reconciler is configured with the same values as the transforms on the Debezium source and rebuilds the
 * very documents the stream builds.
 */
public final class ReconcileConfig extends AbstractConfig {
    private static final String POSTGRES_GROUP = "PostgreSQL";
    private static final String TABLES_GROUP = "Tables and topics";
    private static final String COMPARE_GROUP = "Comparison";
    private static final String REPAIR_GROUP = "Repair";
    private static final String SCHEDULE_GROUP = "Schedule";
    private static final String AUDIT_GROUP = "Audit";
    private static final String REBUILD_GROUP = "Index rebuilds";

    public static final String DATABASE_URL = "database.url";
    public static final String DATABASE_USER = "database.user";
    public static final String DATABASE_PASSWORD = "database.password";
    public static final String DATABASE_MAX_CONNECTIONS = "database.max.connections";
    public static final String STATEMENT_TIMEOUT_MS = "database.statement.timeout.ms";
    public static final String SNAPSHOT_MAX_AGE_MS = "snapshot.max.age.ms";
    public static final String MAX_ROWS_PER_SECOND = "read.max.rows.per.second";

    public static final String TABLES = "tables";
    public static final String TOPIC_PREFIX = "topic.prefix";
    public static final String INDEX_NAME_PATTERN = "index.name.pattern";
    public static final String TOPIC_LAYOUT = "topic.layout";

    public static final String SEGMENT_ROWS = "segment.rows";
    public static final String BISECT_FACTOR = "bisect.factor";
    public static final String BISECT_THRESHOLD = "bisect.threshold";
    public static final String SETTLE_MS = "settle.ms";
    public static final String SETTLE_ROUNDS = "settle.rounds";
    public static final String COMPARE_MODE = "compare.mode";
    public static final String DEEP_SAMPLE_PERCENT = "deep.sample.percent";
    public static final String SEGMENT_REUSE_UNCHANGED = "segment.reuse.unchanged";
    public static final String LOAD_UNINDEXED_SEGMENTS = "load.unindexed.segments";

    public static final String REPAIR_MODE = "repair.mode";
    public static final String SIGNAL_TOPIC = "signal.kafka.topic";
    public static final String SIGNAL_BOOTSTRAP_SERVERS = "signal.kafka.bootstrap.servers";
    /** Producer settings for the signal channel (security, for instance), as {@code signal.producer.<setting>}. */
    public static final String SIGNAL_PRODUCER_PREFIX = "signal.producer.";
    public static final String REPAIR_MAX_PER_RUN = "repair.max.per.run";
    public static final String REPAIR_SCHEMA_MAX_PER_RUN = "repair.schema.max.per.run";
    public static final String VALIDATION_TIMEOUT_MS = "validation.timeout.ms";

    public static final String SCHEDULE_INTERVAL_MS = "schedule.interval.ms";
    public static final String SCHEDULE_INITIAL_DELAY_MS = "schedule.initial.delay.ms";
    public static final String SCHEDULE_CRON = "schedule.cron";

    public static final String AUDIT_TOPIC = "audit.topic";
    public static final String REBUILD_ON_MAPPING_CONFLICT = "rebuild.on.mapping.conflict";
    public static final String REBUILD_GRACE_MS = "rebuild.grace.ms";
    public static final String REBUILD_VERIFY_ATTEMPTS = "rebuild.verify.attempts";
    public static final String AUDIT_INDEX = "audit.index";
    public static final String REPORT_MAX_IDS = "report.max.ids";

    /** How the pipeline lays out its topics, so repairs take the shape the stream's records have. */
    public enum TopicLayout {
        /** Topics of search documents (the transforms run on the Debezium source): the default. */
        DOCUMENTS,
        /** Topics of Debezium change events (the transforms run on the sink). */
        CHANGE_EVENTS;

        static TopicLayout of(String value) {
            return valueOf(value.toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
        }
    }

    /** What a run does with the differences it confirms. */
    public enum RepairMode {
        /** Write repair records into the pipeline's topics (the sink applies them), then validate. */
        KAFKA,
        /** Report only: find, classify and explain, never write. */
        REPORT_ONLY,
        /**
         * Ask the Debezium source for an incremental snapshot of the ids through its Kafka signal channel; extra
         * documents still get tombstones in the tables' topics. Then validate.
         */
        DEBEZIUM_SIGNAL;

        static RepairMode of(String value) {
            return valueOf(value.toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
        }
    }

    /** What a segment's comparison looks at. */
    public enum CompareMode {
        /** Counts and content hashes per segment; whole documents only for the ids that differ. */
        HASH,
        /** Also every document, field by field, against the document its row would give (deep.sample.percent of segments). */
        DEEP;

        static CompareMode of(String value) {
            return valueOf(value.toUpperCase(java.util.Locale.ROOT));
        }
    }

    public static final ConfigDef CONFIG_DEF = configDef();

    private static ConfigDef configDef() {
        ConfigDef def = new ConfigDef();
        int order = 0;
        def.define(DATABASE_URL, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new JdbcUrlValidator(), Importance.HIGH,
                "JDBC URL of the PostgreSQL database to read, e.g. jdbc:postgresql://replica-1:5432/shop. It may be a "
                        + "read replica: the reconciler only reads, and a replica keeps its load off the primary.",
                POSTGRES_GROUP, ++order, Width.LONG, "JDBC URL");
        def.define(DATABASE_USER, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(), Importance.HIGH,
                "PostgreSQL role; SELECT on the reconciled tables is all it needs.", POSTGRES_GROUP, ++order, Width.MEDIUM, "User");
        def.define(DATABASE_PASSWORD, Type.PASSWORD, null, Importance.HIGH,
                "Password of the role. Hidden in validation output and never logged; pass it through a config provider "
                        + "(e.g. ${file:/etc/lockstep/pg.properties:password}) to keep it out of the stored config.",
                POSTGRES_GROUP, ++order, Width.MEDIUM, "Password");
        def.define(DATABASE_MAX_CONNECTIONS, Type.INT, 2, ConfigDef.Range.between(1, 64), Importance.MEDIUM,
                "Most connections a task opens; segments are compared on that many connections at once.",
                POSTGRES_GROUP, ++order, Width.SHORT, "Connections");
        def.define(STATEMENT_TIMEOUT_MS, Type.INT, 60_000, ConfigDef.Range.atLeast(0), Importance.LOW,
                "statement_timeout of the reconciler's sessions, in milliseconds (0: none). Keep it above the time one "
                        + "segment.rows segment takes to hash.",
                POSTGRES_GROUP, ++order, Width.SHORT, "Statement timeout");
        def.define(SNAPSHOT_MAX_AGE_MS, Type.LONG, 30_000L, ConfigDef.Range.atLeast(100), Importance.MEDIUM,
                "Longest time a REPEATABLE READ snapshot stays open, in milliseconds. A large table is compared segment by "
                        + "segment across several snapshots; the settle re-check covers what changed in between. A short "
                        + "snapshot keeps vacuum free to work on the primary.",
                POSTGRES_GROUP, ++order, Width.SHORT, "Snapshot age");
        def.define(MAX_ROWS_PER_SECOND, Type.LONG, 0L, ConfigDef.Range.atLeast(0), Importance.MEDIUM,
                "Most rows per second a task hashes or reads (0: no limit).", POSTGRES_GROUP, ++order, Width.SHORT, "Rows per second");

        OpenSearchSinkConfig.defineConnection(def);

        order = 0;
        def.define(TABLES, Type.LIST, ConfigDef.NO_DEFAULT_VALUE, new TableListValidator(), Importance.HIGH,
                "Tables to reconcile, as schema.table, comma-separated. Each needs a primary key. They are spread over tasks.max tasks.",
                TABLES_GROUP, ++order, Width.LONG, "Tables");
        def.define(TOPIC_PREFIX, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(), Importance.HIGH,
                "The Debezium source's topic.prefix: a table's topic is <prefix>.<schema>.<table>, and repairs go there.",
                TABLES_GROUP, ++order, Width.MEDIUM, "Topic prefix");
        def.define(INDEX_NAME_PATTERN, Type.STRING, "${topic}", Importance.HIGH,
                "The sink's index.name.pattern: ${topic} is the table's topic, ${table} its last dot-separated part; lower-cased.",
                TABLES_GROUP, ++order, Width.MEDIUM, "Index name pattern");
        def.define(TOPIC_LAYOUT, Type.STRING, "documents", ConfigDef.CaseInsensitiveValidString.in("documents", "change-events"),
                Importance.HIGH, "How the pipeline's topics are laid out, so repairs take the stream's shape: 'documents' (the "
                        + "transforms run on the Debezium source; set key.converter=StringConverter and "
                        + "value.converter=dev.lockstep.smt.DocumentConverter) or 'change-events' (Debezium envelopes, the "
                        + "transforms on the sink; JsonConverter with schemas).",
                TABLES_GROUP, ++order, Width.SHORT, "Topic layout");

        order = 0;
        def.define(SEGMENT_ROWS, Type.INT, 100_000, ConfigDef.Range.between(10, 2_000_000), Importance.MEDIUM,
                "Rows per top-level key-range segment (at most 2,000,000, so OpenSearch's double sums stay exact).",
                COMPARE_GROUP, ++order, Width.SHORT, "Segment rows");
        def.define(BISECT_FACTOR, Type.INT, 16, ConfigDef.Range.between(2, 1_000), Importance.LOW,
                "Into how many parts a segment whose checksums differ is split.", COMPARE_GROUP, ++order, Width.SHORT, "Bisect factor");
        def.define(BISECT_THRESHOLD, Type.INT, 1_000, ConfigDef.Range.between(1, 100_000), Importance.LOW,
                "A differing segment of at most this many rows (on either side) is diffed id by id instead of split. "
                        + "Memory per connection is bounded by it.",
                COMPARE_GROUP, ++order, Width.SHORT, "Bisect threshold");
        def.define(SETTLE_MS, Type.LONG, 3_000L, ConfigDef.Range.atLeast(0), Importance.MEDIUM,
                "Changes in flight are not drift: an id that differs is checked again after this many milliseconds (or after "
                        + "twice the pipeline's recent commit-to-index latency, read from the last documents indexed, when that is "
                        + "longer; at most a minute), and counts only if neither side changed meanwhile.",
                COMPARE_GROUP, ++order, Width.SHORT, "Settle delay");
        def.define(SETTLE_ROUNDS, Type.INT, 3, ConfigDef.Range.between(1, 20), Importance.LOW,
                "How often an id that keeps changing is re-checked before it is left for the next run (reported as "
                        + "'unsettled', not as drift).", COMPARE_GROUP, ++order, Width.SHORT, "Settle rounds");
        def.define(COMPARE_MODE, Type.STRING, "hash", ConfigDef.CaseInsensitiveValidString.in("hash", "deep"), Importance.MEDIUM,
                "'hash': counts and content hashes per segment. 'deep': also rebuilds each row's expected document and "
                        + "compares it field by field with _source (deep.sample.percent of the segments), which catches "
                        + "edits made behind the pipeline's back that left the lineage hash intact.",
                COMPARE_GROUP, ++order, Width.SHORT, "Compare mode");
        def.define(DEEP_SAMPLE_PERCENT, Type.DOUBLE, 100.0, ConfigDef.Range.between(0.0, 100.0), Importance.LOW,
                "With compare.mode=deep, the share of top-level segments compared document by document.",
                COMPARE_GROUP, ++order, Width.SHORT, "Deep sample");
        def.define(SEGMENT_REUSE_UNCHANGED, Type.BOOLEAN, true, Importance.LOW,
                "Reuse a top-level segment's PostgreSQL checksum from the task's previous run when the segment's row versions "
                        + "(the sum of a hash of key and xmin, and the count) are unchanged: the run reads the versions instead of "
                        + "hashing the content. The OpenSearch side is always computed afresh. A restarted task hashes everything once.",
                COMPARE_GROUP, ++order, Width.SHORT, "Reuse unchanged segments");
        def.define(LOAD_UNINDEXED_SEGMENTS, Type.BOOLEAN, true, Importance.MEDIUM,
                "A top-level segment with fewer documents than half its rows (a new table or pipeline, a lost index) is loaded "
                        + "whole instead of bisected: all its rows are read once and written into the topic as repairs are (or, "
                        + "with repair.mode=debezium-signal, Debezium is asked for its key range), not capped by "
                        + "repair.max.per.run, and validated by comparing the segment's checksums again. Its rows without "
                        + "documents count as missing.",
                COMPARE_GROUP, ++order, Width.SHORT, "Load unindexed segments");

        order = 0;
        def.define(REPAIR_MODE, Type.STRING, "kafka", ConfigDef.CaseInsensitiveValidString.in("kafka", "report-only", "debezium-signal"),
                Importance.HIGH, "'kafka': write repair records into the tables' topics (the sink applies them), then "
                        + "validate them. 'report-only': find, classify and explain, write nothing. 'debezium-signal': ask the "
                        + "Debezium source for an incremental snapshot of the ids through its Kafka signal channel "
                        + "(signal.kafka.topic), delete extra documents with tombstones, then validate (docs/reconciliation.md).",
                REPAIR_GROUP, ++order, Width.SHORT, "Repair mode");
        def.define(SIGNAL_TOPIC, Type.STRING, null, Importance.MEDIUM,
                "With repair.mode=debezium-signal: the Debezium source's signal.kafka.topic. The signals' key is topic.prefix.",
                REPAIR_GROUP, ++order, Width.MEDIUM, "Signal topic");
        def.define(SIGNAL_BOOTSTRAP_SERVERS, Type.STRING, null, Importance.MEDIUM,
                "With repair.mode=debezium-signal: the Kafka cluster of the signal topic (the Debezium source's "
                        + "signal.kafka.bootstrap.servers). Producer settings such as security go in signal.producer.*.",
                REPAIR_GROUP, ++order, Width.MEDIUM, "Signal Kafka cluster");
        def.define(REPAIR_MAX_PER_RUN, Type.INT, 10_000, ConfigDef.Range.atLeast(0), Importance.MEDIUM,
                "Most repair records per table and run; the rest are reported and left for later runs.",
                REPAIR_GROUP, ++order, Width.SHORT, "Repairs per run");
        def.define(REPAIR_SCHEMA_MAX_PER_RUN, Type.INT, 1_000, ConfigDef.Range.atLeast(0), Importance.MEDIUM,
                "Most repairs of the schema class (documents that predate a column change) per table and run, so a "
                        + "column change is worked off at a bounded rate.", REPAIR_GROUP, ++order, Width.SHORT, "Schema repairs per run");
        def.define(VALIDATION_TIMEOUT_MS, Type.LONG, 60_000L, ConfigDef.Range.atLeast(0), Importance.LOW,
                "How long the follow-up validation waits for the sink to apply the repairs before it judges them.",
                REPAIR_GROUP, ++order, Width.SHORT, "Validation timeout");

        order = 0;
        def.define(SCHEDULE_INTERVAL_MS, Type.LONG, 3_600_000L, ConfigDef.Range.atLeast(1_000), Importance.HIGH,
                "Time between the starts of two runs of a table, in milliseconds. The last run's start is kept in the "
                        + "connector's offsets, so the schedule survives restarts.",
                SCHEDULE_GROUP, ++order, Width.SHORT, "Interval");
        def.define(SCHEDULE_INITIAL_DELAY_MS, Type.LONG, 60_000L, ConfigDef.Range.atLeast(0), Importance.LOW,
                "Delay before the first run of a table that has never been reconciled, in milliseconds: a pipeline "
                        + "registered together with the reconciler is still taking its initial snapshot, whose rows would "
                        + "otherwise be reported (and repaired) as missing.", SCHEDULE_GROUP, ++order, Width.SHORT, "Initial delay");
        def.define(SCHEDULE_CRON, Type.STRING, "", new Schedule.CronValidator(), Importance.MEDIUM,
                "Instead of the interval: a Unix cron expression, in UTC (minute hour day-of-month month day-of-week), e.g. "
                        + "'0 3 * * *' for a run at 03:00 every day. Empty: schedule.interval.ms.",
                SCHEDULE_GROUP, ++order, Width.MEDIUM, "Cron");

        order = 0;
        def.define(AUDIT_TOPIC, Type.STRING, "lockstep-reconcile-audit", new ConfigDef.NonEmptyString(), Importance.MEDIUM,
                "Topic that receives every run's report per table (JSON, keyed run_id:table). Its records also carry each "
                        + "table's schedule state into the connector's offsets.", AUDIT_GROUP, ++order, Width.MEDIUM, "Audit topic");
        def.define(AUDIT_INDEX, Type.STRING, "lockstep-reconcile-audit", Importance.MEDIUM,
                "OpenSearch index that receives every run's report per table. Empty: none.", AUDIT_GROUP, ++order, Width.MEDIUM, "Audit index");
        def.define(REPORT_MAX_IDS, Type.INT, 100, ConfigDef.Range.between(0, 100_000), Importance.LOW,
                "Most ids a report lists (with their field differences) per class; the totals are always complete.",
                AUDIT_GROUP, ++order, Width.SHORT, "Ids per report");

        order = 0;
        def.define(REBUILD_ON_MAPPING_CONFLICT, Type.BOOLEAN, true, Importance.MEDIUM,
                "Rebuild a table's index into its next version when the sink has noted fields whose column type changed to "
                        + "one the index cannot map in place (integer to text, ...): checked before each run of the table. "
                        + "Rebuilds on demand (POST /lockstep/reconcile/{connector}/rebuilds) work either way (docs/rebuilds.md).",
                REBUILD_GROUP, ++order, Width.SHORT, "Rebuild on mapping conflicts");
        def.define(REBUILD_GRACE_MS, Type.LONG, 600_000L, ConfigDef.Range.atLeast(0), Importance.LOW,
                "How long the version an alias moved away from is kept before it is deleted, in milliseconds: searches and "
                        + "scrolls still running on it finish.", REBUILD_GROUP, ++order, Width.SHORT, "Grace period");
        def.define(REBUILD_VERIFY_ATTEMPTS, Type.INT, 3, ConfigDef.Range.between(1, 100), Importance.LOW,
                "Most reconciler runs that verify a new index version (each repairs what it finds) before the rebuild "
                        + "gives up and leaves the alias where it was.", REBUILD_GROUP, ++order, Width.SHORT, "Verification runs");

        // The document options of the transform on the Debezium source, under the same names; not its dead-letter
        // topic: a repair the transforms cannot make is reported by the reconciler itself.
        for (ConfigDef.ConfigKey key : ToSearchDocument.CONFIG_DEF.configKeys().values()) {
            if (key.name.equals(dev.lockstep.smt.DeadLetters.ERRORS_TOPIC_CONFIG)) {
                continue;
            }
            def.define(key.name, key.type, key.defaultValue, key.validator, key.importance,
                    key.documentation + " (as on the source's ToSearchDocument transform)", "Documents", key.orderInGroup,
                    key.width, key.displayName);
        }
        return def;
    }

    public ReconcileConfig(Map<?, ?> props) {
        super(CONFIG_DEF, props);
    }

    public List<TableName> tables() {
        return getList(TABLES).stream().map(TableName::parse).toList();
    }

    public Password databasePassword() {
        return getPassword(DATABASE_PASSWORD);
    }

    public TopicLayout topicLayout() {
        return TopicLayout.of(getString(TOPIC_LAYOUT));
    }

    public RepairMode repairMode() {
        return RepairMode.of(getString(REPAIR_MODE));
    }

    public CompareMode compareMode() {
        return CompareMode.of(getString(COMPARE_MODE));
    }

    /** The sink's view of the connection options, for {@code OpenSearchClients}. */
    public OpenSearchSinkConfig openSearchConfig() {
        Map<String, Object> props = new HashMap<>();
        originals().forEach((key, value) -> {
            if (key.startsWith("connection.")) {
                props.put(key, value);
            }
        });
        return new OpenSearchSinkConfig(props);
    }

    /** The options of the document transforms (SyncHeaders, ContentHash, ToSearchDocument), as the user gave them. */
    public Map<String, Object> documentOptions() {
        Map<String, Object> options = new HashMap<>();
        for (String key : ToSearchDocument.CONFIG_DEF.names()) {
            if (originals().containsKey(key) && !key.equals(dev.lockstep.smt.DeadLetters.ERRORS_TOPIC_CONFIG)) {
                options.put(key, originals().get(key));
            }
        }
        return options;
    }

    /** schema.table, as written in {@value #TABLES}. */
    public record TableName(String schema, String table) {
        static TableName parse(String text) {
            String t = text.trim();
            int dot = t.indexOf('.');
            if (dot <= 0 || dot == t.length() - 1 || t.indexOf('.', dot + 1) >= 0) {
                throw new ConfigException(TABLES, text, "each table is schema.table, e.g. public.products");
            }
            return new TableName(t.substring(0, dot), t.substring(dot + 1));
        }

        @Override
        public String toString() {
            return schema + "." + table;
        }
    }

    static final class TableListValidator implements ConfigDef.Validator {
        @Override
        @SuppressWarnings("unchecked")
        public void ensureValid(String name, Object value) {
            List<String> tables = (List<String>) value;
            if (tables == null || tables.isEmpty()) {
                throw new ConfigException(name, value, "name at least one table, as schema.table");
            }
            tables.forEach(TableName::parse);
        }

        @Override
        public String toString() {
            return "schema.table, comma-separated";
        }
    }

    static final class JdbcUrlValidator implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            if (value == null || !value.toString().startsWith("jdbc:postgresql:")) {
                throw new ConfigException(name, value, "must be a PostgreSQL JDBC URL: jdbc:postgresql://host:port/database");
            }
        }

        @Override
        public String toString() {
            return "jdbc:postgresql://host:port/database";
        }
    }
}
