package dev.lockstep.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.awaitility.Awaitility;

/**
 * A second Connect worker, started like the stack's own (the same JVM, classpath, plugins and environment, read from
 * the running worker's command line and /proc), on its own port, with its config's lines rewritten by the test:
 * the same group joins the stack's cluster, another group makes a cluster of its own. Stopped and its files removed
 * on close.
 */
final class ExtraWorker implements AutoCloseable {
    private final Process process;
    private final Path dir;
    final String url;

    /**
     * @param rewrite     maps each line of the stack worker's properties to this worker's line (or null to drop it)
     * @param jvmOptions  added before the main class
     */
    ExtraWorker(LocalStack stack, String name, int port, UnaryOperator<String> rewrite, List<String> jvmOptions) throws Exception {
        this.dir = Files.createTempDirectory("lockstep-" + name);
        List<String> properties = new ArrayList<>();
        for (String line : Files.readAllLines(stack.stackDir().resolve("connect/connect-distributed.properties"))) {
            String key = line.contains("=") ? line.substring(0, line.indexOf('=')).trim() : "";
            String out = key.equals("listeners") ? "listeners=http://127.0.0.1:" + port : rewrite.apply(line);
            if (out != null) {
                properties.add(out);
            }
        }
        Path config = dir.resolve("connect-distributed.properties");
        Files.write(config, properties);
        long pid = Long.parseLong(Files.readString(stack.stackDir().resolve("pids/connect.pid")).trim());
        List<String> command = new ArrayList<>();
        for (String arg : Files.readString(Path.of("/proc/" + pid + "/cmdline")).split("\0")) {
            if (arg.endsWith("connect-distributed.properties")) {
                command.add(config.toString());
            } else if (command.isEmpty()) {
                command.add(arg); // java itself, then this worker's options before the main class
                command.addAll(jvmOptions);
            } else {
                command.add(arg.startsWith("-Dlockstep.log.name=") ? "-Dlockstep.log.name=connect-" + name : arg);
            }
        }
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("worker.out").toFile());
        // The stack worker's environment: its config and the connectors' configs read ${env:LOCKSTEP_...}.
        for (String entry : Files.readString(Path.of("/proc/" + pid + "/environ")).split("\0")) {
            int eq = entry.indexOf('=');
            if (eq > 0 && entry.startsWith("LOCKSTEP_")) {
                builder.environment().put(entry.substring(0, eq), entry.substring(eq + 1));
            }
        }
        builder.environment().put("LOCKSTEP_KAFKA_BOOTSTRAP", stack.kafkaBootstrap());
        this.process = builder.start();
        this.url = "http://127.0.0.1:" + port;
    }

    /** Waits until the worker answers {@code GET /connectors} with 200 (with these headers). */
    ExtraWorker awaitUp(Map<String, String> headers) {
        Awaitility.await("the worker at " + url).atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
                .until(() -> {
                    var b = java.net.http.HttpRequest.newBuilder(java.net.URI.create(url + "/connectors")).timeout(Duration.ofSeconds(5));
                    headers.forEach(b::header);
                    return java.net.http.HttpClient.newHttpClient().send(b.build(), java.net.http.HttpResponse.BodyHandlers.discarding())
                            .statusCode() == 200;
                });
        return this;
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}
