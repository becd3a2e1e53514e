package dev.lockstep.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The sink against the stack's secured OpenSearch node (security plugin: HTTPS with the stack's own CA, basic auth):
 * what a user gets wrong fails validation on the option to fix, the right settings validate and index, and
 * passwords stay out of validation output and the worker's log.
 */
@ExtendWith(StackExtension.class)
class SinkSecurityIT {
    private static final String SINK = "dev.lockstep.sink.OpenSearchSinkConnector";
    private static final String STORE_PASSWORD = "It-Store-pw-" + UUID.randomUUID().toString().substring(0, 8);

    static LocalStack.SecureNode node;
    static Path work;
    static Path trustJks;
    static Path trustP12;
    /** A properties file with the trust stores' password (key store.password), for the worker's file provider. */
    static Path storePasswordFile;

    @BeforeAll
    static void secureNodeAndTrustStores(LocalStack stack) throws Exception {
        node = stack.startSecureNode();
        work = stack.repo().resolve("integration-tests/target/security-it").toAbsolutePath();
        Files.createDirectories(work);
        trustJks = trustStore("JKS", work.resolve("trust.jks"));
        trustP12 = trustStore("PKCS12", work.resolve("trust.p12"));
        storePasswordFile = work.resolve("store.properties");
        Files.writeString(storePasswordFile, "store.password=" + STORE_PASSWORD + "\n");
    }

    @AfterAll
    static void stopSecureNode() {
        if (node != null) {
            node.close(); // only if this class started it
        }
    }

