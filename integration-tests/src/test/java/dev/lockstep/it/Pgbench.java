package dev.lockstep.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** PostgreSQL's pgbench against the stack's database, its tables in one schema, its output in target/pgbench.log. */
public final class Pgbench {
    private Pgbench() {
    }

    /** pgbench next to the stack's PostgreSQL, or on the PATH; null when neither has it. */
    public static Path find() {
        File[] versions = new File("/usr/lib/postgresql").listFiles();
        if (versions != null) {
            for (File v : versions) {
                Path candidate = v.toPath().resolve("bin/pgbench");
                if (Files.isExecutable(candidate)) {
                    return candidate;
                }
            }
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(dir, "pgbench");
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /** Runs pgbench to its end and expects exit code 0. */
    public static void run(LocalStack stack, String schema, Path pgbench, String... args) throws Exception {
        Process process = start(stack, schema, pgbench, args);
        assertThat(process.waitFor(300, TimeUnit.SECONDS)).as("pgbench " + String.join(" ", args) + " ends").isTrue();
        assertThat(process.exitValue()).as("pgbench " + String.join(" ", args) + ", see target/pgbench.log").isZero();
    }

    /** Starts pgbench with its tables in {@code schema} (through search_path). */
    public static Process start(LocalStack stack, String schema, Path pgbench, String... args) throws Exception {
        return start(stack, schema, pgbench, ProcessBuilder.Redirect.appendTo(stack.repo().resolve("integration-tests/target/pgbench.log").toFile()),
                args);
    }

    /** The same, its output (with its summary: transactions, tps, latency) where {@code output} says. */
    public static Process start(LocalStack stack, String schema, Path pgbench, ProcessBuilder.Redirect output, String... args) throws Exception {
        URI url = URI.create(stack.pgUrl().substring("jdbc:".length()));
        List<String> command = new ArrayList<>(List.of(pgbench.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output);
        builder.environment().putAll(Map.of("PGHOST", url.getHost(), "PGPORT", String.valueOf(url.getPort()),
                "PGDATABASE", url.getPath().substring(1), "PGUSER", stack.pgUser(), "PGPASSWORD", stack.pgPassword(),
                "PGOPTIONS", "-c search_path=" + schema));
        return builder.start();
    }
}
