package dev.lockstep.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockstep.it.Connectors;
import dev.lockstep.it.Http;
import dev.lockstep.it.LocalStack;
import dev.lockstep.it.Pgbench;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.ToLongFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * End-to-end latency of the whole pipeline under a steady update load, on the local stack
 * (bin/lockstep-bench latency [seconds] [updates-per-second], defaults 120 s and 1,000/s):
 * <ol>
 *   <li>a products-like table of {@code rows} rows (10,000) with a {@code seq bigint} column; the Debezium source
 *       and the Lockstep sink start from config/connectors (as users get them), and the benchmark waits until the
 *       snapshot is indexed;</li>
 *   <li>load: writer threads run {@code UPDATE … SET seq = k, updated_at = now() WHERE id = k % rows + 1}, each
 *       update its own committed transaction (autocommit), update k due at {@code t0 + k / rate} on a fixed
 *       schedule (a late update does not shift the ones after it);</li>
 *   <li>outside measurement: for every {@code sample.every}-th update the writer notes the time just after COMMIT
 *       returned, and prober threads send real-time {@code GET /<index>/_doc/<id>} for that document every
 *       {@code probe.interval.ms} (or a twentieth of the time since the commit, when that is longer) until the
 *       document's {@code seq} is at least k (later updates of the same row count as seen); when several samples of
 *       a prober are due at once, one real-time {@code _mget} carries them. Latency = arrival of that response −
 *       commit return. A sample not seen within {@code probe.timeout.s} is a miss;</li>
 *   <li>inside measurement: the sink's {@code lockstep_sink_end_to_end_latency_seconds} histogram (source commit
 *       {@code ts_ms} → bulk acknowledgement), scraped from the worker's {@code /metrics} at the start and the end
 *       of the measured window; quantiles from the bucket-count differences, linearly interpolated within a
 *       bucket (as Prometheus' histogram_quantile does);</li>
 *   <li>the Connect worker's heap ({@code jstat -gc} every second), and the CPU seconds of the worker, OpenSearch,
 *       PostgreSQL, Kafka and the benchmark itself over the measured window ({@code /proc/<pid>/stat}).</li>
 * </ol>
 * The first {@code warmup} seconds (15) of the load are excluded from every figure. Settings:
 * {@code -Dlockstep.bench.latency="rows=10000,warmup=15,sample.every=20,probers=1,probe.interval.ms=5,writers=4,probe.timeout.s=30"};
 * sink and source settings for experiments: {@code -Dlockstep.bench.sink="key=value,…"},
 * {@code -Dlockstep.bench.source="key=value,…"}. A harness that prints figures,
 * never a test that asserts a time.
 */
public final class LatencyBenchmark {
    /** Which connector configs: "" (config/connectors, topics of documents) or "change-events/". */
    private static final String TOPOLOGY = System.getProperty("lockstep.bench.topology", "");

    static final String HISTOGRAM = "lockstep_sink_end_to_end_latency_seconds";
    private static final Pattern SERIES = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})?\\s+(\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    /** One sampled update, from its commit to the first GET that returned it. */
    static final class Sample {
        final long seq;
        final long id;
        final long commitNanos;
        final long commitWallMs;
        long nextProbe;
        int probes;
        boolean missed;
        long seenNanos = -1;
        long seenWallMs;
        long sourceTsMs = -1;
        long indexedAtMs = -1;
        long docSeq = -1;
        long lastMissSent = -1;

        Sample(long seq, long id, long commitNanos, long commitWallMs) {
            this.seq = seq;
            this.id = id;
            this.commitNanos = commitNanos;
            this.commitWallMs = commitWallMs;
        }
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 120;
        int rate = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        Map<String, String> o = pairs(System.getProperty("lockstep.bench.latency", ""));
        // workload=pgbench: pgbench's TPC-B mix at `rate` row changes/s (three updates per transaction, on 10 tellers and
        // 1 branch per scale unit: hot rows), and the probed updates on a small table of their own at probe.rate.
        boolean tpcb = o.getOrDefault("workload", "uniform").equals("pgbench");
        int pgbenchScale = Integer.parseInt(o.getOrDefault("pgbench.scale", "2"));
        int pgbenchClients = Integer.parseInt(o.getOrDefault("pgbench.clients", "4"));
        int writeRate = tpcb ? Integer.parseInt(o.getOrDefault("probe.rate", "50")) : rate;
        int rows = Integer.parseInt(o.getOrDefault("rows", tpcb ? "1000" : "10000"));
        int warmup = Integer.parseInt(o.getOrDefault("warmup", "15"));
        int sampleEvery = Integer.parseInt(o.getOrDefault("sample.every", String.valueOf(Math.max(1, writeRate / 50))));
        int probers = Integer.parseInt(o.getOrDefault("probers", "1"));
        long probeIntervalNanos = Long.parseLong(o.getOrDefault("probe.interval.ms", "5")) * 1_000_000L;
        int writers = Integer.parseInt(o.getOrDefault("writers", tpcb ? "1" : "4"));
        long probeTimeoutNanos = Long.parseLong(o.getOrDefault("probe.timeout.s", "30")) * 1_000_000_000L;
        if (seconds <= warmup) {
            throw new IllegalArgumentException("the run (" + seconds + " s) must be longer than the warm-up (" + warmup + " s)");
        }
        String name = "lat" + Long.toString(System.currentTimeMillis() % 100_000_000L, 36);
        String table = name + ".products";
        String topic = name + "." + name + ".products";
        String index = topic; // index.name.pattern=${topic}, lower case already
        String sinkName = name + "-sink";
        Connectors connectors = null;
        HeapSampler heap = null;
        try (LocalStack stack = LocalStack.startOrReuse()) {
            try {
                connectors = new Connectors(stack);
                Path pids = stack.stackDir().resolve("pids");
                long connectPid = pid(pids, "connect");
                heap = HeapSampler.start(connectPid);
                try (Connection pg = DriverManager.getConnection(stack.pgUrl(), stack.pgUser(), stack.pgPassword());
                        Statement s = pg.createStatement()) {
                    s.execute("CREATE SCHEMA " + name);
                    s.execute("CREATE TABLE " + table + " (id bigint PRIMARY KEY, name text NOT NULL, price numeric(12,2), "
                            + "tags text[], attrs jsonb, updated_at timestamptz NOT NULL, active boolean NOT NULL, seq bigint NOT NULL)");
                    s.execute("INSERT INTO " + table + " SELECT g, 'Stainless steel kettle ' || g, (g % 10000) + 0.90, "
                            + "ARRAY['kitchen', 'steel', 'tag-' || (g % 100)], jsonb_build_object('colour', 'silver', 'watts', 1000 + g % 3000), "
                            + "timestamptz '2026-01-05 09:30:00+00' + g * interval '1 second', g % 2 = 0, 0 FROM generate_series(1, " + rows + ") g");
                    s.execute("VACUUM ANALYZE " + table);
                }
                Path pgbench = tpcb ? Pgbench.find() : null;
                if (tpcb) {
                    if (pgbench == null) {
                        throw new IllegalStateException("workload=pgbench needs pgbench (postgresql-client, next to the stack's PostgreSQL)");
                    }
                    Pgbench.run(stack, name, pgbench, "-i", "-s", String.valueOf(pgbenchScale), "-q");
                }
                List<String> pgbenchTables = tpcb ? List.of("pgbench_accounts", "pgbench_tellers", "pgbench_branches", "pgbench_history") : List.of();
                Map<String, String> source = connectors.fromFile(TOPOLOGY + "lockstep-postgres-source");
                source.put("topic.prefix", name);
                source.put("slot.name", name);
                source.put("publication.name", name);
                source.put("table.include.list", String.join(",", java.util.stream.Stream.concat(java.util.stream.Stream.of(table),
                        pgbenchTables.stream().map(t -> name + "." + t)).toList()));
                // pgbench_history has no primary key: its records go to the transforms' errors topic, the others stream on.
                if (tpcb && source.containsKey("transforms.document.type")) {
                    source.put("transforms.document.errors.topic", name + "-dlq");
                }
                source.putAll(pairs(System.getProperty("lockstep.bench.source", "")));
                Map<String, String> sink = connectors.fromFile(TOPOLOGY + "lockstep-opensearch-sink");
                sink.put("topics", String.join(",", java.util.stream.Stream.concat(java.util.stream.Stream.of(topic), pgbenchTables.stream()
                        .filter(t -> !t.equals("pgbench_history")).map(t -> name + "." + name + "." + t)).toList()));
                sink.put("index.name.pattern", "${topic}");
                sink.put("errors.deadletterqueue.topic.name", name + "-dlq");
                sink.putAll(pairs(System.getProperty("lockstep.bench.sink", "")));
                System.out.printf("source: config/connectors/" + TOPOLOGY + "lockstep-postgres-source.json (poll.interval.ms=%s, "
                        + "producer linger.ms=%s)%s; sink: config/connectors/" + TOPOLOGY + "lockstep-opensearch-sink.json%s%n",
                        source.get("poll.interval.ms"), source.getOrDefault("producer.override.linger.ms", "Kafka's default"),
                        System.getProperty("lockstep.bench.source", "").isBlank() ? "" : " + " + System.getProperty("lockstep.bench.source"),
                        System.getProperty("lockstep.bench.sink", "").isBlank() ? "" : " + " + System.getProperty("lockstep.bench.sink"));
                long snapshotStart = System.nanoTime();
                connectors.create(name + "-source", source);
                connectors.create(sinkName, sink);
                connectors.awaitRunning(name + "-source");
                connectors.awaitRunning(sinkName);
                while (count(stack, index) < rows) {
                    Thread.sleep(500);
                    Http.post(stack.openSearchUrl() + "/" + index + "/_refresh", null);
                    if (System.nanoTime() - snapshotStart > 600_000_000_000L) {
                        throw new IllegalStateException("the snapshot of " + rows + " rows was not indexed within 10 minutes");
                    }
                }
                if (tpcb) {
                    String accounts = name + "." + name + ".pgbench_accounts";
                    while (count(stack, accounts) < 100_000L * pgbenchScale) {
                        Thread.sleep(500);
                        Http.post(stack.openSearchUrl() + "/" + accounts + "/_refresh", null);
                    }
                }
                long snapshotEnd = System.nanoTime();
                System.out.printf("snapshot: %,d rows indexed in %.1f s (connectors created to all documents searchable)%n", rows,
                        (snapshotEnd - snapshotStart) / 1e9);
                Thread.sleep(2_000); // let the sink settle after the snapshot

                // The load, the probes and the measured window.
                long total = (long) seconds * writeRate;
                long[] commitDone = new long[(int) total];
                int[] commitMicros = new int[(int) total];
                int[] lateMicros = new int[(int) total];
                List<Sample> samples = Collections.synchronizedList(new ArrayList<>());
                Probes probeStats = new Probes();
                List<Prober> proberThreads = new ArrayList<>();
                for (int i = 0; i < probers; i++) {
                    Prober p = new Prober(i, stack.openSearchUrl() + "/" + index, probeIntervalNanos, probeTimeoutNanos, probeStats);
                    proberThreads.add(p);
                    p.start();
                }
                AtomicLong next = new AtomicLong();
                AtomicReference<Throwable> writerFailure = new AtomicReference<>();
                long t0 = System.nanoTime() + 500_000_000L;
                long windowStart = t0 + warmup * 1_000_000_000L;
                long end = t0 + seconds * 1_000_000_000L;
                List<Thread> writerThreads = new ArrayList<>();
                for (int w = 0; w < writers; w++) {
                    Thread t = new Thread(() -> {
                        try (Connection c = DriverManager.getConnection(stack.pgUrl(), stack.pgUser(), stack.pgPassword());
                                PreparedStatement update = c.prepareStatement("UPDATE " + table + " SET seq = ?, updated_at = now() WHERE id = ?")) {
                            c.setAutoCommit(true);
                            while (true) {
                                long k = next.getAndIncrement();
                                long due = t0 + k * 1_000_000_000L / writeRate;
                                if (k >= total || due >= end || System.nanoTime() >= end) {
                                    return;
                                }
                                for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
                                    LockSupport.parkNanos(wait);
                                }
                                long start = System.nanoTime();
                                long id = k % rows + 1;
                                update.setLong(1, k + 1);
                                update.setLong(2, id);
                                if (update.executeUpdate() != 1) {
                                    throw new IllegalStateException("row " + id + " not updated");
                                }
                                long done = System.nanoTime();
                                long wall = System.currentTimeMillis();
                                commitDone[(int) k] = done;
                                commitMicros[(int) k] = (int) Math.min(Integer.MAX_VALUE, (done - start) / 1_000);
                                lateMicros[(int) k] = (int) Math.min(Integer.MAX_VALUE, (start - due) / 1_000);
                                if (k % sampleEvery == 0) {
                                    Sample sample = new Sample(k + 1, id, done, wall);
                                    samples.add(sample);
                                    proberThreads.get((int) (k / sampleEvery % probers)).inbox.add(sample);
                                }
                            }
                        } catch (Throwable e) {
                            writerFailure.compareAndSet(null, e);
                        }
                    }, "writer-" + w);
                    writerThreads.add(t);
                    t.start();
                }
                Path pgbenchLog = stack.repo().resolve("integration-tests/target/pgbench-latency.log");
                Process tpcbLoad = !tpcb ? null : Pgbench.start(stack, name, pgbench, ProcessBuilder.Redirect.to(pgbenchLog.toFile()), "-n",
                        "-c", String.valueOf(pgbenchClients), "-j", "2", "-R", String.valueOf(Math.max(1, rate / 3)), "-T", String.valueOf(seconds),
                        "-P", "15");
                if (tpcb) {
                    System.out.printf("load: pgbench TPC-B, scale %d, %d clients, %d transactions/s (%d row changes/s: an account, a "
                            + "teller and a branch updated, a history row inserted, per transaction) for %d s%n", pgbenchScale, pgbenchClients,
                            Math.max(1, rate / 3), 3 * Math.max(1, rate / 3), seconds);
                }
                System.out.printf("%s: %,d updates/s for %d s on %,d rows, %d writer connections; one update in %d probed every %d ms "
                        + "(prober threads: %d); the first %d s are warm-up%n", tpcb ? "probed updates (a table of their own)" : "load",
                        writeRate, seconds, rows, writers, sampleEvery, probeIntervalNanos / 1_000_000, probers, warmup);

                sleepUntil(windowStart);
                Histogram insideStart = Histogram.scrape(stack.connectUrl(), sinkName);
                String metersStart = Http.getAny(stack.connectUrl() + "/metrics").text();
                Cpu cpuStart = Cpu.read(pids);
                long[] probesStart = probeStats.snapshot();
                long refreshesStart = refreshes(stack, index);
                long progressAt = windowStart;
                while (System.nanoTime() < end && writerFailure.get() == null) {
                    progressAt = Math.min(end, progressAt + 15_000_000_000L);
                    sleepUntil(progressAt);
                    System.out.printf("  %3.0f s: %,d updates committed, %,d probe requests so far%n", (System.nanoTime() - t0) / 1e9, next.get(),
                            probeStats.requests.sum());
                }
                for (Thread t : writerThreads) {
                    t.join();
                }
                long windowEnd = System.nanoTime();
                String bulks = "sink      " + SinkBenchmark.bulkStats(metersStart, Http.getAny(stack.connectUrl() + "/metrics").text(), sinkName,
                        (windowEnd - windowStart) / 1e9) + " (in the window)\n";
                String pgbenchSummary = "";
                if (tpcbLoad != null) {
                    if (!tpcbLoad.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
                        tpcbLoad.destroy();
                    }
                    pgbenchSummary = Files.readAllLines(pgbenchLog).stream()
                            .filter(l -> l.startsWith("number of transactions actually processed") || l.startsWith("latency average")
                                    || l.startsWith("tps") || l.startsWith("number of failed") || l.startsWith("rate limit schedule lag"))
                            .map(l -> "          pgbench: " + l + "\n").reduce("", String::concat);
                }
                Cpu cpuEnd = Cpu.read(pids);
                long[] probesEnd = probeStats.snapshot();
                long[] probes = new long[probesEnd.length];
                for (int i = 0; i < probes.length; i++) {
                    probes[i] = probesEnd[i] - probesStart[i];
                }
                long refreshesEnd = refreshes(stack, index);
                if (writerFailure.get() != null) {
                    throw new IllegalStateException("a writer failed", writerFailure.get());
                }
                for (Prober p : proberThreads) {
                    p.finish = true;
                }
                for (Prober p : proberThreads) {
                    p.join();
                }
                Thread.sleep(2_000); // the last updates (not sampled) acknowledged too
                Histogram insideEnd = Histogram.scrape(stack.connectUrl(), sinkName);
                heap.stop();

                System.out.print(pgbenchSummary);
                System.out.print(bulks);
                if (stack.startedHere()) {
                    System.out.println("caveat    this run started the stack: OpenSearch's and the worker's JVMs were cold, and a cold node "
                            + "indexes at a fraction of its warm speed; start it first (bin/lockstep-stack up) and discard the first run");
                }
                report(new Run(seconds, writeRate, rows, warmup, writers, sampleEvery, probers, probeIntervalNanos, t0, windowStart, windowEnd,
                        end, commitDone, commitMicros, lateMicros, new ArrayList<>(samples), probes,
                        refreshesEnd - refreshesStart, insideStart, insideEnd, cpuStart, cpuEnd, heap, snapshotStart, snapshotEnd,
                        connectPid));
            } finally {
                if (heap != null) {
                    heap.stop();
                }
                if (connectors != null) {
                    cleanUp(stack, connectors, name, index);
                }
            }
        }
    }

    record Run(int seconds, int rate, int rows, int warmup, int writers, int sampleEvery, int probers, long probeIntervalNanos, long t0,
            long windowStart, long windowEnd, long end, long[] commitDone, int[] commitMicros, int[] lateMicros, List<Sample> samples,
            long[] probes, long refreshes, Histogram insideStart, Histogram insideEnd, Cpu cpuStart,
            Cpu cpuEnd, HeapSampler heap, long snapshotStart, long snapshotEnd, long connectPid) {
    }

    private static void report(Run r) throws Exception {
        double window = (r.windowEnd - r.windowStart) / 1e9;
        // The load.
        long inWindow = 0;
        long committed = 0;
        List<Long> commitTimes = new ArrayList<>();
        List<Long> lateness = new ArrayList<>();
        for (int k = 0; k < r.commitDone.length; k++) {
            long done = r.commitDone[k];
            if (done == 0) {
                continue;
            }
            committed++;
            if (done >= r.windowStart && done < r.windowEnd) {
                inWindow++;
                commitTimes.add((long) r.commitMicros[k]);
                lateness.add((long) r.lateMicros[k]);
            }
        }
        Collections.sort(commitTimes);
        Collections.sort(lateness);
        // The outside measurement: samples committed inside the window.
        List<Sample> measured = new ArrayList<>();
        int missed = 0;
        int firstProbe = 0;
        int laterUpdate = 0;
        for (Sample s : r.samples) {
            if (s.commitNanos < r.windowStart || s.commitNanos >= r.windowEnd) {
                continue;
            }
            if (s.missed || s.seenNanos < 0) {
                missed++;
            } else {
                measured.add(s);
                if (s.probes == 1) {
                    firstProbe++;
                }
                if (s.docSeq > s.seq) {
                    laterUpdate++;
                }
            }
        }
        long[] outside = sorted(measured, s -> (s.seenNanos - s.commitNanos) / 1_000); // µs
        long[] fromTs = sorted(measured, s -> s.sourceTsMs < 0 ? Long.MIN_VALUE : (s.seenWallMs - s.sourceTsMs) * 1_000);
        long[] tsToCommitReturn = sorted(measured, s -> s.sourceTsMs < 0 ? Long.MIN_VALUE : (s.commitWallMs - s.sourceTsMs) * 1_000);
        long[] tsToIndexedAt = sorted(measured, s -> s.indexedAtMs < 0 || s.sourceTsMs < 0 ? Long.MIN_VALUE : (s.indexedAtMs - s.sourceTsMs) * 1_000);
        long[] bracket = sorted(measured, s -> (s.seenNanos - (s.lastMissSent >= 0 ? s.lastMissSent : s.commitNanos)) / 1_000);
        long[] indexedAtToSeen = sorted(measured, s -> s.indexedAtMs < 0 ? Long.MIN_VALUE : (s.seenWallMs - s.indexedAtMs) * 1_000);
        Histogram inside = r.insideEnd.minus(r.insideStart);
        double[] bounds = inside.upperBounds();

        StringBuilder out = new StringBuilder();
        out.append("\n== End-to-end latency under load ==\n");
        out.append(String.format("load      %,d updates/s target, %d s (%d s warm-up excluded: window %.1f s), %,d rows, %d writer "
                + "connections, one transaction per update%n", r.rate, r.seconds, r.warmup, window, r.rows, r.writers));
        out.append(String.format("          achieved %,.1f updates/s in the window (%,d updates; %,d in the whole run); COMMIT "
                + "round trip p50 %.2f ms, p99 %.2f ms; start behind schedule p50 %.2f ms, p99 %.2f ms, max %.1f ms%n",
                inWindow / window, inWindow, committed, pct(commitTimes, 50) / 1e3, pct(commitTimes, 99) / 1e3, pct(lateness, 50) / 1e3,
                pct(lateness, 99) / 1e3, lateness.isEmpty() ? 0 : lateness.get(lateness.size() - 1) / 1e3));
        long requests = r.probes[0];
        long mgets = r.probes[1];
        long documents = r.probes[2];
        double meanGetMicros = requests == 0 ? 0 : r.probes[3] / 1e3 / requests;
        out.append(String.format("probes    %,.0f real-time gets/s (prober threads: %d; every %d ms per pending sample or 1/20 of its age; %,.0f of them _mget with "
                + "several due documents, %,.0f documents/s in all), mean %.2f ms each, %d errors; %,.1f refreshes/s of the index "
                + "(a real-time get refreshes the shard when the document changed since the last refresh)%n", requests / window,
                r.probers, r.probeIntervalNanos / 1_000_000, mgets / window, documents / window, meanGetMicros / 1e3, r.probes[4],
                r.refreshes / window));
        out.append(String.format("          resolution: from sending the last GET that missed an update to receiving the one that saw it "
                + "p50 %.1f ms, p99 %.1f ms (the outside figure can be late by up to that)%n", pct(bracket, 50) / 1e3, pct(bracket, 99) / 1e3));
        out.append(String.format("%-58s %7s %8s %8s %8s %8s%n", "latency (ms)", "n", "p50", "p95", "p99", "max"));
        out.append(row("outside: COMMIT returned -> first GET with the update", outside));
        out.append(row("  same samples from the document's source_ts_ms", fromTs));
        out.append(rowBucketed("  same samples from source_ts_ms, through the sink's buckets", fromTs, bounds));
        out.append(String.format("%-58s %7d %8s %8s %8s %8s%n", "inside: sink histogram (ts_ms -> bulk acknowledged)",
                Math.round(inside.count()), ms(inside.quantile(0.50)), ms(inside.quantile(0.95)), ms(inside.quantile(0.99)), "-"));
        out.append(String.format("          outside: one update in %d, %,d seen, %d missed (not seen within the timeout), %d seen at the "
                + "first probe%s%n", r.sampleEvery, measured.size(), missed, firstProbe, laterUpdate > 0 ? ", " + laterUpdate + " via a later update" : ""));
        out.append(String.format("          inside: %s over [window start, all sampled updates seen + 2 s], bucket-count differences, "
                + "linear interpolation within a bucket; mean %.1f ms; buckets near the figures: %s%n", HISTOGRAM,
                inside.count() == 0 ? 0 : inside.sum() / inside.count() * 1e3, inside.bucketsAround(inside.quantile(0.50), inside.quantile(0.99))));
        out.append(String.format("stages    PostgreSQL commit ts_ms -> COMMIT returned %s; ts_ms -> sink built the document (indexed_at) %s; "
                + "indexed_at -> first GET with it %s (p50/p95/p99 ms, ms clocks)%n", triple(tsToCommitReturn), triple(tsToIndexedAt),
                triple(indexedAtToSeen)));
        out.append(r.heap.summary(r.connectPid, r.snapshotStart, r.snapshotEnd, r.windowStart, r.windowEnd));
        out.append(r.cpuEnd.summary(r.cpuStart, window));
        // What makes these figures less than a measurement of the pipeline.
        List<String> caveats = new ArrayList<>();
        if (inWindow < 0.98 * r.rate * window || pct(lateness, 99) > 50_000) {
            caveats.add(String.format("the load did not hold its schedule (%,.0f of %,d updates/s; p99 %.0f ms behind): PostgreSQL's "
                    + "commits or the writers were short of time", inWindow / window, r.rate, pct(lateness, 99) / 1e3));
        }
        if (pct(bracket, 99) > Math.max(5 * r.probeIntervalNanos / 1e3, 0.1 * pct(outside, 99)) + 3 * meanGetMicros) {
            caveats.add(String.format("the probers fell behind their %d ms interval (resolution p99 %.0f ms): outside figures are late "
                    + "by up to that", r.probeIntervalNanos / 1_000_000, pct(bracket, 99) / 1e3));
        }
        if (missed > 0) {
            caveats.add(missed + " sampled updates were not seen within the timeout: the outside quantiles leave them out");
        }
        if (Double.isInfinite(inside.quantile(0.99))) {
            caveats.add("the sink's p99 is beyond its last bucket (" + Histogram.msBound(bounds.length > 1 ? bounds[bounds.length - 2] : 0)
                    + " ms): only a lower bound is known");
        }
        double others = r.cpuEnd.othersSeconds(r.cpuStart);
        if (others > 0.25 * window * Runtime.getRuntime().availableProcessors()) {
            caveats.add(String.format("other processes used %.0f%% of the machine's CPU during the window: the figures include "
                    + "their competition", 100 * others / (window * Runtime.getRuntime().availableProcessors())));
        }
        for (String c : caveats) {
            out.append("caveat    ").append(c).append('\n');
        }
        System.out.print(out);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Probing

    /**
     * Polls its samples with real-time gets until each shows its update (or times out). One due sample: a
     * {@code GET /<index>/_doc/<id>}. Several due at once (the pipeline is slow, so many wait): one real-time
     * {@code _mget} carrying all of them, so a slow pipeline does not stretch the probe interval.
     */
    static final class Prober extends Thread {
        private static final String SOURCE = "_source_includes=seq,lockstep.source_ts_ms,lockstep.indexed_at";
        final ConcurrentLinkedQueue<Sample> inbox = new ConcurrentLinkedQueue<>();
        volatile boolean finish;
        private final List<Sample> pending = new ArrayList<>();
        private final String indexUrl;
        private final long intervalNanos;
        private final long timeoutNanos;
        private final Probes stats;
        private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();

        Prober(int i, String indexUrl, long intervalNanos, long timeoutNanos, Probes stats) {
            super("prober-" + i);
            setDaemon(true);
            this.indexUrl = indexUrl;
            this.intervalNanos = intervalNanos;
            this.timeoutNanos = timeoutNanos;
            this.stats = stats;
        }

        @Override
        public void run() {
            List<Sample> due = new ArrayList<>();
            while (true) {
                for (Sample s = inbox.poll(); s != null; s = inbox.poll()) {
                    s.nextProbe = s.commitNanos;
                    pending.add(s);
                }
                if (pending.isEmpty() && finish && inbox.isEmpty()) {
                    return;
                }
                due.clear();
                long now = System.nanoTime();
                for (Sample s : pending) {
                    if (s.nextProbe <= now) {
                        due.add(s);
                    }
                }
                if (!due.isEmpty()) {
                    probe(due);
                    pending.removeIf(s -> s.seenNanos >= 0 || s.missed);
                }
                long soonest = System.nanoTime() + 1_000_000L;
                for (Sample s : pending) {
                    soonest = Math.min(soonest, s.nextProbe);
                }
                long wait = soonest - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
            }
        }

        private void probe(List<Sample> due) {
            HttpRequest request;
            if (due.size() == 1) {
                request = HttpRequest.newBuilder(URI.create(indexUrl + "/_doc/" + due.get(0).id + "?" + SOURCE))
                        .timeout(Duration.ofSeconds(10)).GET().build();
            } else {
                StringBuilder ids = new StringBuilder("{\"ids\":[");
                for (int i = 0; i < due.size(); i++) {
                    ids.append(i == 0 ? "\"" : ",\"").append(due.get(i).id).append('"');
                }
                request = HttpRequest.newBuilder(URI.create(indexUrl + "/_mget?" + SOURCE)).timeout(Duration.ofSeconds(10))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(ids.append("]}").toString()))
                        .build();
            }
            long sent = System.nanoTime();
            try {
                HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
                long got = System.nanoTime();
                long gotWall = System.currentTimeMillis();
                stats.requests.increment();
                stats.documents.add(due.size());
                if (due.size() > 1) {
                    stats.mgets.increment();
                }
                stats.nanos.add(got - sent);
                if (response.statusCode() == 200) {
                    JsonNode body = Http.JSON.readTree(response.body());
                    for (int i = 0; i < due.size(); i++) {
                        JsonNode doc = due.size() == 1 ? body : body.path("docs").path(i);
                        seen(due.get(i), doc.path("_source"), got, gotWall);
                    }
                } else if (response.statusCode() != 404) {
                    stats.errors.increment();
                }
            } catch (java.io.IOException e) {
                stats.errors.increment();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                due.forEach(s -> s.missed = true);
                return;
            }
            for (Sample s : due) {
                s.probes++;
                if (s.seenNanos >= 0) {
                    continue;
                }
                s.lastMissSent = sent;
                if (System.nanoTime() - s.commitNanos > timeoutNanos) {
                    s.missed = true;
                } else {
                    // Every interval, or a twentieth of the time since the commit when that is longer: a sample that waits
                    // long is known to 5% and costs fewer gets.
                    s.nextProbe = sent + Math.max(intervalNanos, (sent - s.commitNanos) / 20);
                }
            }
        }

        private static void seen(Sample s, JsonNode source, long got, long gotWall) {
            long docSeq = source.path("seq").asLong(-1);
            if (docSeq >= s.seq) {
                s.docSeq = docSeq;
                s.seenNanos = got;
                s.seenWallMs = gotWall;
                s.sourceTsMs = source.path("lockstep").path("source_ts_ms").asLong(-1);
                s.indexedAtMs = source.path("lockstep").path("indexed_at").asLong(-1);
            }
        }
    }

    /** What the probers sent: requests (GETs and _mgets), _mgets among them, documents looked up, time waiting, errors. */
    static final class Probes {
        final LongAdder requests = new LongAdder();
        final LongAdder mgets = new LongAdder();
        final LongAdder documents = new LongAdder();
        final LongAdder nanos = new LongAdder();
        final LongAdder errors = new LongAdder();

        long[] snapshot() {
            return new long[] {requests.sum(), mgets.sum(), documents.sum(), nanos.sum(), errors.sum()};
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // The sink's histogram

    /** The buckets (cumulative counts by upper bound, seconds), count and sum of the sink's end-to-end histogram. */
    record Histogram(TreeMap<Double, Double> cumulative, double count, double sum) {
        static Histogram scrape(String connectUrl, String connector) {
            Http.Response r = Http.getAny(connectUrl + "/metrics");
            if (r.status() != 200) {
                throw new IllegalStateException("GET /metrics answered " + r.status() + ": " + r.text());
            }
            TreeMap<Double, Double> buckets = new TreeMap<>();
            double count = 0;
            double sum = 0;
            java.util.Set<String> names = new java.util.TreeSet<>();
            for (String line : r.text().split("\n")) {
                Matcher m = SERIES.matcher(line);
                if (line.startsWith("#") || !m.find()) {
                    continue;
                }
                String metric = m.group(1);
                if (metric.startsWith("lockstep_sink_")) {
                    names.add(metric);
                }
                Map<String, String> labels = new HashMap<>();
                if (m.group(2) != null) {
                    Matcher l = LABEL.matcher(m.group(2));
                    while (l.find()) {
                        labels.put(l.group(1), l.group(2));
                    }
                }
                if (!connector.equals(labels.get("connector"))) {
                    continue;
                }
                double value = Double.parseDouble(m.group(3));
                if (metric.equals(HISTOGRAM + "_bucket")) {
                    String le = labels.get("le");
                    buckets.merge(le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le), value, Double::sum);
                } else if (metric.equals(HISTOGRAM + "_count")) {
                    count += value;
                } else if (metric.equals(HISTOGRAM + "_sum")) {
                    sum += value;
                }
            }
            if (buckets.isEmpty()) {
                System.out.println("warning: no " + HISTOGRAM + "_bucket series for connector " + connector + " in /metrics; "
                        + "lockstep_sink_* series there: " + names);
            }
            return new Histogram(buckets, count, sum);
        }

        Histogram minus(Histogram earlier) {
            TreeMap<Double, Double> diff = new TreeMap<>();
            cumulative.forEach((le, c) -> diff.put(le, c - earlier.cumulative.getOrDefault(le, 0.0)));
            return new Histogram(diff, count - earlier.count, sum - earlier.sum);
        }

        double[] upperBounds() {
            return cumulative.keySet().stream().mapToDouble(Double::doubleValue).toArray();
        }

        /** The q-quantile in seconds, linear within the bucket (lower bound of the first bucket: 0); +Inf if beyond the last. */
        double quantile(double q) {
            double total = cumulative.isEmpty() ? 0 : cumulative.lastEntry().getValue();
            if (total <= 0) {
                return Double.NaN;
            }
            double rank = q * total;
            double lower = 0;
            double below = 0;
            for (Map.Entry<Double, Double> e : cumulative.entrySet()) {
                if (e.getValue() >= rank) {
                    if (e.getKey().isInfinite()) {
                        return Double.POSITIVE_INFINITY;
                    }
                    double inBucket = e.getValue() - below;
                    return inBucket <= 0 ? e.getKey() : lower + (e.getKey() - lower) * (rank - below) / inBucket;
                }
                lower = e.getKey();
                below = e.getValue();
            }
            return Double.POSITIVE_INFINITY;
        }

        /** The bucket counts from the one holding {@code from} to the one holding {@code to}, e.g. "(50,75] 812, (75,100] 3,120". */
        String bucketsAround(double from, double to) {
            StringBuilder b = new StringBuilder();
            double lower = 0;
            double below = 0;
            for (Map.Entry<Double, Double> e : cumulative.entrySet()) {
                if (e.getKey() >= from && lower <= to) {
                    b.append(b.length() == 0 ? "" : ", ").append(String.format("(%s,%s] %,.0f", msBound(lower), msBound(e.getKey()),
                            e.getValue() - below));
                }
                lower = e.getKey();
                below = e.getValue();
            }
            return b.length() == 0 ? "none" : b + " (ms)";
        }

        static String msBound(double seconds) {
            return Double.isInfinite(seconds) ? "+Inf" : String.valueOf(Math.round(seconds * 1000));
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Heap and CPU

    /** {@code jstat -gc <pid> 1000}: heap used (survivors + eden + old) and committed, every second. */
    static final class HeapSampler {
        record Point(long nanos, double usedKiB, double committedKiB, double oldKiB, long youngGcs, long fullGcs, double gcSeconds) {
        }

        private final Process process;
        private final List<Point> points = Collections.synchronizedList(new ArrayList<>());
        private volatile String problem;

        private HeapSampler(Process process) {
            this.process = process;
        }

        static HeapSampler start(long pid) {
            Path jstat = Path.of(System.getProperty("java.home"), "bin", "jstat");
            String command = Files.isExecutable(jstat) ? jstat.toString() : "jstat";
            try {
                Process p = new ProcessBuilder(command, "-gc", String.valueOf(pid), "1000").redirectErrorStream(true).start();
                HeapSampler sampler = new HeapSampler(p);
                Thread reader = new Thread(sampler::read, "jstat-reader");
                reader.setDaemon(true);
                reader.start();
                return sampler;
            } catch (java.io.IOException e) {
                HeapSampler none = new HeapSampler(null);
                none.problem = "cannot run jstat: " + e.getMessage();
                return none;
            }
        }

        private void read() {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                List<String> header = null;
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    List<String> fields = Arrays.asList(line.trim().split("\\s+"));
                    if (fields.contains("EU")) {
                        header = fields;
                        continue;
                    }
                    if (header == null || fields.size() != header.size()) {
                        problem = "jstat: " + line;
                        continue;
                    }
                    Map<String, Double> v = new HashMap<>();
                    for (int i = 0; i < header.size(); i++) {
                        v.put(header.get(i), fields.get(i).equals("-") ? 0 : Double.parseDouble(fields.get(i)));
                    }
                    points.add(new Point(System.nanoTime(), v.get("S0U") + v.get("S1U") + v.get("EU") + v.get("OU"),
                            v.get("S0C") + v.get("S1C") + v.get("EC") + v.get("OC"), v.get("OU"), v.get("YGC").longValue(),
                            v.get("FGC").longValue(), v.get("GCT")));
                }
            } catch (Exception e) {
                problem = "jstat reader: " + e;
            }
        }

        /** The highest heap used seen so far, in KiB (0 without samples). */
        double peakUsedKiB() {
            synchronized (points) {
                return points.stream().mapToDouble(Point::usedKiB).max().orElse(0);
            }
        }

        void stop() {
            if (process != null && process.isAlive()) {
                process.destroy();
            }
        }

        String summary(long pid, long snapshotStart, long snapshotEnd, long windowStart, long windowEnd) throws Exception {
            List<Point> all;
            synchronized (points) {
                all = new ArrayList<>(points);
            }
            String xmx = maxHeap(pid);
            if (all.isEmpty()) {
                return String.format("heap      no samples (%s); worker %s%n", problem == null ? "jstat printed nothing" : problem, xmx);
            }
            List<Point> snapshot = all.stream().filter(p -> p.nanos >= snapshotStart && p.nanos <= snapshotEnd).toList();
            List<Point> window = all.stream().filter(p -> p.nanos >= windowStart && p.nanos <= windowEnd).toList();
            StringBuilder b = new StringBuilder();
            b.append(String.format("heap      worker %s (jstat -gc every 1 s, used = survivors + eden + old): peak used %s in the "
                    + "window, %s over the whole run (%s during the snapshot); peak committed %s; old generation peak %s, "
                    + "lowest %s in the window%n", xmx, mib(window, Point::usedKiB, true), mib(all, Point::usedKiB, true),
                    mib(snapshot, Point::usedKiB, true), mib(all, Point::committedKiB, true), mib(window, Point::oldKiB, true),
                    mib(window, Point::oldKiB, false)));
            if (window.size() >= 2) {
                Point first = window.get(0);
                Point last = window.get(window.size() - 1);
                b.append(String.format("          GC in the window: %d young, %d full, %.2f s in GC (%d samples)%n", last.youngGcs - first.youngGcs,
                        last.fullGcs - first.fullGcs, last.gcSeconds - first.gcSeconds, window.size()));
            }
            return b.toString();
        }

        private static String mib(List<Point> points, java.util.function.ToDoubleFunction<Point> f, boolean max) {
            if (points.isEmpty()) {
                return "-";
            }
            double v = max ? points.stream().mapToDouble(f).max().getAsDouble() : points.stream().mapToDouble(f).min().getAsDouble();
            return String.format("%,.0f MiB", v / 1024);
        }

        private static String maxHeap(long pid) {
            try {
                String[] args = Files.readString(Path.of("/proc/" + pid + "/cmdline")).split("\0");
                String xmx = null;
                for (String a : args) {
                    if (a.startsWith("-Xmx") || a.startsWith("-XX:MaxHeapSize=")) {
                        xmx = a;
                    }
                }
                return xmx == null ? "(no -Xmx: the JVM's default)" : xmx;
            } catch (Exception e) {
                return "(-Xmx unknown: " + e.getMessage() + ")";
            }
        }
    }

    /** CPU ticks (utime + stime) of each part's process tree, from /proc. */
    record Cpu(Map<String, Long> ticks, long self, long machineBusy, String loadAverage) {
        private static final String[] PARTS = {"connect", "opensearch", "pg", "kafka"};

        static Cpu read(Path pids) throws Exception {
            Map<Long, List<Long>> children = new HashMap<>();
            Map<Long, Long> own = new HashMap<>();
            try (var dirs = Files.list(Path.of("/proc"))) {
                for (Path d : dirs.toList()) {
                    String n = d.getFileName().toString();
                    if (!n.chars().allMatch(Character::isDigit)) {
                        continue;
                    }
                    try {
                        String[] f = statFields(Files.readString(d.resolve("stat")));
                        long pid = Long.parseLong(n);
                        children.computeIfAbsent(Long.parseLong(f[1]), k -> new ArrayList<>()).add(pid);
                        // utime + stime + cutime + cstime: a reaped child's time (a closed PostgreSQL backend) stays counted
                        own.put(pid, Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]));
                    } catch (Exception gone) {
                        // the process ended meanwhile
                    }
                }
            }
            Map<String, Long> ticks = new LinkedHashMap<>();
            for (String part : PARTS) {
                long root;
                try {
                    root = pid(pids, part);
                } catch (Exception notRunning) {
                    continue;
                }
                long sum = 0;
                List<Long> queue = new ArrayList<>(List.of(root));
                if (part.equals("pg")) {
                    postmaster(pids).ifPresent(queue::add);
                }
                java.util.Set<Long> seen = new java.util.HashSet<>();
                while (!queue.isEmpty()) {
                    long p = queue.remove(queue.size() - 1);
                    if (seen.add(p)) {
                        sum += own.getOrDefault(p, 0L);
                        queue.addAll(children.getOrDefault(p, List.of()));
                    }
                }
                ticks.put(part, sum);
            }
            // The whole machine: /proc/stat's first line, everything but idle and iowait.
            String[] all = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            for (int i = 1; i < all.length && i <= 8; i++) {
                busy += i == 4 || i == 5 ? 0 : Long.parseLong(all[i]);
            }
            String load = Files.readString(Path.of("/proc/loadavg")).trim().split(" ")[0];
            return new Cpu(ticks, own.getOrDefault(ProcessHandle.current().pid(), 0L), busy, load);
        }

        /** CPU seconds of processes other than the stack's and this benchmark's since {@code start}. */
        double othersSeconds(Cpu start) {
            double ours = (self - start.self) / 100.0
                    + ticks.keySet().stream().mapToDouble(p -> (ticks.get(p) - start.ticks.getOrDefault(p, 0L)) / 100.0).sum();
            return Math.max(0, (machineBusy - start.machineBusy) / 100.0 - ours);
        }

        String summary(Cpu start, double seconds) {
            StringBuilder b = new StringBuilder("cpu       in the window (CPU s, share of one core):");
            Map<String, String> labels = Map.of("connect", "worker", "opensearch", "OpenSearch", "pg", "PostgreSQL", "kafka", "Kafka");
            ticks.forEach((part, t) -> {
                double s = (t - start.ticks.getOrDefault(part, 0L)) / 100.0;
                b.append(String.format(" %s %.1f s (%.0f%%);", labels.get(part), s, 100 * s / seconds));
            });
            double s = (self - start.self) / 100.0;
            double ours = s + ticks.keySet().stream().mapToDouble(p -> (ticks.get(p) - start.ticks.getOrDefault(p, 0L)) / 100.0).sum();
            double machine = (machineBusy - start.machineBusy) / 100.0;
            b.append(String.format(" this benchmark (writers, probers, Maven's JVM) %.1f s (%.0f%%)%n", s, 100 * s / seconds));
            b.append(String.format("          the machine: %d cores, busy %.1f CPU s = %.0f%% of one core, of which this stack and "
                    + "benchmark %.1f s: other processes took %.1f s; load average %s at the start of the window, %s at its end%n",
                    Runtime.getRuntime().availableProcessors(), machine, 100 * machine / seconds, ours, Math.max(0, machine - ours),
                    start.loadAverage, loadAverage));
            return b.toString();
        }

        private static java.util.Optional<Long> postmaster(Path pids) {
            try {
                String kind = Files.readString(pids.resolve("pg.kind")).trim();
                Path pm = pids.getParent().resolve("pg").resolve(kind).resolve("data/postmaster.pid");
                if (Files.exists(pm)) {
                    return java.util.Optional.of(Long.parseLong(Files.readAllLines(pm).get(0).trim()));
                }
            } catch (Exception ignored) {
                // the pid file is enough
            }
            return java.util.Optional.empty();
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Helpers

    private static String[] statFields(String stat) {
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    }

    static long pid(Path pids, String part) throws Exception {
        return Long.parseLong(Files.readString(pids.resolve(part + ".pid")).trim());
    }

    private static long[] sorted(List<Sample> samples, ToLongFunction<Sample> f) {
        return samples.stream().mapToLong(f).filter(v -> v != Long.MIN_VALUE).sorted().toArray();
    }

    /** Nearest-rank percentile of sorted values. */
    private static long pct(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p / 100 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    private static double pct(List<Long> sorted, double p) {
        if (sorted.isEmpty()) {
            return 0;
        }
        int rank = (int) Math.ceil(p / 100 * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }

    private static String row(String label, long[] micros) {
        return String.format("%-58s %7d %8.1f %8.1f %8.1f %8.1f%n", label, micros.length, pct(micros, 50) / 1e3, pct(micros, 95) / 1e3,
                pct(micros, 99) / 1e3, micros.length == 0 ? 0 : micros[micros.length - 1] / 1e3);
    }

    /** The values counted into the sink's buckets, then the quantiles interpolated as for the sink's histogram. */
    private static String rowBucketed(String label, long[] micros, double[] bounds) {
        if (bounds.length == 0) {
            return String.format("%-58s (no buckets scraped)%n", label);
        }
        TreeMap<Double, Double> cumulative = new TreeMap<>();
        for (double b : bounds) {
            double limit = b * 1e6;
            cumulative.put(b, (double) Arrays.stream(micros).filter(v -> v <= limit).count());
        }
        Histogram h = new Histogram(cumulative, micros.length, 0);
        return String.format("%-58s %7d %8s %8s %8s %8s%n", label, micros.length, ms(h.quantile(0.5)), ms(h.quantile(0.95)),
                ms(h.quantile(0.99)), "-");
    }

    private static String ms(double seconds) {
        if (Double.isNaN(seconds)) {
            return "-";
        }
        return Double.isInfinite(seconds) ? ">last" : String.format("%.1f", seconds * 1e3);
    }

    private static String triple(long[] micros) {
        return micros.length == 0 ? "-" : String.format("%.0f/%.0f/%.0f", pct(micros, 50) / 1e3, pct(micros, 95) / 1e3, pct(micros, 99) / 1e3);
    }

    private static long count(LocalStack stack, String index) {
        JsonNode body = Http.get(stack.openSearchUrl() + "/" + index + "/_count").body();
        return body == null ? 0 : body.path("count").asLong();
    }

    /** Refreshes of the index so far (primaries: external and internal, e.g. those a real-time GET triggers). */
    private static long refreshes(LocalStack stack, String index) {
        JsonNode body = Http.get(stack.openSearchUrl() + "/" + index + "/_stats/refresh").body();
        return body == null ? 0 : body.path("_all").path("primaries").path("refresh").path("total").asLong();
    }

    private static void sleepUntil(long nanos) throws InterruptedException {
        for (long wait = nanos - System.nanoTime(); wait > 0; wait = nanos - System.nanoTime()) {
            Thread.sleep(Math.max(1, wait / 1_000_000), 0);
        }
    }

    private static Map<String, String> pairs(String spec) {
        Map<String, String> map = new LinkedHashMap<>();
        for (String pair : spec.split(",")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                map.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
            }
        }
        return map;
    }

    private static void cleanUp(LocalStack stack, Connectors connectors, String name, String index) {
        connectors.deleteQuietly(name + "-sink");
        connectors.deleteQuietly(name + "-source");
        try (Connection pg = DriverManager.getConnection(stack.pgUrl(), stack.pgUser(), stack.pgPassword());
                Statement s = pg.createStatement()) {
            // The task may hold the slot for a moment after its connector was deleted.
            for (int attempt = 0; ; attempt++) {
                try {
                    s.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + name + "'");
                    break;
                } catch (java.sql.SQLException busy) {
                    if (attempt >= 30) {
                        throw busy;
                    }
                    Thread.sleep(1_000);
                }
            }
            s.execute("DROP PUBLICATION IF EXISTS " + name);
            s.execute("DROP SCHEMA IF EXISTS " + name + " CASCADE");
        } catch (Exception e) {
            System.out.println("warning: clean-up of " + name + " in PostgreSQL failed: " + e);
        }
        try {
            Http.delete(stack.openSearchUrl() + "/" + name + "." + name + ".*"); // every table's index (versions: not the aliases)
        } catch (RuntimeException e) {
            System.out.println("warning: cannot delete the indices of " + name + ": " + e);
        }
        // A run writes a few hundred MB of change events: leave no topics behind on a reused stack.
        java.util.Properties props = new java.util.Properties();
        props.put(org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrap());
        try (var admin = org.apache.kafka.clients.admin.Admin.create(props)) {
            var existing = admin.listTopics().names().get();
            List<String> ours = existing.stream().filter(t -> t.startsWith(name + ".") || t.equals(name + "-dlq")).toList();
            admin.deleteTopics(ours).all().get();
        } catch (Exception e) {
            System.out.println("warning: cannot delete the topics of " + name + ": " + e);
        }
    }
}
