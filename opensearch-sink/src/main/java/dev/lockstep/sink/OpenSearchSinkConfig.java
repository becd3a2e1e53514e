package dev.lockstep.sink;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/** Every option of the OpenSearch sink, defined once, grouped by concern. */
public final class OpenSearchSinkConfig extends AbstractConfig {

    private static final String CONNECTION_GROUP = "Connection";
    private static final String INDEX_GROUP = "Index";
    private static final String BATCH_GROUP = "Batching";
    private static final String ERRORS_GROUP = "Errors and retries";
    private static final String SECURITY_GROUP = "Security";

    public static final String CONNECTION_URL = "connection.url";
    public static final String CONNECTION_USERNAME = "connection.username";
    public static final String CONNECTION_PASSWORD = "connection.password";
    public static final String CONNECTION_TIMEOUT_MS = "connection.timeout.ms";
    public static final String READ_TIMEOUT_MS = "read.timeout.ms";
    public static final String VALIDATE_CONNECTION = "validate.connection";

    public static final String SSL_TRUSTSTORE_LOCATION = "connection.ssl.truststore.location";
    public static final String SSL_TRUSTSTORE_PASSWORD = "connection.ssl.truststore.password";
    public static final String SSL_TRUSTSTORE_TYPE = "connection.ssl.truststore.type";
    public static final String SSL_HOSTNAME_VERIFICATION = "connection.ssl.hostname.verification";

    public static final String INDEX_NAME_PATTERN = "index.name.pattern";
    public static final String INDEX_AUTO_CREATE = "index.auto.create";
    public static final String INDEX_VERSIONED = "index.versioned";
    public static final String INDEX_SETTINGS = "index.settings";
    public static final String INDEX_MAPPINGS = "index.mappings";
    public static final String INDEX_FIRST_LOAD_SETTINGS = "index.first.load.settings";
    public static final String INDEX_FIRST_LOAD_IDLE_MS = "index.first.load.idle.ms";
    public static final String LINEAGE_FIELD = "lineage.field";
    public static final String INDEX_MAPPINGS_DERIVE = "index.mappings.derive";
    public static final String INDEX_MAPPINGS_JSON = "index.mappings.json";
    public static final String INDEX_MAPPINGS_TIMESTAMPS = "index.mappings.timestamps";

    public static final String BATCH_SIZE = "batch.size";
    public static final String BATCH_MAX_BYTES = "batch.max.bytes";
    public static final String LINGER_MS = "linger.ms";
    public static final String PARTIAL_BULK_WAIT_MS = "partial.bulk.wait.ms";
    public static final String MAX_IN_FLIGHT_REQUESTS = "max.in.flight.requests";
    public static final String MAX_BUFFERED_RECORDS = "max.buffered.records";

    public static final String RETRY_BACKOFF_MS = "retry.backoff.ms";
    public static final String RETRY_BACKOFF_MAX_MS = "retry.backoff.max.ms";
    public static final String BEHAVIOR_ON_MALFORMED_DOCUMENTS = "behavior.on.malformed.documents";

    /** What to do with a document OpenSearch rejects for good (a retry cannot fix it). */
    public enum MalformedDocumentBehavior {
        /** Fail the task: nothing is skipped, an operator must look. */
        FAIL,
        /** Log the record's coordinates and the reason, then go on. */
        WARN,
        /** Send the record to the dead-letter queue (errant record reporter), reason in its headers. */
        REPORT;

        static final ConfigDef.Validator VALIDATOR = ConfigDef.CaseInsensitiveValidString.in("fail", "warn", "report");
    }

    /** Formats of connection.ssl.truststore.location. */
    public enum TrustStoreType {
        /** Java key store (the JDK reads PKCS12 files under this type too). */
        JKS,
        /** PKCS#12 (.p12, .pfx). */
        PKCS12,
        /** One or more -----BEGIN CERTIFICATE----- blocks (e.g. OpenSearch's root-ca.pem); no password. */
        PEM;

