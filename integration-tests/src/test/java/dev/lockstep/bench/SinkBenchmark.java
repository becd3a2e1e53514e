package dev.lockstep.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lockstep.it.Connectors;
import dev.lockstep.it.Http;
import dev.lockstep.it.LocalStack;
import dev.lockstep.it.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The sink alone against its ceiling, on the local stack (bin/lockstep-bench sink [rows]):
 * <ol>
 *   <li>a products-like table of N rows is snapshotted by Debezium into a topic, and the benchmark waits until
 *       the topic holds all N events;</li>
 *   <li>sink alone: the sink connector (config/connectors, or config/connectors/change-events with
 *       -Dlockstep.bench.topology=change-events/) started on the full topic; docs/s from its start until the
 *       index holds N documents, and the Connect worker's CPU seconds, peak RSS and peak heap used meanwhile;</li>
 *   <li>before/after of derived mappings (topics of documents): the sink also runs on a copy of the topic without
 *       the lockstep.field.types header with index.mappings.derive=false, alternated with the shipped config,
 *       twice each (-Dlockstep.bench.nobefore=true skips it);</li>
 *   <li>change events (topology change-events/): the sink with Kafka's JsonConverter alternated with the shipped
 *       config twice, then a plain JsonConverter-with-schemas sink and the conversion bound
 *       ({@link ChangeEventBaselines});</li>
 *   <li>ceiling: exactly the documents the sink indexed, read back into memory, then sent straight to
 *       OpenSearch with plain {@code _bulk} requests of 2,000 by one loader thread, into a fresh index with the
 *       same mappings and settings; only the sending is timed.</li>
 * </ol>
 * Before the sink runs, a sink connector of its own indexes the whole topic into a scratch index, so that neither
 * half pays for the JIT compilation of a freshly started node or worker.
 * The end-to-end latency under a steady update load is {@link LatencyBenchmark}'s (bin/lockstep-bench latency).
 */
public final class SinkBenchmark {
    /** Which connector configs: "" (config/connectors, topics of documents) or "change-events/". */
    private static final String TOPOLOGY = System.getProperty("lockstep.bench.topology", "");