    /** The node's CA in a JKS or PKCS12 store, as keytool -importcert would make it. */
    private static Path trustStore(String type, Path file) throws Exception {
        KeyStore store = KeyStore.getInstance(type);
        store.load(null, null);
        try (InputStream in = Files.newInputStream(node.caPem)) {
            store.setCertificateEntry("lockstep-stack-ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        try (OutputStream out = Files.newOutputStream(file)) {
            store.store(out, STORE_PASSWORD.toCharArray());
        }
        return file;
    }

    /** The settings a user of the secured node needs: its URL, admin through the file provider, its CA as PEM. */
    private static Map<String, String> secureConfig() {
        Map<String, String> config = new HashMap<>();
        config.put("connector.class", SINK);
        config.put("name", "security-probe");
        config.put("topics", "t");
        config.put("connection.url", node.url);
        config.put("connection.username", node.user);
        config.put("connection.password", node.passwordReference());
        config.put("connection.ssl.truststore.location", node.caPem.toString());
        config.put("connection.ssl.truststore.type", "PEM");
        return config;
    }

    private static JsonNode validate(LocalStack stack, Map<String, String> config) {
        Http.Response r = new Connectors(stack).validate(SINK, config);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return r.body();
    }

    private static List<String> errorsOf(JsonNode validation, String field) {
        return SinkConfigValidationIT.errorsOf(validation, field);
    }

    private static String valueOf(JsonNode validation, String field) {
        for (JsonNode config : validation.path("configs")) {
            if (config.path("value").path("name").asText().equals(field)) {
                return config.path("value").path("value").asText(null);
            }
        }
        throw new AssertionError("no " + field + " in the validation result");
    }

    @ParameterizedTest
    @ValueSource(strings = {"PEM", "JKS", "PKCS12"})
    void rightSettingsValidateClean(String type, LocalStack stack) {
        Map<String, String> config = secureConfig();
        config.put("connection.ssl.truststore.type", type);
        if (!type.equals("PEM")) {
            config.put("connection.ssl.truststore.location", (type.equals("JKS") ? trustJks : trustP12).toString());
            config.put("connection.ssl.truststore.password", "${file:" + storePasswordFile + ":store.password}");
        }
        JsonNode result = validate(stack, config);
        assertThat(result.path("error_count").asInt()).as(result.toString()).isZero();
    }

    @Test
    void wrongPasswordIsAnErrorOnThePassword(LocalStack stack) {
        Map<String, String> config = secureConfig();
        config.put("connection.password", "Not-the-admin-pw-7");
        Http.Response r = new Connectors(stack).validate(SINK, config);
        JsonNode result = r.body();
        assertThat(errorsOf(result, "connection.password")).singleElement().asString()
                .contains("OpenSearch at " + node.url + " refused the credentials (401 Unauthorized)")
                .contains("check connection.username and connection.password");
        assertThat(result.path("error_count").asInt()).isEqualTo(1);
        assertThat(r.text()).doesNotContain("Not-the-admin-pw-7");
    }

    @Test
    void untrustedCertificateIsAnErrorOnTheTrustStoreNamingTheCertificate(LocalStack stack) {
        Map<String, String> config = secureConfig();
        config.put("connection.ssl.truststore.location", node.untrustedCaPem.toString());
        JsonNode result = validate(stack, config);
        assertThat(errorsOf(result, "connection.ssl.truststore.location")).singleElement().asString()
                .contains("OpenSearch at " + node.url + " presented a certificate that is not trusted by the trust store "
                        + node.untrustedCaPem + " (PEM)")
                .contains("subject CN=localhost,OU=lockstep-stack,O=Lockstep test")
                .contains("issued by CN=Lockstep stack test CA,OU=lockstep-stack,O=Lockstep test");
        assertThat(result.path("error_count").asInt()).isEqualTo(1);
    }

    @Test
    void withoutTrustStoreTheJvmDefaultTrustRefusesTheNodeOnTheTrustStoreOption(LocalStack stack) {
        Map<String, String> config = secureConfig();
        config.remove("connection.ssl.truststore.location");
        config.remove("connection.ssl.truststore.type");
        JsonNode result = validate(stack, config);
        assertThat(errorsOf(result, "connection.ssl.truststore.location")).singleElement().asString()
                .contains("not trusted by the JVM's default trust store").contains("issued by CN=Lockstep stack test CA")
                .contains("set connection.ssl.truststore.location");
    }

    @Test
    void wrongHostNameIsAnErrorOnTheUrlAndVerificationCanBeTurnedOff(LocalStack stack) throws Exception {
        String alias = loopbackAlias();
        assumeThat(alias).as("a host name other than localhost that resolves to 127.0.0.1 only").isNotNull();
        Map<String, String> config = secureConfig();
        String url = "https://" + alias + ":" + node.port();
        config.put("connection.url", url);
        JsonNode result = validate(stack, config);
        assertThat(errorsOf(result, "connection.url")).singleElement().asString()
                .contains("the certificate of OpenSearch at " + url + " does not match the host name " + alias)
                .contains("it is for DNS:localhost, IP:127.0.0.1")
                .contains("connection.ssl.hostname.verification=false");
        assertThat(result.path("error_count").asInt()).isEqualTo(1);

        config.put("connection.ssl.hostname.verification", "false");
        JsonNode off = validate(stack, config);
        assertThat(off.path("error_count").asInt()).as(off.toString()).isZero();
    }

    @Test
    void plainHttpToTheSecuredNodeSuggestsHttps(LocalStack stack) {
        Map<String, String> config = secureConfig();
        config.remove("connection.ssl.truststore.location");
        config.remove("connection.ssl.truststore.type");
        config.put("connection.url", "http://localhost:" + node.port());
        JsonNode result = validate(stack, config);
        assertThat(errorsOf(result, "connection.url")).singleElement().asString()
                .contains("cannot reach OpenSearch at http://localhost:" + node.port()).contains("use https://");
    }

    @Test
    void trustStoreWithOnlyHttpUrlsIsAnErrorOnTheTrustStore(LocalStack stack) {
        Map<String, String> config = secureConfig();
        config.put("connection.url", stack.openSearchUrl());
        JsonNode result = validate(stack, config);
        assertThat(errorsOf(result, "connection.ssl.truststore.location")).singleElement().asString()
                .contains("a trust store is used only for https:// URLs").contains(stack.openSearchUrl());
    }

    @Test
    void wrongTrustStorePasswordIsAnErrorOnThatPassword(LocalStack stack) {
        Map<String, String> config = secureConfig();
        config.put("connection.ssl.truststore.location", trustJks.toString());
        config.put("connection.ssl.truststore.type", "JKS");
        config.put("connection.ssl.truststore.password", "Wrong-store-pw-3");
        Http.Response r = new Connectors(stack).validate(SINK, config);
        assertThat(errorsOf(r.body(), "connection.ssl.truststore.password")).singleElement().asString()
                .contains("cannot open the trust store " + trustJks + " (JKS): the password is wrong");
        assertThat(r.text()).doesNotContain("Wrong-store-pw-3");
    }

    @Test
    void validationMasksBothPasswords(LocalStack stack) {
        Map<String, String> config = secureConfig();
        config.put("connection.password", node.password()); // in plain text this time
        config.put("connection.ssl.truststore.location", trustP12.toString());
        config.put("connection.ssl.truststore.type", "PKCS12");
        config.put("connection.ssl.truststore.password", STORE_PASSWORD);
        Http.Response r = new Connectors(stack).validate(SINK, config);
        assertThat(r.body().path("error_count").asInt()).as("error count").isZero();
        assertThat(r.text()).as("validation output").doesNotContain(node.password()).doesNotContain(STORE_PASSWORD);
        assertThat(valueOf(r.body(), "connection.password")).isEqualTo("[hidden]");
        assertThat(valueOf(r.body(), "connection.ssl.truststore.password")).isEqualTo("[hidden]");
    }

    @Test
    void connectorIndexesIntoTheSecuredNodeAndItsStoredConfigHoldsOnlyReferences(LocalStack stack) throws Exception {
        String name = "security-it-" + UUID.randomUUID().toString().substring(0, 8);
        Map<String, String> config = secureConfig();
        config.remove("name");
        config.put("topics", name);
        config.put("connection.ssl.truststore.location", trustJks.toString());
        config.put("connection.ssl.truststore.type", "JKS");
        config.put("connection.ssl.truststore.password", "${file:" + storePasswordFile + ":store.password}");
        config.put("key.converter", "org.apache.kafka.connect.storage.StringConverter");
        config.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
        config.put("value.converter.schemas.enable", "false");
        config.put("lineage.field", "");
        Connectors connectors = new Connectors(stack);
        try {
            produce(stack, name, 5);
            connectors.create(name, config);
            connectors.awaitRunning(name);
            Awaitility.await("5 documents in " + name + " on the secured node").atMost(Duration.ofSeconds(90))
                    .pollInterval(Duration.ofSeconds(1)).until(() -> {
                        HttpResponse<String> count = https("GET", "/" + name + "/_count", node.password());
                        return count.statusCode() == 200 && Http.JSON.readTree(count.body()).path("count").asInt() == 5;
                    });
            JsonNode doc = Http.JSON.readTree(https("GET", "/" + name + "/_doc/3", node.password()).body());
            assertThat(doc.path("_source").path("n").asInt()).isEqualTo(3);
            assertThat(doc.path("_source").path("name").asText()).isEqualTo("item-3");

            // Connect shows a connector's config as stored: here the references, never what they resolve to.
            Http.Response stored = Http.get(stack.connectUrl() + "/connectors/" + name + "/config");
            assertThat(stored.body().path("connection.password").asText()).isEqualTo(node.passwordReference());
            assertThat(stored.body().path("connection.ssl.truststore.password").asText()).startsWith("${file:");
            assertThat(stored.text()).doesNotContain(node.password()).doesNotContain(STORE_PASSWORD);
            assertThat(Files.readString(stack.stackDir().resolve("logs/connect.log"))).as("the worker's log")
                    .doesNotContain(node.password()).doesNotContain(STORE_PASSWORD);
        } finally {
            connectors.deleteQuietly(name);
            https("DELETE", "/" + name, node.password());
        }
    }

    /**
     * A user who may read but not write: the bulk is refused for good (403), so the task fails with OpenSearch's
     * reason instead of retrying forever, and commits nothing. With the right user, every record is indexed.
     */
    @Test
    void aBulkRefusedForGoodFailsTheTaskWithTheReasonAndLosesNothing(LocalStack stack) throws Exception {
        String name = "security-it-ro-" + UUID.randomUUID().toString().substring(0, 8);
        String reader = name + "-reader";
        String readerPassword = "Rd-" + UUID.randomUUID() + "-x9!";
        Connectors connectors = new Connectors(stack);
        try {
            HttpResponse<String> user = https("PUT", "/_plugins/_security/api/internalusers/" + reader, node.password(),
                    Http.JSON.writeValueAsString(Map.of("password", readerPassword, "opendistro_security_roles", List.of("readall"))));
            assertThat(user.statusCode()).as(user.body()).isIn(200, 201);
            assertThat(https("PUT", "/" + name, node.password()).statusCode()).isEqualTo(200);
            produce(stack, name, 5);

            Map<String, String> config = secureConfig();
            config.remove("name");
            config.put("topics", name);
            config.put("connection.username", reader);
            config.put("connection.password", readerPassword);
            config.put("validate.connection", "false");
            config.put("index.auto.create", "false"); // the index exists; the reader may not create one
            config.put("key.converter", "org.apache.kafka.connect.storage.StringConverter");
            config.put("value.converter", "org.apache.kafka.connect.converters.ByteArrayConverter");
            config.put("lineage.field", "");
            // A refusal is not a document's fault: even with rejected documents going to the DLQ, the task must fail.
            config.put("behavior.on.malformed.documents", "report");
            config.put("errors.tolerance", "all");
            config.put("errors.deadletterqueue.topic.name", name + "-dlq");
            config.put("errors.deadletterqueue.topic.replication.factor", "1");
            connectors.create(name, config);
            String[] trace = new String[1];
            Awaitility.await("the task of " + name + " FAILED").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                    .until(() -> {
                        JsonNode task = Http.get(stack.connectUrl() + "/connectors/" + name + "/status").body().path("tasks").path(0);
                        trace[0] = task.path("trace").asText();
                        return task.path("state").asText().equals("FAILED");
                    });
            assertThat(trace[0]).contains("OpenSearch refused the bulk request (status 403").contains("security_exception")
                    .contains("no permissions");
            assertThat(Topics.committed(stack, "connect-" + name, name)).as("offset committed by the failed task").isLessThanOrEqualTo(0);

            config.put("connection.username", node.user);
            config.put("connection.password", node.passwordReference());
            connectors.create(name, config); // a new config restarts the task
            Awaitility.await("5 documents in " + name + " once the user may write").atMost(Duration.ofSeconds(90))
                    .pollInterval(Duration.ofSeconds(1)).until(() -> {
                        HttpResponse<String> count = https("GET", "/" + name + "/_count", node.password());
                        return count.statusCode() == 200 && Http.JSON.readTree(count.body()).path("count").asInt() == 5;
                    });
        } finally {
            connectors.deleteQuietly(name);
            https("DELETE", "/" + name, node.password());
            https("DELETE", "/_plugins/_security/api/internalusers/" + reader, node.password());
        }
    }

    /**
     * What Connect itself does with a PASSWORD option written in plain text: validation hides it, the worker's log
     * shows [hidden], but GET /connectors/{name}/config (like GET /connectors/{name} and .../tasks) returns it as
     * stored. Hence the advice in docs/installing.md to pass passwords through a config provider.
     */
    @Test
    void connectShowsAPlainTextPasswordInTheStoredConfigButNotInItsLog(LocalStack stack) throws Exception {
        String name = "security-it-plain-" + UUID.randomUUID().toString().substring(0, 8);
        String dummy = "Plain-Dummy-" + UUID.randomUUID().toString().substring(0, 8);
        Map<String, String> config = secureConfig();
        config.remove("name");
        config.put("topics", name);
        config.put("connection.password", dummy);
        config.put("validate.connection", "false"); // the dummy would be refused; the topic stays empty, so no request is made
        Connectors connectors = new Connectors(stack);
        try {
            connectors.create(name, config);
            connectors.awaitRunning(name);
            Http.Response stored = Http.get(stack.connectUrl() + "/connectors/" + name + "/config");
            assertThat(stored.body().path("connection.password").asText()).as("Connect does not mask stored configs")
                    .isEqualTo(dummy);
            Http.Response validation = connectors.validate(SINK, config);
            assertThat(validation.text()).doesNotContain(dummy);
            assertThat(Files.readString(stack.stackDir().resolve("logs/connect.log"))).as("the worker's log").doesNotContain(dummy);
        } finally {
            connectors.deleteQuietly(name);
        }
    }

    private static void produce(LocalStack stack, String topic, int count) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrap());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            for (int i = 1; i <= count; i++) {
                producer.send(new ProducerRecord<>(topic, Integer.toString(i), "{\"name\":\"item-" + i + "\",\"n\":" + i + "}"));
            }
            producer.flush();
        }
    }

    /** A request to the secured node as its admin, trusting only the stack's CA (and checking the host name). */
    private static HttpResponse<String> https(String method, String path, String password) throws Exception {
        return https(method, path, password, null);
    }

    private static HttpResponse<String> https(String method, String path, String password, String json) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(node.caPem)) {
            trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        HttpClient client = HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
        String auth = Base64.getEncoder().encodeToString((node.user + ":" + password).getBytes(StandardCharsets.UTF_8));
        HttpRequest request = HttpRequest.newBuilder(URI.create(node.url + path)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Basic " + auth).header("Content-Type", "application/json")
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json)).build();
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** This machine's host name when it resolves to 127.0.0.1 only (so the node answers there): not in the certificate. */
    static String loopbackAlias() {
        try {
            String name = InetAddress.getLocalHost().getHostName();
            if (name == null || name.isBlank() || name.equalsIgnoreCase("localhost") || Character.isDigit(name.charAt(0))) {
                return null;
            }
            for (InetAddress address : InetAddress.getAllByName(name)) {
                if (!address.getHostAddress().equals("127.0.0.1")) {
                    return null;
                }
            }
            return name;
        } catch (java.io.IOException e) {
            return null;
        }
    }
}
