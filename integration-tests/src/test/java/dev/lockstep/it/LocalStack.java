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

    /** The stack's state folder (pids/, logs/, …): STACK_DIR from the endpoints file. */
    public Path stackDir() {
        String dir = endpoints.get("STACK_DIR");
        return dir != null ? Path.of(dir) : repo.resolve(".stack");
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
