package dev.lockstep.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/** The installable bundle: our jars and dependencies only, a manifest, and service entries for every plugin. */
class BundleLayoutTest {
    private final Path bundle = Path.of(System.getProperty("lockstep.bundle.dir",
            "../connect-plugins/target/lockstep-kafka-connect-0.1.0-SNAPSHOT"));

    private List<Path> jars() throws IOException {
        try (Stream<Path> files = Files.list(bundle.resolve("lib"))) {
            return files.filter(p -> p.toString().endsWith(".jar")).sorted().toList();
        }
    }

    @Test
    void libHoldsNoKafkaOrSlf4jJars() throws IOException {
        List<String> names = jars().stream().map(p -> p.getFileName().toString()).toList();
        assertThat(names).anyMatch(n -> n.startsWith("lockstep-opensearch-sink-"))
                .anyMatch(n -> n.startsWith("lockstep-smt-"))
                .anyMatch(n -> n.startsWith("lockstep-reconcile-source-connector-"))
                .anyMatch(n -> n.startsWith("opensearch-java-"))
                .noneMatch(n -> n.startsWith("kafka-") || n.startsWith("connect-") || n.startsWith("slf4j-"));
    }

    @Test
    void manifestNamesTheBundleAndItsVersion() throws IOException {
        JsonNode manifest = Http.JSON.readTree(bundle.resolve("manifest.json").toFile());
        assertThat(manifest.path("name").asText()).isEqualTo("lockstep-kafka-connect");
        assertThat(manifest.path("version").asText()).isEqualTo(bundle.getFileName().toString().substring("lockstep-kafka-connect-".length()));
        assertThat(manifest.path("component_types")).hasSize(3);
        assertThat(manifest.toString()).doesNotContain("${");
    }

    @Test
    void everyServiceEntryNamesALoadableClassOfTheRightKind() throws Exception {
        List<String> entries = new ArrayList<>();
        List<URL> urls = new ArrayList<>();
        for (Path jar : jars()) {
            urls.add(jar.toUri().toURL());
            try (JarFile jf = new JarFile(jar.toFile())) {
                jf.stream().filter(e -> e.getName().startsWith("META-INF/services/org.apache.kafka.connect.")).forEach(e -> {
                    try (InputStream in = jf.getInputStream(e)) {
                        String service = e.getName().substring("META-INF/services/".length());
                        for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                            if (!line.isBlank() && !line.startsWith("#")) {
                                entries.add(service + "=" + line.trim());
                            }
                        }
                    } catch (IOException ex) {
                        throw new IllegalStateException(ex);
                    }
                });
            }
        }
        assertThat(entries).contains(
                "org.apache.kafka.connect.sink.SinkConnector=dev.lockstep.sink.OpenSearchSinkConnector",
                "org.apache.kafka.connect.source.SourceConnector=dev.lockstep.reconcile.ReconcileSourceConnector",
                "org.apache.kafka.connect.transforms.Transformation=dev.lockstep.smt.ToSearchDocument");
        try (URLClassLoader loader = new URLClassLoader(urls.toArray(URL[]::new), getClass().getClassLoader())) {
            for (String entry : entries) {
                String[] parts = entry.split("=");
                Class<?> service = Class.forName(parts[0], false, loader);
                Class<?> impl = Class.forName(parts[1], false, loader);
                assertThat(service.isAssignableFrom(impl)).as(entry).isTrue();
            }
        }
    }

    @Test
    void zipHoldsTheSameFolder() throws IOException {
        Path zip = bundle.resolveSibling(bundle.getFileName() + ".zip");
        String base = bundle.getFileName().toString();
        try (ZipFile zf = new ZipFile(zip.toFile())) {
            assertThat(zf.getEntry(base + "/manifest.json")).isNotNull();
            for (Path jar : jars()) {
                assertThat(zf.getEntry(base + "/lib/" + jar.getFileName())).as(jar.getFileName().toString()).isNotNull();
            }
        }
    }
}
