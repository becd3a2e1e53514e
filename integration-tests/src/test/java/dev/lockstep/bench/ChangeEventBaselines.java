package dev.lockstep.bench;

import dev.lockstep.it.Http;
import dev.lockstep.it.LocalStack;
import dev.lockstep.smt.SearchValues;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.storage.Converter;
import org.apache.kafka.connect.transforms.Transformation;

/**
 * The two baselines of the change-event layout in {@link SinkBenchmark} (issue 11): what the sink is compared with.
 * <ul>
 *   <li><b>conversion bound</b>: the sink's whole conversion of each record, in one thread of the benchmark's JVM,
 *       without indexing: the value and key converters, the transforms of the shipped sink config, the document
 *       as the sink builds it and its JSON. Records are read from the topic into memory first, and each converter is
 *       timed on a second pass (the first compiles). One sink task converts on one thread, so it cannot beat this.</li>
 *   <li><b>plain sink</b>: what a plain JsonConverter-with-schemas sink does on the same topic (the Confluent and
 *       Aiven sinks' usual setup): JsonConverter with schemas, Debezium's {@code after} (ExtractNewRecordState),
 *       schemaless JSON through the JsonConverter, {@code _bulk} of 2,000 with the offset as external version. One
 *       thread reads and converts while another sends, one bulk in flight. Timed from the first poll to the last
 *       bulk's answer.</li>
 * </ul>
 */
final class ChangeEventBaselines {
    /** Writes documents as the sink's bulk threads do (Jackson, exact numbers as they are). */
    private static final com.fasterxml.jackson.databind.ObjectMapper DOCUMENTS = new com.fasterxml.jackson.databind.ObjectMapper();

    private ChangeEventBaselines() {
    }

