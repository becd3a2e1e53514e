package dev.lockstep.it;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real local stack, driven through the same {@code bin/lockstep-stack} a user runs. A stack that is
 * already running is reused (with the freshly built bundle) and left running; one started here is stopped by
 * {@link #close()}.
 */
public final class LocalStack implements AutoCloseable {
    private final Path repo;
    private final Map<String, String> endpoints;
    private final boolean startedHere;

    private LocalStack(Path repo, Map<String, String> endpoints, boolean startedHere) {
        this.repo = repo;
        this.endpoints = endpoints;
        this.startedHere = startedHere;
    }

    /** Whether this process started the stack (its servers' JVMs are cold: benchmarks say so). */
    public boolean startedHere() {
        return startedHere;
    }

    public static LocalStack startOrReuse() {
        Path repo = repoDir();
        Path log = repo.resolve("integration-tests/target/lockstep-stack.log");
        boolean running = run(repo, log, 120, "status") == 0;
        // `up` also on a running stack: it is harmless there, and restarts Connect when the bundle was rebuilt.
        if (run(repo, log, 900, "up") != 0) {
            throw new IllegalStateException("bin/lockstep-stack up failed; see " + log);
        }
        Map<String, String> endpoints = readEndpoints(repo, log);
        return new LocalStack(repo, endpoints, !running);
    }

    /** Runs {@code bin/lockstep-stack <args>} (e.g. "stop", "opensearch"), output in the stack log; returns its exit code. */
    public int run(String... args) {
        return run(Map.of(), args);
    }

    /** As {@link #run(String...)}, with extra environment variables (e.g. LOCKSTEP_OPENSEARCH_SETTINGS). */
    public int run(Map<String, String> env, String... args) {
        return run(repo, repo.resolve("integration-tests/target/lockstep-stack.log"), 600, env, args);
    }

    public String pgUrl() {
        return get("PG_URL");
    }

    public String pgUser() {
        return get("PG_USER");
    }

    /**
     * Drops the replication slot and the publication a Debezium source named {@code name} leaves in PostgreSQL: the
     * slot outlives its connector and would keep WAL on a reused stack. The task may still hold the slot for a moment
     * after its connector was deleted, so the drop is retried for up to 30 s.
     */
    public void dropSlotAndPublication(String name) throws java.sql.SQLException {
        try (java.sql.Connection pg = java.sql.DriverManager.getConnection(pgUrl(), pgUser(), pgPassword());
                java.sql.Statement s = pg.createStatement()) {
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                s.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + name + "'");
                return true;
            });
            s.execute("DROP PUBLICATION IF EXISTS " + name);
        }
    }

    public String pgPassword() {
        return endpoints.getOrDefault("PG_PASSWORD", "");
    }

    public String kafkaBootstrap() {
        return get("KAFKA_BOOTSTRAP");
    }

    public String connectUrl() {
        return get("CONNECT_URL");
    }

    public String openSearchUrl() {
        return get("OPENSEARCH_URL");
    }

    public Path repo() {
        return repo;
    }

    /** The stack's folder (state, logs). */
    public Path stackDir() {
        return Path.of(get("STACK_DIR"));
    }

    /**
     * The secured OpenSearch node ({@code bin/lockstep-stack up-secure}): started here unless it already runs.
     * {@link SecureNode#close()} stops it only when it was started here.
     */
    public SecureNode startSecureNode() {
        Path log = repo.resolve("integration-tests/target/lockstep-stack.log");
        boolean running = partRunning("opensearch-secure");
        if (run(repo, log, 900, "up-secure") != 0) {
            throw new IllegalStateException("bin/lockstep-stack up-secure failed; see " + log);
        }
        Map<String, String> env = new LinkedHashMap<>();
        try {
            Path out = Files.createTempFile("lockstep-env", ".txt");
            run(repo, out, 60, "env");
            for (String line : Files.readAllLines(out)) {
                int eq = line.indexOf('=');
                if (eq > 0 && !line.startsWith("#")) {
                    env.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
                }
            }
            Files.delete(out);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the secured node's endpoints", e);
        }
        for (String key : List.of("OPENSEARCH_SECURE_URL", "OPENSEARCH_SECURE_USER", "OPENSEARCH_SECURE_PASSWORD_FILE",
                "OPENSEARCH_SECURE_CA_PEM", "OPENSEARCH_SECURE_UNTRUSTED_CA_PEM")) {
            if (!env.containsKey(key)) {
                throw new IllegalStateException("bin/lockstep-stack env shows no " + key + " after up-secure");
            }
        }
        return new SecureNode(env.get("OPENSEARCH_SECURE_URL"), env.get("OPENSEARCH_SECURE_USER"),
                Path.of(env.get("OPENSEARCH_SECURE_PASSWORD_FILE")), Path.of(env.get("OPENSEARCH_SECURE_CA_PEM")),
                Path.of(env.get("OPENSEARCH_SECURE_UNTRUSTED_CA_PEM")), !running);
    }

    /** The secured node's address, its admin user, and the files a connector config refers to. */
    public final class SecureNode implements AutoCloseable {
        public final String url;
        public final String user;
        /** A properties file with the key password: for the worker's file config provider. */
        public final Path passwordFile;
        public final Path caPem;
        public final Path untrustedCaPem;
        private final boolean startedHere;

        SecureNode(String url, String user, Path passwordFile, Path caPem, Path untrustedCaPem, boolean startedHere) {
            this.url = url;
            this.user = user;
            this.passwordFile = passwordFile;
            this.caPem = caPem;
            this.untrustedCaPem = untrustedCaPem;
            this.startedHere = startedHere;
        }

        /** The admin password, read from its file (never printed). */
        public String password() {
            try (var in = Files.newInputStream(passwordFile)) {
                java.util.Properties props = new java.util.Properties();
                props.load(in);
                return props.getProperty("password");
            } catch (IOException e) {
                throw new IllegalStateException("cannot read " + passwordFile, e);
            }
        }

        /** The config-provider reference to the password, as a connector config should hold it. */
        public String passwordReference() {
            return "${file:" + passwordFile + ":password}";
        }

        public int port() {
            return java.net.URI.create(url).getPort();
        }

        @Override
        public void close() {
            if (startedHere) {
                LocalStack.this.run("stop", "opensearch-secure");
            }
        }
    }

    /** Whether {@code bin/lockstep-stack status} lists the part as running. */
    public boolean partRunning(String part) {
        try {
            Path out = Files.createTempFile("lockstep-status", ".txt");
            run(repo, out, 120, "status");
            boolean running = Files.readAllLines(out).stream()
                    .anyMatch(l -> l.startsWith(part + " ") && l.substring(part.length()).trim().startsWith("running"));
            Files.delete(out);
            return running;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run bin/lockstep-stack status", e);
        }
    }

    private String get(String key) {
        String v = endpoints.get(key);
        if (v == null) {
            throw new IllegalStateException("endpoints file has no " + key + ": " + endpoints);
        }
        return v;
    }

    @Override
    public void close() {
        if (startedHere) {
            run(repo, repo.resolve("integration-tests/target/lockstep-stack.log"), 180, "down");
        }
    }

    private static Map<String, String> readEndpoints(Path repo, Path log) {
        try {
            // `status` prints "endpoints: <path>" as its last line of that kind.
            Path out = Files.createTempFile("lockstep-status", ".txt");
            run(repo, out, 120, "status");
            String path = Files.readAllLines(out).stream().filter(l -> l.startsWith("endpoints:"))
                    .map(l -> l.substring("endpoints:".length()).trim()).reduce((a, b) -> b)
                    .orElseThrow(() -> new IllegalStateException("bin/lockstep-stack status printed no 'endpoints:' line"));
            Files.writeString(log, Files.readString(out), java.nio.file.StandardOpenOption.APPEND);
            Files.delete(out);
            Map<String, String> map = new LinkedHashMap<>();
            for (String line : Files.readAllLines(Path.of(path))) {
                int eq = line.indexOf('=');
                if (eq > 0 && !line.startsWith("#")) {
                    map.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
                }
            }
            return map;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the stack's endpoints", e);
        }
    }

    private static int run(Path repo, Path log, long timeoutSeconds, String... args) {
        return run(repo, log, timeoutSeconds, Map.of(), args);
    }

    private static int run(Path repo, Path log, long timeoutSeconds, Map<String, String> env, String... args) {
        try {
            Files.createDirectories(log.getParent());
            List<String> command = new java.util.ArrayList<>();
            command.add(repo.resolve("bin/lockstep-stack").toString());
            command.addAll(List.of(args));
            ProcessBuilder builder = new ProcessBuilder(command).directory(repo.toFile())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            builder.environment().putAll(env);
            Process p = builder.start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("bin/lockstep-stack " + String.join(" ", args) + " timed out; see " + log);
            }
            return p.exitValue();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run bin/lockstep-stack", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static Path repoDir() {
        String configured = System.getProperty("lockstep.repo.dir");
        Path dir = configured != null ? Path.of(configured) : Path.of("").toAbsolutePath();
        while (dir != null && !new File(dir.toFile(), "bin/lockstep-stack").exists()) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("cannot find the repository (bin/lockstep-stack) from " + configured);
        }
        return dir;
    }
}
