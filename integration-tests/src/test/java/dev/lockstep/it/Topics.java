package dev.lockstep.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.json.JsonConverter;

/** Reads topics as a sink connector would: bytes through the worker's JsonConverter (schemas enabled). */
public final class Topics {
    public record Event(long offset, SchemaAndValue key, SchemaAndValue value, org.apache.kafka.common.header.Headers headers,
            byte[] rawKey, byte[] rawValue) {
    }

    private Topics() {
    }

    /**
     * Reads a topic from the beginning until {@code done} says the events read so far are enough, or the
     * timeout passes; returns what was read.
     */
    public static List<Event> read(LocalStack stack, String topic, Duration timeout, java.util.function.Predicate<List<Event>> done) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrap());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "lockstep-it-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        JsonConverter keys = new JsonConverter();
        keys.configure(Map.of("schemas.enable", "true"), true);
        JsonConverter values = new JsonConverter();
        values.configure(Map.of("schemas.enable", "true"), false);
        List<Event> events = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            while (System.nanoTime() < deadline && !done.test(events)) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    events.add(new Event(r.offset(), decode(keys, topic, r.key()), decode(values, topic, r.value()), r.headers(),
                            r.key(), r.value()));
                }
            }
        }
        return events;
    }

    /** A change event (JsonConverter with schemas) decoded; anything else (a document, a string key) as raw text. */
    private static SchemaAndValue decode(JsonConverter converter, String topic, byte[] bytes) {
        try {
            return converter.toConnectData(topic, bytes);
        } catch (org.apache.kafka.connect.errors.DataException e) {
            return new SchemaAndValue(null, new String(bytes, java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    /** Writes records as they were read (bytes and headers), as a re-emitting producer would. */
    public static void produce(LocalStack stack, String topic, List<Event> events) {
        Properties props = new Properties();
        props.put(org.apache.kafka.clients.producer.ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrap());
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]>(props,
                new org.apache.kafka.common.serialization.ByteArraySerializer(), new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            for (Event e : events) {
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, null, e.rawKey(), e.rawValue(), e.headers()));
            }
            producer.flush();
        }
    }

    /** Writes records with a UTF-8 string key and a UTF-8 (e.g. JSON) value, in order, to partition 0. */
    public static void produceText(LocalStack stack, String topic, List<Map.Entry<String, String>> records) {
        Properties props = new Properties();
        props.put(org.apache.kafka.clients.producer.ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrap());
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<String, String>(props,
                new org.apache.kafka.common.serialization.StringSerializer(), new org.apache.kafka.common.serialization.StringSerializer())) {
            for (Map.Entry<String, String> r : records) {
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, 0, r.getKey(), r.getValue()));
            }
            producer.flush();
        }
    }

    /** The offset a consumer group committed for partition 0 of a topic, or -1. */
    public static long committed(LocalStack stack, String group, String topic) throws Exception {
        Properties props = new Properties();
        props.put(org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrap());
        try (var admin = org.apache.kafka.clients.admin.Admin.create(props)) {
            var committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get()
                    .get(new org.apache.kafka.common.TopicPartition(topic, 0));
            return committed == null ? -1 : committed.offset();
        }
    }

    /** The sum of the end offsets of the topic's partitions (its record count when nothing was deleted). */
    public static long endOffsets(LocalStack stack, String topic) throws Exception {
        Properties props = new Properties();
        props.put(org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrap());
        try (var admin = org.apache.kafka.clients.admin.Admin.create(props)) {
            if (!admin.listTopics().names().get().contains(topic)) {
                return 0;
            }
            var partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions();
            Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest = new java.util.HashMap<>();
            for (var p : partitions) {
                latest.put(new org.apache.kafka.common.TopicPartition(topic, p.partition()), org.apache.kafka.clients.admin.OffsetSpec.latest());
            }
            return admin.listOffsets(latest).all().get().values().stream().mapToLong(o -> o.offset()).sum();
        }
    }

    /** Whether a consumer group has committed the end offset of every partition of the topic. */
    public static boolean caughtUp(LocalStack stack, String group, String topic) throws Exception {
        Properties props = new Properties();
        props.put(org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrap());
        try (var admin = org.apache.kafka.clients.admin.Admin.create(props)) {
            var committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            var partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions();
            Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest = new java.util.HashMap<>();
            for (var p : partitions) {
                latest.put(new org.apache.kafka.common.TopicPartition(topic, p.partition()), org.apache.kafka.clients.admin.OffsetSpec.latest());
            }
            var ends = admin.listOffsets(latest).all().get();
            for (var e : ends.entrySet()) {
                var c = committed.get(e.getKey());
                if (c == null || c.offset() < e.getValue().offset()) {
                    return false;
                }
            }
            return true;
        }
    }
}