    public static void main(String[] args) throws Exception {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        String name = "bench" + Long.toString(System.currentTimeMillis() % 100_000_000L, 36);
        String topic = name + "." + name + ".products";
        try (LocalStack stack = LocalStack.startOrReuse();
                Connection pg = DriverManager.getConnection(stack.pgUrl(), stack.pgUser(), stack.pgPassword());
                Statement s = pg.createStatement()) {
            Connectors connectors = new Connectors(stack);
            s.execute("CREATE SCHEMA " + name);
            s.execute("CREATE TABLE " + name + ".products (id bigint PRIMARY KEY, name text NOT NULL, price numeric(12,2), "
                    + "tags text[], attrs jsonb, updated_at timestamptz NOT NULL, active boolean NOT NULL)");
            s.execute("INSERT INTO " + name + ".products SELECT g, 'Stainless steel kettle ' || g, (g % 10000) + 0.90, "
                    + "ARRAY['kitchen', 'steel', 'tag-' || (g % 100)], jsonb_build_object('colour', 'silver', 'watts', 1000 + g % 3000), "
                    + "timestamptz '2026-01-05 09:30:00+00' + g * interval '1 second', g % 2 = 0 FROM generate_series(1, " + rows + ") g");

            Map<String, String> source = connectors.fromFile(TOPOLOGY + "lockstep-postgres-source");
            source.put("topic.prefix", name);
            source.put("slot.name", name);
            source.put("publication.name", name);
            source.put("table.include.list", name + ".products");
            long snapshotStart = System.nanoTime();
            connectors.create(name + "-source", source);
            while (Topics.endOffsets(stack, topic) < rows) {
                Thread.sleep(500);
            }
            double snapshotSeconds = (System.nanoTime() - snapshotStart) / 1e9;
            System.out.printf("debezium snapshot: %,d rows into %s in %.1f s = %,.0f rows/s%n", rows, topic, snapshotSeconds, rows / snapshotSeconds);

            // Warm-up: the JVMs compile their hot paths during the first few hundred thousand documents. On a freshly
            // started stack the sink, which runs first, would pay for the node's compilation (and the worker's), and the
            // loader would not. So a sink of its own indexes the whole topic into a scratch index first (400,000
            // documents were not enough: 88-94% on a fresh stack, against 98% after all of them).
            warmUp(stack, connectors, name, topic, rows);

            // Sink alone on the full topic. Before/after of the derived mappings, in one run (documents layout): the
            // same documents in a copy of the topic without the lockstep.field.types header, into an index the sink
            // maps only as it did before (index.mappings.derive=false), alternated with the shipped configuration.
            long connectPid = Long.parseLong(Files.readString(stackDir(stack).resolve("pids/connect.pid")).trim());
            long kafkaPid = Long.parseLong(Files.readString(stackDir(stack).resolve("pids/kafka.pid")).trim());
            long openSearchPid = Long.parseLong(Files.readString(stackDir(stack).resolve("pids/opensearch.pid")).trim());
            Pids pids = new Pids(connectPid, kafkaPid, openSearchPid);
            boolean compare = TOPOLOGY.isEmpty() && !Boolean.getBoolean("lockstep.bench.nobefore");
            String plainTopic = name + ".plain.products";
            if (compare) {
                copyWithoutHeader(stack, topic, plainTopic, "lockstep.field.types", rows);
            }
            List<String> lines = new ArrayList<>();
            Run after = null;
            // Change events: the shipped converter against Kafka's JsonConverter itself (what it replaces), alternated.
            boolean compareConverter = !TOPOLOGY.isEmpty() && !Boolean.getBoolean("lockstep.bench.nobefore");
            for (int round = 1; round <= (compare || compareConverter ? 2 : 1); round++) {
                if (compareConverter) {
                    if (after != null) {
                        Http.deleteIndex(stack.openSearchUrl(), topic);
                        after = null;
                    }
                    Run before = sinkAlone(stack, connectors, name + "-before" + round, topic, name, rows, pids, Map.of(
                            "key.converter", JSON_CONVERTER, "key.converter.schemas.enable", "true",
                            "value.converter", JSON_CONVERTER, "value.converter.schemas.enable", "true"));
                    lines.add("round " + round + ", before (Kafka's JsonConverter): " + before + "; " + before.bulkLine);
                    Http.deleteIndex(stack.openSearchUrl(), topic);
                }
                if (compare) {
                    Run before = sinkAlone(stack, connectors, name + "-before" + round, plainTopic, name, rows, pids,
                            Map.of("index.mappings.derive", "false"));
                    lines.add("round " + round + ", before (no field types header, dynamic mapping): " + before);
                    Http.deleteIndex(stack.openSearchUrl(), plainTopic);
                }
                if (after != null) {
                    Http.deleteIndex(stack.openSearchUrl(), topic);
                }
                after = sinkAlone(stack, connectors, name + "-after" + round, topic, name, rows, pids, Map.of());
                lines.add("round " + round + ", after (" + (compareConverter ? "shipped config" : "field types header, derived mappings")
                        + "): " + after + (compareConverter ? "; " + after.bulkLine : ""));
            }
            double sinkSeconds = after.seconds;
            double startSeconds = after.startSeconds;
            double cpuSeconds = after.workerCpu;
            double kafkaCpuSeconds = after.kafkaCpu;
            double openSearchCpuSeconds = after.openSearchCpu;
            long peakRss = after.peakRssKib;
            long peakHeap = after.peakHeapKib;
            String bulkLine = after.bulkLine;

            // Ceiling: exactly the documents the sink indexed, read back first, then sent with plain _bulk requests
            // of 2,000 by one loader into a fresh index with the same settings and mappings. Only the sending is timed.
            String ceilingIndex = name + "-ceiling";
            // keyed by the concrete index (topic_v1 behind the alias topic)
            JsonNode definition = Http.get(stack.openSearchUrl() + "/" + topic).body().elements().next();
            Http.Response created = Http.put(stack.openSearchUrl() + "/" + ceilingIndex, Map.of(
                    "mappings", definition.path("mappings"),
                    "settings", Map.of("number_of_shards", definition.path("settings").path("index").path("number_of_shards").asText(),
                            "number_of_replicas", definition.path("settings").path("index").path("number_of_replicas").asText(),
                            // what the sink's index had while it filled (index.first.load.settings): a new index
                            // refreshes every second until it has gone 30 s without a search
                            "refresh_interval", FIRST_LOAD_REFRESH)));
            if (created.status() != 200) {
                throw new IllegalStateException("cannot create " + ceilingIndex + ": " + created.text());
            }
            List<String> bulks = readBack(stack, topic, 2_000);
            awaitNoMerges(stack, topic); // the sink's index may still be merging: that CPU would slow the loader, not the sink
            long ceilingStart = System.nanoTime();
            long ceilingOpenSearchCpuBefore = cpuTicks(openSearchPid);
            for (String bulk : bulks) {
                send(stack, ceilingIndex, bulk);
            }
            Http.post(stack.openSearchUrl() + "/" + ceilingIndex + "/_refresh", null);
            double ceilingSeconds = (System.nanoTime() - ceilingStart) / 1e9;
            double ceilingOpenSearchCpuSeconds = (cpuTicks(openSearchPid) - ceilingOpenSearchCpuBefore) / 100.0;
            System.out.printf("ceiling (_bulk of 2,000, one loader): %,d docs in %.1f s = %,.0f docs/s%n", count(stack, ceilingIndex),
                    ceilingSeconds, rows / ceilingSeconds);
            System.out.printf("sink alone (config/connectors/%s): first acknowledgement %.1f s after the connector was created; "
                            + "%,d docs in %.1f s = %,.0f docs/s (%.0f%% of the ceiling); worker CPU "
                            + "%.1f s = %.1f s per 1M docs; worker peak RSS %,d MiB, peak heap used %,d MiB%n", TOPOLOGY, startSeconds, rows,
                    sinkSeconds, rows / sinkSeconds, 100 * ceilingSeconds / sinkSeconds, cpuSeconds, cpuSeconds * 1_000_000 / rows,
                    peakRss / 1024, peakHeap / 1024);
            System.out.println(bulkLine);
            lines.forEach(System.out::println);
            System.out.printf("CPU per 1M docs: OpenSearch %.1f s under the sink, %.1f s under the loader; Kafka broker %.1f s "
                            + "under the sink (all on the same %d cores)%n", openSearchCpuSeconds * 1_000_000 / rows,
                    ceilingOpenSearchCpuSeconds * 1_000_000 / rows, kafkaCpuSeconds * 1_000_000 / rows,
                    Runtime.getRuntime().availableProcessors());

            if (!TOPOLOGY.isEmpty()) {
                changeEventBaselines(stack, connectors, topic, rows, definition, name, rows / sinkSeconds, pids);
            }

            connectors.deleteQuietly(name + "-source");
            Thread.sleep(2_000);
            s.execute("SELECT pg_drop_replication_slot('" + name + "')");
            s.execute("DROP PUBLICATION IF EXISTS " + name);
            s.execute("DROP SCHEMA " + name + " CASCADE");
            Http.deleteIndex(stack.openSearchUrl(), ceilingIndex);
            Http.deleteIndex(stack.openSearchUrl(), topic);
            Http.deleteIndex(stack.openSearchUrl(), plainTopic);
        }
    }

