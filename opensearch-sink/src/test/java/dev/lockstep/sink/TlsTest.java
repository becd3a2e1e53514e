package dev.lockstep.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.common.config.types.Password;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Trust stores (JKS, PKCS12, PEM), the security options' checks in validate(), and TLS failures against an in-JVM
 * HTTPS server: certificates made with the JDK's keytool, a server certificate for DNS:localhost only (so
 * https://127.0.0.1 is a host name mismatch), and a second, unrelated CA.
 */
class TlsTest {
    private static final String STORE_PASSWORD = "trust-Store-pw-1";
    private static final String USER = "sink";
    private static final String USER_PASSWORD = "Unit-test-Pw-42";
    private static final String INFO = """
            {"name":"unit","cluster_name":"unit","cluster_uuid":"u","version":{"distribution":"opensearch","number":"2.19.4",
            "build_type":"zip","build_hash":"x","build_date":"2025-11-01T02:35:07.862712745Z","build_snapshot":false,
            "lucene_version":"9.12.3","minimum_wire_compatibility_version":"7.10.0","minimum_index_compatibility_version":"7.0.0"},
            "tagline":"The OpenSearch Project: https://opensearch.org/"}""";

    @TempDir
    static Path dir;
    static Path caPem;
    static Path otherCaPem;
    static Path trustJks;
    static Path trustP12;
    static HttpsServer server;
    static int port;