        static final ConfigDef.Validator VALIDATOR = ConfigDef.CaseInsensitiveValidString.in("JKS", "PKCS12", "PEM");
    }

    static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([^}]*)}");
    static final List<String> INDEX_PLACEHOLDERS = List.of("topic", "table");

    public static final ConfigDef CONFIG_DEF = configDef();

    private static ConfigDef configDef() {
        ConfigDef def = new ConfigDef();
        defineConnection(def);

        int order = 0;
        def.define(INDEX_NAME_PATTERN, Type.STRING, "${topic}", new IndexPatternValidator(), Importance.HIGH,
                "Name of the index a record goes to. ${topic} is the record's topic, ${table} the topic's last "
                        + "dot-separated part (Debezium's table name). The result is lower-cased.",
                INDEX_GROUP, ++order, Width.MEDIUM, "Index name pattern");
        def.define(INDEX_AUTO_CREATE, Type.BOOLEAN, true, Importance.MEDIUM,
                "Create the index when it does not exist (with the node's defaults and any matching index template).",
                INDEX_GROUP, ++order, Width.SHORT, "Create missing indices");
        def.define(INDEX_VERSIONED, Type.BOOLEAN, true, Importance.MEDIUM,
                "Create a missing index as its first version, <name>_v1, behind the alias <name> that searches use and the "
                        + "write alias <name>.writes that the sink writes through, so the reconciler can rebuild it into "
                        + "<name>_v2 under a new mapping and move the alias without a gap in search (docs/rebuilds.md). "
                        + "false: create <name> itself (a first rebuild then replaces it by <name>_v1). The sink writes to "
                        + "every index behind <name>.writes, whichever way the index was made.",
                INDEX_GROUP, ++order, Width.SHORT, "Versioned indices");
        def.define(INDEX_SETTINGS, Type.STRING, "", new JsonObjectValidator(), Importance.LOW,
                "Settings (a JSON object, e.g. {\"number_of_shards\": 1}) for indices the sink creates.",
                INDEX_GROUP, ++order, Width.LONG, "Index settings");
        def.define(INDEX_FIRST_LOAD_SETTINGS, Type.STRING, "{\"index.refresh_interval\": \"30s\"}", new JsonObjectValidator(), Importance.LOW,
                "Settings an index the sink creates keeps while a snapshot fills it (records with the snapshot version 0), "
                        + "for each key index.settings leaves unset. The default refreshes every 30 s instead of every second: "
                        + "refreshes cost a first load about as much of OpenSearch's CPU as the indexing itself. The load ends "
                        + "at the index's first streamed change, or once no snapshot read reached it for index.first.load.idle.ms "
                        + "and the task holds none of its operations (waiting or in flight); "
                        + "the keys then go back to the node's defaults and the index is refreshed. Empty or {}: none.",
                INDEX_GROUP, ++order, Width.LONG, "First-load settings");
        def.define(INDEX_FIRST_LOAD_IDLE_MS, Type.LONG, 2_000L, ConfigDef.Range.between(100L, 3_600_000L), Importance.LOW,
                "How long after its last snapshot read an index in its first load gets its settings back (see "
                        + "index.first.load.settings).",
                INDEX_GROUP, ++order, Width.SHORT, "First-load end after idle (ms)");
        def.define(INDEX_MAPPINGS, Type.STRING, "", new JsonObjectValidator(), Importance.MEDIUM,
                "Mappings (a JSON object, e.g. {\"properties\": {\"price\": {\"type\": \"scaled_float\", "
                        + "\"scaling_factor\": 100}}}) for indices the sink creates; the lineage field's mapping is added. "
                        + "A field mapped here keeps this mapping: it wins over the one derived from its column type.",
                INDEX_GROUP, ++order, Width.LONG, "Index mappings");
        def.define(INDEX_MAPPINGS_DERIVE, Type.BOOLEAN, true, Importance.MEDIUM,
                "Map each field from its column type, as ToSearchDocument announces it in the lockstep.field.types header "
                        + "(docs/mappings.md): an index the sink creates gets every field mapped, a new column's field is mapped "
                        + "(PUT _mapping) before its first document is indexed, and a type change the index cannot take is "
                        + "logged and shown by the lockstep_sink_mapping_conflicts gauge. false: only index.mappings and the "
                        + "lineage object are mapped; OpenSearch's dynamic mapping guesses the rest.",
                INDEX_GROUP, ++order, Width.SHORT, "Derive mappings");
        def.define(INDEX_MAPPINGS_JSON, Type.STRING, "flat_object", ConfigDef.CaseInsensitiveValidString.in("flat_object", "object", "disabled"),
                Importance.LOW,
                "How json and jsonb columns are mapped: 'flat_object' (one field, every key searchable by its path, the "
                        + "mapping never grows; values must be JSON objects or arrays of them), 'object' (dynamic subfields: "
                        + "typed, but every distinct key adds a field), or 'disabled' (kept in _source, not searchable; any JSON).",
                INDEX_GROUP, ++order, Width.SHORT, "JSON columns");
        def.define(INDEX_MAPPINGS_TIMESTAMPS, Type.STRING, "date_nanos", ConfigDef.CaseInsensitiveValidString.in("date_nanos", "date"),
                Importance.LOW,
                "How timestamp and timestamptz columns with more than millisecond precision are mapped: 'date_nanos' keeps "
                        + "their microseconds (values before 1970 or after 2262 are then not indexed, but stay in _source), "
                        + "'date' indexes milliseconds of any year. Columns of precision 0 to 3 are always 'date'.",
                INDEX_GROUP, ++order, Width.SHORT, "Timestamp columns");
        def.define(LINEAGE_FIELD, Type.STRING, "lockstep", Importance.LOW,
                "The documents' lineage object (ToSearchDocument's metadata.field). The sink adds the document id and "
                        + "the indexing time to it and maps it explicitly in indices it creates: hash_hi and hash_lo (long, "
                        + "summable), version, commit_lsn and txid (long), source_ts_ms and indexed_at (date); hash and id "
                        + "(keyword, kept in _source but not searchable: query _id for the id). Empty: documents are sent "
                        + "as they are.",
                INDEX_GROUP, ++order, Width.MEDIUM, "Lineage field");

        order = 0;
        def.define(BATCH_SIZE, Type.INT, 2_000, ConfigDef.Range.between(1, 100_000), Importance.MEDIUM,
                "Most operations in one bulk request.",
                BATCH_GROUP, ++order, Width.SHORT, "Batch size");
        def.define(BATCH_MAX_BYTES, Type.LONG, 5L * 1024 * 1024, ConfigDef.Range.between(1024, 100L * 1024 * 1024), Importance.LOW,
                "Most bytes of documents in one bulk request (estimated before serialising); a bulk closes at "
                        + "batch.size operations or at this size, whichever comes first. Keep it well below the node's "
                        + "http.max_content_length (100 MiB by default).",
                BATCH_GROUP, ++order, Width.SHORT, "Batch bytes");
        def.define(LINGER_MS, Type.LONG, 0L, ConfigDef.Range.between(0, 60_000), Importance.LOW,
                "How long a bulk that is not full may wait for more records before it is sent, in milliseconds. With "
                        + "0 it leaves at once when no other bulk is in flight; otherwise it waits for the bulk in flight and "
                        + "gathers what arrives meanwhile, so batches grow with load without adding latency when idle. "
                        + "Full bulks are pipelined up to max.in.flight.requests.",
                BATCH_GROUP, ++order, Width.SHORT, "Linger");
        def.define(PARTIAL_BULK_WAIT_MS, Type.LONG, 10L, ConfigDef.Range.between(-1, 60_000), Importance.LOW,
                "How long a bulk that is not full waits behind the bulks in flight, in milliseconds, before it is sent "
                        + "side by side with them (when max.in.flight.requests leaves a slot), so a change need not wait for "
                        + "a whole slow round trip of the bulk before. -1: wait until they finish, which makes the fewest, "
                        + "largest bulks: better for a node short of CPU, where more and smaller bulks made latency worse "
                        + "(docs/benchmarks.md).",
                BATCH_GROUP, ++order, Width.SHORT, "Partial bulk wait");
        def.define(MAX_IN_FLIGHT_REQUESTS, Type.INT, 2, ConfigDef.Range.between(1, 32), Importance.MEDIUM,
                "Most bulk requests a task has in flight at once; they stay in flight across put calls, so the task "
                        + "converts the next records while OpenSearch indexes. Full bulks go side by side, and one that is not full after partial.bulk.wait.ms. A document is never in two bulks in flight, "
                        + "so neither their order nor their retries can reorder its operations.",
                BATCH_GROUP, ++order, Width.SHORT, "Bulks in flight");
        def.define(MAX_BUFFERED_RECORDS, Type.INT, 10_000, ConfigDef.Range.between(1, 1_000_000), Importance.LOW,
                "Most records a task holds that OpenSearch has not acknowledged yet (waiting or in flight). When it is "
                        + "reached the task waits briefly, then pauses its partitions until half of them are acknowledged: "
                        + "memory stays bounded while OpenSearch is slow or down, and consumption resumes by itself.",
                BATCH_GROUP, ++order, Width.SHORT, "Buffered records");

        order = 0;
        def.define(RETRY_BACKOFF_MS, Type.LONG, 100L, ConfigDef.Range.atLeast(1), Importance.LOW,
                "First backoff before a bulk (or its failed items) is sent again after a 429, a 5xx, a timeout or a lost "
                        + "connection, in milliseconds; it doubles per retry, with jitter, up to retry.backoff.max.ms. "
                        + "Transient failures are retried without limit while the task's partitions pause "
                        + "(max.buffered.records): a record is never skipped and an outage never fails the task.",
                ERRORS_GROUP, ++order, Width.SHORT, "Retry backoff");
        def.define(RETRY_BACKOFF_MAX_MS, Type.LONG, 10_000L, ConfigDef.Range.atLeast(1), Importance.LOW,
                "Longest backoff between retries, in milliseconds.",
                ERRORS_GROUP, ++order, Width.SHORT, "Max retry backoff");
        def.define(BEHAVIOR_ON_MALFORMED_DOCUMENTS, Type.STRING, "fail", MalformedDocumentBehavior.VALIDATOR, Importance.MEDIUM,
                "What to do with a record OpenSearch rejects for good (mapping conflict, malformed document, a key "
                        + "that is no id): 'fail' the task, 'warn' and skip it, or 'report' it to the dead-letter queue "
                        + "(set errors.tolerance=all and errors.deadletterqueue.topic.name; the reason is in the "
                        + "__connect.errors.* headers when errors.deadletterqueue.context.headers.enable=true).",
                ERRORS_GROUP, ++order, Width.SHORT, "On malformed documents");
        return def;
    }

    /**
     * The connection options (URLs, basic auth, timeouts, HTTPS): every Lockstep plugin that talks to OpenSearch
     * defines them with this method, so they are spelled, validated and documented alike.
     */
    public static void defineConnection(ConfigDef def) {
        int order = 0;
        def.define(CONNECTION_URL, Type.LIST, ConfigDef.NO_DEFAULT_VALUE, new UrlListValidator(), Importance.HIGH,
                "OpenSearch node URLs, comma-separated, e.g. http://localhost:9200 or https://search-1:9200.",
                CONNECTION_GROUP, ++order, Width.LONG, "OpenSearch URLs");
        def.define(CONNECTION_USERNAME, Type.STRING, null, Importance.MEDIUM,
                "User for HTTP basic authentication; leave empty for none.",
                CONNECTION_GROUP, ++order, Width.MEDIUM, "Username");
        def.define(CONNECTION_PASSWORD, Type.PASSWORD, null, Importance.MEDIUM,
                "Password for HTTP basic authentication. Hidden in validation output and never logged; Connect returns a "
                        + "connector's stored config as written, so pass it through a config provider, e.g. "
                        + "${file:/etc/lockstep/opensearch.properties:password}.",
                CONNECTION_GROUP, ++order, Width.MEDIUM, "Password");
        def.define(CONNECTION_TIMEOUT_MS, Type.INT, 5_000, ConfigDef.Range.atLeast(1), Importance.LOW,
                "How long to wait for a connection to a node, in milliseconds.",
                CONNECTION_GROUP, ++order, Width.SHORT, "Connection timeout");
        def.define(READ_TIMEOUT_MS, Type.INT, 30_000, ConfigDef.Range.atLeast(1), Importance.LOW,
                "How long to wait for a response, in milliseconds; a timed-out bulk is retried.",
                CONNECTION_GROUP, ++order, Width.SHORT, "Read timeout");
        def.define(VALIDATE_CONNECTION, Type.BOOLEAN, true, Importance.LOW,
                "Whether config validation (PUT /connector-plugins/.../config/validate, and creating the connector) "
                        + "connects to every node with the configured credentials and reports what fails on the field to fix.",
                CONNECTION_GROUP, ++order, Width.SHORT, "Check the connection when validating");

        defineSecurity(def);
    }

    /** HTTPS: the trust store and host name verification (basic auth is in the connection group). */
    private static void defineSecurity(ConfigDef def) {
        int order = 0;
        def.define(SSL_TRUSTSTORE_LOCATION, Type.STRING, null, new FilePathValidator(), Importance.MEDIUM,
                "Trust store with the certificate of the CA that issued the nodes' certificates (or the nodes' own "
                        + "certificates), for https:// URLs. Empty: the JVM's default trust store (the public CAs, or "
                        + "javax.net.ssl.trustStore). The file is read on every worker that runs the connector or its tasks. "
                        + "Validation refuses a trust store with only http:// URLs.",
                SECURITY_GROUP, ++order, Width.LONG, "Trust store");
        def.define(SSL_TRUSTSTORE_PASSWORD, Type.PASSWORD, null, Importance.MEDIUM,
                "Password of the trust store. Not used for PEM; a JKS store opens without one (without its integrity "
                        + "check), a PKCS12 store usually needs it. Hidden in validation output and never logged; like "
                        + "connection.password, best passed through a config provider.",
                SECURITY_GROUP, ++order, Width.MEDIUM, "Trust store password");
        def.define(SSL_TRUSTSTORE_TYPE, Type.STRING, "JKS", TrustStoreType.VALIDATOR, Importance.LOW,
                "Format of the trust store: JKS, PKCS12, or PEM (one or more -----BEGIN CERTIFICATE----- blocks, such as "
                        + "the root-ca.pem of OpenSearch's demo security configuration).",
                SECURITY_GROUP, ++order, Width.SHORT, "Trust store type");
        def.define(SSL_HOSTNAME_VERIFICATION, Type.BOOLEAN, true, Importance.LOW,
                "Whether a node's certificate must name the host of its URL (a DNS or IP subject alternative name). "
                        + "Turn it off only when the certificates name other hosts than the URLs (an IP address, an alias) "
                        + "and the trust store holds only CAs you trust for every node: without it, any certificate they "
                        + "issued is accepted for any host.",
                SECURITY_GROUP, ++order, Width.SHORT, "Verify host names");
    }

    public OpenSearchSinkConfig(Map<?, ?> props) {
        super(CONFIG_DEF, props);
    }

    public List<URI> urls() {
        return getList(CONNECTION_URL).stream().map(u -> URI.create(u.trim())).toList();
    }

    public String username() {
        String user = getString(CONNECTION_USERNAME);
        return user == null || user.isBlank() ? null : user;
    }

    public Password password() {
        return getPassword(CONNECTION_PASSWORD);
    }

    /** The trust store file, or null for the JVM's default trust. */
    public Path trustStoreLocation() {
        String location = getString(SSL_TRUSTSTORE_LOCATION);
        return location == null || location.isBlank() ? null : Path.of(location.trim());
    }

    public Password trustStorePassword() {
        return getPassword(SSL_TRUSTSTORE_PASSWORD);
    }

    public TrustStoreType trustStoreType() {
        return TrustStoreType.valueOf(getString(SSL_TRUSTSTORE_TYPE).toUpperCase(Locale.ROOT));
    }

    public boolean hostnameVerification() {
        return getBoolean(SSL_HOSTNAME_VERIFICATION);
    }

    /** The options of mappings derived from column types. */
    public FieldMappings.Options fieldMappingOptions() {
        return new FieldMappings.Options(
                FieldMappings.JsonMapping.valueOf(getString(INDEX_MAPPINGS_JSON).toUpperCase(Locale.ROOT)),
                FieldMappings.TimestampMapping.valueOf(getString(INDEX_MAPPINGS_TIMESTAMPS).toUpperCase(Locale.ROOT)));
    }

    public MalformedDocumentBehavior malformedDocumentBehavior() {
        return MalformedDocumentBehavior.valueOf(getString(BEHAVIOR_ON_MALFORMED_DOCUMENTS).toUpperCase(Locale.ROOT));
    }

    static final class UrlListValidator implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            @SuppressWarnings("unchecked")
            List<String> urls = (List<String>) value;
            if (urls == null || urls.isEmpty()) {
                throw new ConfigException(name, value, "at least one OpenSearch URL is required, e.g. http://localhost:9200");
            }
            for (String url : urls) {
                String problem = problemWith(url.trim());
                if (problem != null) {
                    throw new ConfigException(name, url, problem);
                }
            }
        }

        static String problemWith(String url) {
            URI uri;
            try {
                uri = new URI(url);
            } catch (URISyntaxException e) {
                return "not a URL (" + e.getReason() + "); expected e.g. http://localhost:9200";
            }
            if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
                return "must start with http:// or https://, e.g. http://localhost:9200";
            }
            if (uri.getHost() == null || uri.getHost().isEmpty()) {
                return "has no host name; expected e.g. http://localhost:9200";
            }
            if (uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/")) {
                return "must not have a path; give the node's root URL, e.g. http://localhost:9200";
            }
            return null;
        }

        @Override
        public String toString() {
            return "http:// or https:// URLs with a host, comma-separated";
        }
    }

    static final class FilePathValidator implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            String path = (String) value;
            if (path == null || path.isBlank()) {
                return;
            }
            try {
                Path.of(path.trim());
            } catch (InvalidPathException e) {
                throw new ConfigException(name, value, "is not a file path: " + e.getReason());
            }
        }

        @Override
        public String toString() {
            return "a file path, or empty";
        }
    }

    static final class JsonObjectValidator implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            String json = (String) value;
            if (json == null || json.isBlank()) {
                return;
            }
            try {
                if (!IndexDefinition.JSON.readTree(json).isObject()) {
                    throw new ConfigException(name, json, "must be a JSON object");
                }
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new ConfigException(name, json, "is not valid JSON: " + e.getOriginalMessage());
            }
        }

        @Override
        public String toString() {
            return "a JSON object, or empty";
        }
    }

    static final class IndexPatternValidator implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            String pattern = (String) value;
            if (pattern == null || pattern.isBlank()) {
                throw new ConfigException(name, value, "must not be empty");
            }
            Matcher m = PLACEHOLDER.matcher(pattern);
            while (m.find()) {
                if (!INDEX_PLACEHOLDERS.contains(m.group(1))) {
                    throw new ConfigException(name, value, "unknown placeholder ${" + m.group(1) + "}; known: ${topic}, ${table}");
                }
            }
        }

        @Override
        public String toString() {
            return "text with ${topic} and/or ${table}";
        }
    }
}