    private static final String JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter";
    /** The refresh interval of the shipped index.first.load.settings, given to the baselines' indices too. */
    private static final String FIRST_LOAD_REFRESH = "30s";

    /** The plain JsonConverter sink on the same topic, and the conversion bound ({@link ChangeEventBaselines}). */
    private static void changeEventBaselines(LocalStack stack, Connectors connectors, String topic, int rows, JsonNode definition,
            String name, double sinkPerSecond, Pids pids) throws Exception {
        String peerIndex = name + "-plain";
        // dynamic mapping, as such a sink gets (Debezium's json columns are strings to it, not objects)
        Http.Response created = Http.put(stack.openSearchUrl() + "/" + peerIndex, Map.of(
                "settings", Map.of("number_of_shards", definition.path("settings").path("index").path("number_of_shards").asText(),
                        "number_of_replicas", definition.path("settings").path("index").path("number_of_replicas").asText(),
                        "refresh_interval", FIRST_LOAD_REFRESH)));
        if (created.status() != 200) {
            throw new IllegalStateException("cannot create " + peerIndex + ": " + created.text());
        }
        awaitNoMerges(stack, topic);
        var process = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long cpuBefore = process.getProcessCpuTime();
        long openSearchBefore = cpuTicks(pids.openSearch());
        double plain = ChangeEventBaselines.plainSink(stack, topic, rows, peerIndex);
        double plainCpu = (process.getProcessCpuTime() - cpuBefore) / 1e9;
        double openSearchCpu = (cpuTicks(pids.openSearch()) - openSearchBefore) / 100.0;
        long indexed = count(stack, peerIndex);
        Http.deleteIndex(stack.openSearchUrl(), peerIndex);
        System.out.printf("plain JsonConverter-with-schemas sink (one converting thread, one bulk of 2,000 in flight, in the benchmark's "
                        + "JVM): %,d docs in the index, %,.0f docs/s, its CPU %.1f s and OpenSearch's %.1f s per 1M docs; the sink "
                        + "(shipped config) is %.2fx that%n", indexed, plain, plainCpu * 1_000_000 / rows, openSearchCpu * 1_000_000 / rows,
                sinkPerSecond / plain);
        Map<String, String> sink = connectors.fromFile(TOPOLOGY + "lockstep-opensearch-sink");
        var records = ChangeEventBaselines.readTopic(stack, topic, rows);
        for (String converter : List.of(JSON_CONVERTER, sink.getOrDefault("value.converter", JSON_CONVERTER))) {
            double bound = ChangeEventBaselines.conversionBound(records, sink, converter);
            System.out.printf("conversion bound with %s (converters, the sink's transforms, document and its JSON; one thread, "
                    + "no indexing): %,.0f docs/s; the sink (shipped config) is at %.0f%% of it%n", converter, bound,
                    100 * sinkPerSecond / bound);
        }
    }