    @BeforeAll
    static void certificatesAndServer() throws Exception {
        keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=Unit Test CA,O=Lockstep",
                "-ext", "bc:c", "-validity", "3650", "-keystore", "ca.p12", "-storetype", "PKCS12", "-storepass", STORE_PASSWORD);
        keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", "ca.p12", "-storepass", STORE_PASSWORD, "-file", "ca.pem");
        keytool("-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost,O=Lockstep",
                "-validity", "3650", "-keystore", "server.p12", "-storetype", "PKCS12", "-storepass", STORE_PASSWORD);
        keytool("-certreq", "-alias", "server", "-keystore", "server.p12", "-storepass", STORE_PASSWORD, "-file", "server.csr");
        keytool("-gencert", "-alias", "ca", "-keystore", "ca.p12", "-storepass", STORE_PASSWORD, "-infile", "server.csr",
                "-outfile", "server.pem", "-rfc", "-ext", "san=dns:localhost", "-ext", "eku=serverAuth", "-validity", "3650");
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", "ca.pem", "-keystore", "server.p12", "-storepass", STORE_PASSWORD);
        keytool("-importcert", "-alias", "server", "-file", "server.pem", "-keystore", "server.p12", "-storepass", STORE_PASSWORD);
        keytool("-genkeypair", "-alias", "other", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=Other CA,O=Somebody else",
                "-ext", "bc:c", "-validity", "3650", "-keystore", "other.p12", "-storetype", "PKCS12", "-storepass", STORE_PASSWORD);
        keytool("-exportcert", "-rfc", "-alias", "other", "-keystore", "other.p12", "-storepass", STORE_PASSWORD, "-file", "other.pem");
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", "ca.pem", "-keystore", "trust.jks", "-storetype", "JKS",
                "-storepass", STORE_PASSWORD);
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", "ca.pem", "-keystore", "trust.p12", "-storetype", "PKCS12",
                "-storepass", STORE_PASSWORD);
        caPem = dir.resolve("ca.pem");
        otherCaPem = dir.resolve("other.pem");
        trustJks = dir.resolve("trust.jks");
        trustP12 = dir.resolve("trust.p12");

        KeyStore serverKeys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(dir.resolve("server.p12"))) {
            serverKeys.load(in, STORE_PASSWORD.toCharArray());
        }
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(serverKeys, STORE_PASSWORD.toCharArray());
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys.getKeyManagers(), null, null);
        server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(context));
        String expected = "Basic " + Base64.getEncoder().encodeToString((USER + ":" + USER_PASSWORD).getBytes(StandardCharsets.UTF_8));
        server.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            if (!expected.equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                exchange.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"unit\"");
                exchange.sendResponseHeaders(401, -1);
            } else {
                byte[] body = INFO.getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().add("Content-Type", "application/json");
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
            }
            exchange.close();
        });
        server.start();
        port = server.getAddress().getPort();
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.stop(0);
        }
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("keytool %s: %s", String.join(" ", args), out).isZero();
    }

    /** A config for the in-JVM server at https://{host}, trusting its CA through a PEM file. */
    private static Map<String, String> config(String host) {
        Map<String, String> props = new HashMap<>();
        props.put("connection.url", "https://" + host + ":" + port);
        props.put("connection.username", USER);
        props.put("connection.password", USER_PASSWORD);
        props.put("connection.ssl.truststore.location", caPem.toString());
        props.put("connection.ssl.truststore.type", "PEM");
        props.put("connection.timeout.ms", "3000");
        return props;
    }

    private static List<String> errors(Map<String, String> props, String field) {
        return new OpenSearchSinkConnector().validate(props).configValues().stream().filter(v -> v.name().equals(field))
                .map(ConfigValue::errorMessages).findFirst().orElseThrow();
    }

    private static List<String> allErrors(Map<String, String> props) {
        List<String> all = new ArrayList<>();
        new OpenSearchSinkConnector().validate(props).configValues()
                .forEach(v -> v.errorMessages().forEach(e -> all.add(v.name() + ": " + e)));
        return all;
    }

    // ---- trust store files

    @Test
    void loadsEachTypeOfTrustStore() throws Exception {
        assertThat(Tls.loadTrustStore(caPem, OpenSearchSinkConfig.TrustStoreType.PEM, null).size()).isEqualTo(1);
        assertThat(Tls.loadTrustStore(trustJks, OpenSearchSinkConfig.TrustStoreType.JKS, new Password(STORE_PASSWORD)).size()).isEqualTo(1);
        assertThat(Tls.loadTrustStore(trustP12, OpenSearchSinkConfig.TrustStoreType.PKCS12, new Password(STORE_PASSWORD)).size()).isEqualTo(1);
        // A JKS store opens without its password (no integrity check), as keytool -list does.
        assertThat(Tls.loadTrustStore(trustJks, OpenSearchSinkConfig.TrustStoreType.JKS, null).size()).isEqualTo(1);
    }

    @Test
    void pemWithSeveralCertificatesAndTextAroundThem() throws Exception {
        Path bundle = dir.resolve("bundle.pem");
        Files.writeString(bundle, "subject=CN=Unit Test CA\n" + Files.readString(caPem) + "\n# another\n" + Files.readString(otherCaPem));
        assertThat(Tls.loadTrustStore(bundle, OpenSearchSinkConfig.TrustStoreType.PEM, null).size()).isEqualTo(2);
    }

    @Test
    void wrongPasswordIsAnErrorOnThePassword() {
        for (String type : List.of("JKS", "PKCS12")) {
            Map<String, String> props = config("localhost");
            props.put("connection.ssl.truststore.location", (type.equals("JKS") ? trustJks : trustP12).toString());
            props.put("connection.ssl.truststore.type", type);
            props.put("connection.ssl.truststore.password", "not-the-password");
            assertThat(errors(props, "connection.ssl.truststore.password")).as(type).singleElement().asString()
                    .contains("password is wrong").contains(type).doesNotContain("not-the-password");
            assertThat(errors(props, "connection.ssl.truststore.location")).isEmpty();
        }
    }

    @Test
    void pkcs12WithoutPasswordAsksForIt() {
        Map<String, String> props = config("localhost");
        props.put("connection.ssl.truststore.location", trustP12.toString());
        props.put("connection.ssl.truststore.type", "pkcs12");
        assertThat(errors(props, "connection.ssl.truststore.password")).singleElement().asString()
                .contains("holds no certificate").contains("set connection.ssl.truststore.password");
    }

    @Test
    void missingFileFolderAndWrongFormatAreErrorsOnTheLocation() throws Exception {
        Map<String, String> props = config("localhost");
        props.put("connection.ssl.truststore.location", dir.resolve("nope.pem").toString());
        assertThat(errors(props, "connection.ssl.truststore.location")).singleElement().asString()
                .contains("nope.pem").contains("no such file");

        props.put("connection.ssl.truststore.location", dir.toString());
        assertThat(errors(props, "connection.ssl.truststore.location")).singleElement().asString().contains("it is a folder");

        props.put("connection.ssl.truststore.location", caPem.toString());
        props.put("connection.ssl.truststore.type", "JKS");
        assertThat(errors(props, "connection.ssl.truststore.location")).singleElement().asString()
                .contains("as JKS").contains("set connection.ssl.truststore.type=PEM");

        props.put("connection.ssl.truststore.location", trustJks.toString());
        props.put("connection.ssl.truststore.type", "PEM");
        assertThat(errors(props, "connection.ssl.truststore.location")).singleElement().asString()
                .contains("holds no -----BEGIN CERTIFICATE----- block").contains("connection.ssl.truststore.type");

        Path key = dir.resolve("key.pem");
        Files.writeString(key, "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n");
        props.put("connection.ssl.truststore.location", key.toString());
        assertThat(errors(props, "connection.ssl.truststore.location")).singleElement().asString().contains("private key");
    }

    @Test
    void trustStoreWithOnlyHttpUrlsIsAnErrorOnTheTrustStore() {
        Map<String, String> props = config("localhost");
        props.put("connection.url", "http://localhost:9200,http://other:9200");
        props.put("validate.connection", "false");
        assertThat(errors(props, "connection.ssl.truststore.location")).singleElement().asString()
                .contains("only for https:// URLs").contains("http://localhost:9200");
    }

    @Test
    void trustStorePasswordWithoutTrustStore() {
        Map<String, String> props = config("localhost");
        props.remove("connection.ssl.truststore.location");
        props.put("connection.ssl.truststore.password", "x");
        props.put("validate.connection", "false");
        assertThat(errors(props, "connection.ssl.truststore.password")).singleElement().asString()
                .contains("connection.ssl.truststore.location is not");
    }

    @ParameterizedTest
    @ValueSource(strings = {"P12", "pem2", ""})
    void trustStoreTypeIsOneOfThree(String type) {
        Map<String, String> props = config("localhost");
        props.put("connection.ssl.truststore.type", type);
        assertThatThrownBy(() -> new OpenSearchSinkConfig(props)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("connection.ssl.truststore.type");
        assertThat(errors(props, "connection.ssl.truststore.type")).isNotEmpty();
    }

    @Test
    void securityDefaults() {
        OpenSearchSinkConfig config = new OpenSearchSinkConfig(Map.of("connection.url", "https://localhost:9200"));
        assertThat(config.trustStoreLocation()).isNull();
        assertThat(config.trustStorePassword()).isNull();
        assertThat(config.trustStoreType()).isEqualTo(OpenSearchSinkConfig.TrustStoreType.JKS);
        assertThat(config.hostnameVerification()).isTrue();
        Map<String, String> props = config("localhost");
        props.put("connection.ssl.truststore.type", "pem");
        props.put("connection.ssl.truststore.password", "secret-value");
        assertThat(new OpenSearchSinkConfig(props).trustStoreType()).isEqualTo(OpenSearchSinkConfig.TrustStoreType.PEM);
        assertThat(new OpenSearchSinkConfig(props).toString()).doesNotContain("secret-value");
    }

    @Test
    void connectorStartFailsOnAnUnusableTrustStore() {
        Map<String, String> props = config("localhost");
        props.put("connection.ssl.truststore.location", dir.resolve("gone.jks").toString());
        props.put("connection.ssl.truststore.type", "JKS");
        assertThatThrownBy(() -> new OpenSearchSinkConnector().start(props)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("connection.ssl.truststore.location").hasMessageContaining("gone.jks");
    }

    // ---- against the HTTPS server

    @ParameterizedTest
    @ValueSource(strings = {"PEM", "JKS", "PKCS12"})
    void rightSettingsValidateClean(String type) {
        Map<String, String> props = config("localhost");
        props.put("connection.ssl.truststore.type", type);
        if (!type.equals("PEM")) {
            props.put("connection.ssl.truststore.location", (type.equals("JKS") ? trustJks : trustP12).toString());
            props.put("connection.ssl.truststore.password", STORE_PASSWORD);
        }
        assertThat(allErrors(props)).isEmpty();
    }

    @Test
    void untrustedCertificateIsAnErrorOnTheTrustStoreNamingTheCertificate() {
        Map<String, String> props = config("localhost");
        props.put("connection.ssl.truststore.location", otherCaPem.toString());
        assertThat(errors(props, "connection.ssl.truststore.location")).singleElement().asString()
                .contains("is not trusted by the trust store " + otherCaPem)
                .contains("subject CN=localhost,O=Lockstep").contains("issued by CN=Unit Test CA,O=Lockstep");
        assertThat(errors(props, "connection.url")).isEmpty();
    }

    @Test
    void withoutTrustStoreTheJvmDefaultTrustDoesNotKnowAPrivateCa() {
        Map<String, String> props = config("localhost");
        props.remove("connection.ssl.truststore.location");
        props.remove("connection.ssl.truststore.type");
        assertThat(errors(props, "connection.ssl.truststore.location")).singleElement().asString()
                .contains("not trusted by the JVM's default trust store").contains("set connection.ssl.truststore.location");
    }

    @Test
    void hostNameMismatchIsAnErrorOnTheUrlUnlessVerificationIsOff() {
        Map<String, String> props = config("127.0.0.1"); // the certificate names DNS:localhost only
        assertThat(errors(props, "connection.url")).singleElement().asString()
                .contains("does not match the host name 127.0.0.1").contains("DNS:localhost")
                .contains("connection.ssl.hostname.verification=false");
        assertThat(errors(props, "connection.ssl.truststore.location")).isEmpty();

        props.put("connection.ssl.hostname.verification", "false");
        assertThat(allErrors(props)).isEmpty();
    }

    @Test
    void wrongCredentialsAreAnErrorOnThePassword() {
        Map<String, String> props = config("localhost");
        props.put("connection.password", "Wrong-pw-99");
        assertThat(errors(props, "connection.password")).singleElement().asString().contains("401").doesNotContain("Wrong-pw-99");
    }

    @Test
    void httpsToAPlainHttpPortSaysSo() throws Exception {
        try (java.net.ServerSocket plain = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            Thread answer = new Thread(() -> {
                try (var s = plain.accept()) {
                    s.getInputStream().read(new byte[512]);
                    s.getOutputStream().write("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                } catch (IOException ignored) {
                    // test ends
                }
            });
            answer.setDaemon(true);
            answer.start();
            Map<String, String> props = config("localhost");
            props.put("connection.url", "https://localhost:" + plain.getLocalPort());
            assertThat(errors(props, "connection.url")).singleElement().asString().contains("cannot reach OpenSearch")
                    .contains("if it serves plain HTTP, use http://");
        }
    }
}