    /** Reads the whole topic (raw records) into memory. */
    static List<ConsumerRecord<byte[], byte[]>> readTopic(LocalStack stack, String topic, int rows) {
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>(rows);
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(stack)) {
            consumer.subscribe(List.of(topic));
            while (records.size() < rows) {
                consumer.poll(Duration.ofMillis(500)).forEach(records::add);
            }
        }
        return records;
    }

    /** Documents per second of the sink's conversion alone, for the given value/key converter class. */
    static double conversionBound(List<ConsumerRecord<byte[], byte[]>> records, Map<String, String> sinkConfig, String converterClass)
            throws Exception {
        double perSecond = 0;
        for (int pass = 0; pass < 2; pass++) { // the first pass compiles
            Converter keys = converter(converterClass, true);
            Converter values = converter(converterClass, false);
            List<Transformation<SinkRecord>> transforms = transforms(sinkConfig);
            long bytes = 0;
            long start = System.nanoTime();
            for (ConsumerRecord<byte[], byte[]> r : records) {
                SchemaAndValue key = keys.toConnectData(r.topic(), r.key());
                SchemaAndValue value = values.toConnectData(r.topic(), r.value());
                SinkRecord record = new SinkRecord(r.topic(), r.partition(), key.schema(), key.value(), value.schema(), value.value(),
                        r.offset(), r.timestamp(), r.timestampType(), new ConnectHeaders());
                for (Transformation<SinkRecord> t : transforms) {
                    record = record == null ? null : t.apply(record);
                }
                if (record != null && record.value() instanceof Struct document) {
                    bytes += DOCUMENTS.writeValueAsBytes(SearchValues.toMap(document, SearchValues.NumericFormat.STRING)).length;
                } else if (record != null && record.value() instanceof Map<?, ?> document) {
                    bytes += DOCUMENTS.writeValueAsBytes(new java.util.LinkedHashMap<>(document)).length; // as the sink copies it
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            perSecond = records.size() / seconds;
            if (bytes == 0) {
                throw new IllegalStateException("the transforms made no document");
            }
            transforms.forEach(Transformation::close);
        }
        return perSecond;
    }

    /** A plain JsonConverter-with-schemas sink on the topic into {@code index}; returns docs/s. */
    static double plainSink(LocalStack stack, String topic, int rows, String index) throws Exception {
        JsonConverter keys = new JsonConverter();
        keys.configure(Map.of("schemas.enable", "true"), true);
        JsonConverter values = new JsonConverter();
        values.configure(Map.of("schemas.enable", "true"), false);
        JsonConverter documents = new JsonConverter();
        documents.configure(Map.of("schemas.enable", "false"), false);
        BlockingQueue<String> bulks = new ArrayBlockingQueue<>(1);
        String last = "";
        Throwable[] failure = new Throwable[1];
        Thread sender = new Thread(() -> {
            try {
                for (String bulk = bulks.take(); !bulk.equals(last); bulk = bulks.take()) {
                    Http.Response r = Http.post(stack.openSearchUrl() + "/" + index + "/_bulk", bulk);
                    if (r.status() != 200 || r.text().contains("\"errors\":true")) {
                        throw new IllegalStateException("plain sink bulk failed: " + r.text().substring(0, Math.min(500, r.text().length())));
                    }
                }
            } catch (Throwable e) {
                failure[0] = e;
            }
        }, "plain-sink-sender");
        long start = System.nanoTime();
        sender.start();
        int done = 0;
        StringBuilder bulk = new StringBuilder();
        int inBulk = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(stack)) {
            consumer.subscribe(List.of(topic));
            while (done < rows && failure[0] == null) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    done++;
                    Struct key = (Struct) keys.toConnectData(topic, r.key()).value();
                    Struct event = (Struct) values.toConnectData(topic, r.value()).value();
                    String id = String.valueOf(key.get(key.schema().fields().get(0)));
                    String action = "{\"%s\":{\"_id\":\"" + id + "\",\"version\":" + r.offset() + ",\"version_type\":\"external\"}}\n";
                    Struct after = event == null ? null : event.getStruct("after");
                    if (after == null) {
                        bulk.append(String.format(action, "delete"));
                    } else {
                        bulk.append(String.format(action, "index"))
                                .append(new String(documents.fromConnectData(topic, after.schema(), after), StandardCharsets.UTF_8)).append('\n');
                    }
                    if (++inBulk == 2_000 || done == rows) {
                        bulks.put(bulk.toString());
                        bulk.setLength(0);
                        inBulk = 0;
                    }
                }
            }
        }
        bulks.put(last);
        sender.join();
        if (failure[0] != null) {
            throw new IllegalStateException(failure[0]);
        }
        Http.post(stack.openSearchUrl() + "/" + index + "/_refresh", null);
        return rows / ((System.nanoTime() - start) / 1e9);
    }

    private static Converter converter(String className, boolean isKey) throws Exception {
        Converter converter = (Converter) Class.forName(className).getDeclaredConstructor().newInstance();
        converter.configure(Map.of("schemas.enable", "true"), isKey);
        return converter;
    }

    @SuppressWarnings("unchecked")
    private static List<Transformation<SinkRecord>> transforms(Map<String, String> sinkConfig) throws Exception {
        List<Transformation<SinkRecord>> transforms = new ArrayList<>();
        for (String alias : sinkConfig.getOrDefault("transforms", "").split(",")) {
            if (alias.isBlank()) {
                continue;
            }
            String prefix = "transforms." + alias.trim() + ".";
            Transformation<SinkRecord> t = (Transformation<SinkRecord>) Class.forName(sinkConfig.get(prefix + "type"))
                    .getDeclaredConstructor().newInstance();
            Map<String, String> props = new HashMap<>();
            sinkConfig.forEach((k, v) -> {
                if (k.startsWith(prefix) && !k.equals(prefix + "type")) {
                    props.put(k.substring(prefix.length()), v);
                }
            });
            t.configure(props);
            transforms.add(t);
        }
        return transforms;
    }

    private static KafkaConsumer<byte[], byte[]> consumer(LocalStack stack) {
        Properties c = new Properties();
        c.put("bootstrap.servers", stack.kafkaBootstrap());
        c.put("group.id", "lockstep-bench-baseline-" + System.nanoTime());
        c.put("auto.offset.reset", "earliest");
        c.put("enable.auto.commit", "false");
        c.put("max.poll.records", "2000");
        return new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }
}