    record Pids(long connect, long kafka, long openSearch) {
    }

    /** One sink's run alone on a full topic. */
    record Run(double seconds, double startSeconds, double workerCpu, double kafkaCpu, double openSearchCpu, long peakRssKib,
            long peakHeapKib, String bulkLine, long rows) {
        @Override
        public String toString() {
            return String.format("%,.0f docs/s, worker CPU %.1f s per 1M docs, OpenSearch CPU %.1f s per 1M docs", rows / seconds,
                    workerCpu * 1_000_000 / rows, openSearchCpu * 1_000_000 / rows);
        }
    }

    /** Runs a sink connector on the full topic until it acknowledged every document; leaves its index, deletes the connector. */
    private static Run sinkAlone(LocalStack stack, Connectors connectors, String connector, String topic, String name, int rows, Pids pids,
            Map<String, String> extra) throws Exception {
        long cpuBefore = cpuTicks(pids.connect());
        long kafkaCpuBefore = cpuTicks(pids.kafka());
        long openSearchCpuBefore = cpuTicks(pids.openSearch());
        Map<String, String> sink = connectors.fromFile(TOPOLOGY + "lockstep-opensearch-sink");
        sink.put("topics", topic);
        sink.put("index.name.pattern", "${topic}");
        sink.put("errors.deadletterqueue.topic.name", name + "-dlq");
        sink.putAll(overrides());
        sink.putAll(extra);
        long sinkStart = System.nanoTime();
        connectors.create(connector, sink);
        long peakRss = 0;
        // One jstat process sampling every second: a jcmd per sample would start a JVM each time and take CPU
        // from the sink, which the loader's run does not pay.
        LatencyBenchmark.HeapSampler heap = LatencyBenchmark.HeapSampler.start(pids.connect());
        // Done when the sink's own meter counts N acknowledged documents. No search meanwhile: searches keep
        // a shard from going search-idle, so it would refresh every second, which the loader's index does not.
        long firstAck = 0;
        long acked;
        while ((acked = acknowledged(stack, connector)) < rows) {
            if (firstAck == 0 && acked > 0) {
                firstAck = System.nanoTime();
            }
            peakRss = Math.max(peakRss, rssKib(pids.connect()));
            Thread.sleep(100);
        }
        long lastAck = System.nanoTime();
        heap.stop();
        String bulkLine = bulkStats(stack, connector, (lastAck - (firstAck == 0 ? sinkStart : firstAck)) / 1e9);
        double startSeconds = ((firstAck == 0 ? lastAck : firstAck) - sinkStart) / 1e9;
        // From the first to the last acknowledgement (polled every 100 ms): the connector's start is not throughput.
        double seconds = (lastAck - (firstAck == 0 ? sinkStart : firstAck)) / 1e9;
        Http.post(stack.openSearchUrl() + "/" + topic + "/_refresh", null);
        if (count(stack, topic) != rows) {
            throw new IllegalStateException("the sink acknowledged " + rows + " documents but the index holds " + count(stack, topic));
        }
        Run run = new Run(seconds, startSeconds, (cpuTicks(pids.connect()) - cpuBefore) / 100.0,
                (cpuTicks(pids.kafka()) - kafkaCpuBefore) / 100.0, (cpuTicks(pids.openSearch()) - openSearchCpuBefore) / 100.0,
                peakRss, (long) heap.peakUsedKiB(), bulkLine, rows);
        connectors.deleteQuietly(connector);
        Thread.sleep(2_000); // the task stops; its last bulks finish
        awaitNoMerges(stack, topic);
        return run;
    }

    /** Copies a topic record for record (key, value, timestamp, headers) without one header. */
    private static void copyWithoutHeader(LocalStack stack, String from, String to, String header, int rows) {
        java.util.Properties c = new java.util.Properties();
        c.put("bootstrap.servers", stack.kafkaBootstrap());
        c.put("group.id", "lockstep-bench-copy-" + System.nanoTime());
        c.put("auto.offset.reset", "earliest");
        c.put("enable.auto.commit", "false");
        c.put("max.poll.records", "5000");
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", stack.kafkaBootstrap());
        p.put("linger.ms", "20");
        p.put("batch.size", "1048576");
        var bytes = new org.apache.kafka.common.serialization.ByteArraySerializer();
        long copied = 0;
        long start = System.nanoTime();
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]>(c,
                new org.apache.kafka.common.serialization.ByteArrayDeserializer(), new org.apache.kafka.common.serialization.ByteArrayDeserializer());
                var producer = new org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]>(p, bytes, bytes)) {
            consumer.subscribe(List.of(from));
            while (copied < rows) {
                for (var r : consumer.poll(java.time.Duration.ofMillis(500))) {
                    var headers = new org.apache.kafka.common.header.internals.RecordHeaders(r.headers().toArray());
                    headers.remove(header);
                    producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(to, null, r.timestamp(), r.key(), r.value(), headers));
                    copied++;
                }
            }
            producer.flush();
        }
        System.out.printf("copied %,d records to %s without the %s header in %.1f s%n", copied, to, header, (System.nanoTime() - start) / 1e9);
    }

    /** Extra sink settings from -Dlockstep.bench.sink="key=value,key=value" (for tuning experiments). */
    private static Map<String, String> overrides() {
        return overrides("lockstep.bench.sink");
    }

    /** Connector settings from a system property "key=value,key=value" (for tuning experiments). */
    static Map<String, String> overrides(String property) {
        Map<String, String> extra = new java.util.HashMap<>();
        // split at the commas that start the next key=, so a JSON value may hold commas
        for (String pair : System.getProperty(property, "").split(",(?=[a-zA-Z0-9_.]+=)")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                extra.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
            }
        }
        if (!extra.isEmpty()) {
            System.out.println(property + " overrides: " + extra);
        }
        return extra;
    }

    private static void send(LocalStack stack, String index, String bulk) {
        Http.Response r = Http.post(stack.openSearchUrl() + "/" + index + "/_bulk", bulk);
        if (r.status() != 200 || r.text().contains("\"errors\":true")) {
            throw new IllegalStateException("bulk failed: " + r.text().substring(0, Math.min(500, r.text().length())));
        }
    }

    /** The index's documents as _bulk bodies of {@code perBulk} index operations (read with a scroll). */
    private static List<String> readBack(LocalStack stack, String index, int perBulk) {
        List<String> bulks = new ArrayList<>();
        StringBuilder bulk = new StringBuilder();
        int inBulk = 0;
        JsonNode page = Http.post(stack.openSearchUrl() + "/" + index + "/_search?scroll=2m",
                Map.of("size", 5_000, "sort", List.of("_doc"))).body();
        while (page.path("hits").path("hits").size() > 0) {
            for (JsonNode hit : page.path("hits").path("hits")) {
                bulk.append("{\"index\":{\"_id\":").append(hit.path("_id").toString()).append("}}\n")
                        .append(hit.path("_source").toString()).append('\n');
                if (++inBulk == perBulk) {
                    bulks.add(bulk.toString());
                    bulk.setLength(0);
                    inBulk = 0;
                }
            }
            page = Http.post(stack.openSearchUrl() + "/_search/scroll", Map.of("scroll", "2m",
                    "scroll_id", page.path("_scroll_id").asText())).body();
        }
        if (inBulk > 0) {
            bulks.add(bulk.toString());
        }
        return bulks;
    }

    /** Documents the sink task acknowledged (indexed), from the worker's /metrics. */
    static long acknowledged(LocalStack stack, String connector) {
        String metrics = Http.getAny(stack.connectUrl() + "/metrics").text();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("lockstep_sink_records_total\\{connector=\"" + connector
                + "\",index=\"[^\"]*\",result=\"indexed\",task=\"0\"} ([0-9.E]+)").matcher(metrics);
        long total = 0;
        while (m.find()) {
            total += (long) Double.parseDouble(m.group(1));
        }
        return total;
    }

    /**
     * The sink's bulk requests from its own meters: how many, their mean size and duration, and the share of the
     * run during which a bulk was in flight (sum of durations / wall time; above 100% when bulks overlapped).
     */
    static String bulkStats(LocalStack stack, String connector, double seconds) {
        return bulkStats("", Http.getAny(stack.connectUrl() + "/metrics").text(), connector, seconds);
    }

    /** The same between two scrapes of the worker's meters ({@code before} empty: from the start). */
    static String bulkStats(String before, String after, String connector, double seconds) {
        double count = series(after, "lockstep_sink_bulk_latency_seconds_count", connector)
                - series(before, "lockstep_sink_bulk_latency_seconds_count", connector);
        double sum = series(after, "lockstep_sink_bulk_latency_seconds_sum", connector) - series(before, "lockstep_sink_bulk_latency_seconds_sum", connector);
        double operations = series(after, "lockstep_sink_bulk_size_operations_sum", connector)
                - series(before, "lockstep_sink_bulk_size_operations_sum", connector);
        if (count == 0) {
            return "bulks: none counted";
        }
        return String.format("bulks: %,.0f, mean %,.0f operations, mean %.1f ms each; a bulk in flight %.0f%% of the time",
                count, operations / count, 1000 * sum / count, 100 * sum / seconds);
    }

    static double series(String metrics, String name, String connector) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^" + name + "\\{[^}]*connector=\"" + connector
                + "\"[^}]*} ([0-9.E+-]+)").matcher(metrics);
        double total = 0;
        while (m.find()) {
            total += Double.parseDouble(m.group(1));
        }
        return total;
    }

    /** A sink connector of its own indexes the topic's first documents into a scratch index, then both are deleted. */
    private static void warmUp(LocalStack stack, Connectors connectors, String name, String topic, int documents) throws Exception {
        String connector = name + "-warmup";
        Map<String, String> sink = connectors.fromFile(TOPOLOGY + "lockstep-opensearch-sink");
        sink.put("topics", topic);
        sink.put("index.name.pattern", connector);
        sink.put("errors.deadletterqueue.topic.name", name + "-dlq");
        sink.putAll(overrides());
        long start = System.nanoTime();
        connectors.create(connector, sink);
        while (acknowledged(stack, connector) < documents) {
            Thread.sleep(200);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        connectors.deleteQuietly(connector);
        Thread.sleep(2_000); // the task stops; its last bulks finish
        awaitNoMerges(stack, connector);
        Http.deleteIndex(stack.openSearchUrl(), connector);
        System.out.printf("warm-up: a sink of its own indexed %,d documents into a scratch index in %.1f s (then deleted)%n",
                documents, seconds);
    }

    /** Waits (at most 2 minutes) until the index is not merging segments. */
    private static void awaitNoMerges(LocalStack stack, String index) throws InterruptedException {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (System.nanoTime() < deadline) {
            JsonNode stats = Http.get(stack.openSearchUrl() + "/" + index + "/_stats/merge").body();
            if (stats != null && stats.path("_all").path("total").path("merges").path("current").asLong(-1) == 0) {
                return;
            }
            Thread.sleep(500);
        }
        System.out.println("caveat: " + index + " was still merging after 2 minutes");
    }

    private static long count(LocalStack stack, String index) {
        JsonNode body = Http.get(stack.openSearchUrl() + "/" + index + "/_count").body();
        return body == null ? 0 : body.path("count").asLong();
    }

    private static Path stackDir(LocalStack stack) throws Exception {
        for (String line : Files.readAllLines(stack.repo().resolve(".stack/endpoints.env"))) {
            if (line.startsWith("STACK_DIR=")) {
                return Path.of(line.substring("STACK_DIR=".length()));
            }
        }
        return stack.repo().resolve(".stack");
    }

    /** utime + stime of a process, in clock ticks (100 per second on Linux). */
    static long cpuTicks(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    private static long rssKib(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return 0;
    }
}
