package dev.lockstep.it;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;

/**
 * One test's own pipeline on the shared stack: a schema, a Debezium source and a Lockstep sink registered from
 * config/connectors through the REST API, with names (schema, topics, slot, indices, DLQ) that keep it apart
 * from other tests. {@link #close()} removes all of it.
 */
final class Pipeline implements AutoCloseable {
    final LocalStack stack;
    final String name;
    final Connectors connectors;
    /** "" (config/connectors: topics of documents) or "change-events/" (config/connectors/change-events). */
    final String layout;

    Pipeline(LocalStack stack, String prefix) {
        this(stack, prefix, "");
    }

    Pipeline(LocalStack stack, String prefix, String layout) {
        this.stack = stack;
        this.layout = layout;
        this.name = prefix + Long.toString(System.currentTimeMillis() % 100_000_000L, 36);
        this.connectors = new Connectors(stack);
    }

    Connection connect() throws SQLException {
        return DriverManager.getConnection(stack.pgUrl(), stack.pgUser(), stack.pgPassword());
    }

    void sql(String... statements) throws SQLException {
        try (Connection pg = connect(); Statement s = pg.createStatement()) {
            for (String statement : statements) {
                s.execute(statement.replace("${schema}", name));
            }
        }
    }

    String topic(String table) {
        return name + "." + name + "." + table;
    }

    String dlq() {
        return name + "-dlq";
    }

    /** Starts the source for the given tables and a sink into indices named after the topics. */
    void start(Map<String, String> sinkOverrides, String... tables) {
        start(layout, Map.of(), sinkOverrides, java.util.List.of(tables), tables);
    }

    /** The same, with settings of the Debezium source changed. */
    void start(Map<String, String> sinkOverrides, Map<String, String> sourceOverrides, String... tables) {
        start(layout, sourceOverrides, sinkOverrides, java.util.List.of(tables), tables);
    }

    /**
     * As {@link #start(Map, String...)}, with source options too, and a sink for some of the source's tables only;
     * {@code layout} is the folder of config/connectors to take the configs from ("" or "change-events/").
     */
    void start(String layout, Map<String, String> sourceOverrides, Map<String, String> sinkOverrides,
            java.util.List<String> sinkTables, String... tables) {
        Map<String, String> source = connectors.fromFile(layout + "lockstep-postgres-source");
        source.put("topic.prefix", name);
        source.put("slot.name", name);
        source.put("publication.name", name);
        source.put("table.include.list", String.join(",", java.util.Arrays.stream(tables).map(t -> name + "." + t).toList()));
        source.putAll(sourceOverrides);
        connectors.create(name + "-source", source);
        Map<String, String> sink = connectors.fromFile(layout + "lockstep-opensearch-sink");
        sink.put("topics", String.join(",", sinkTables.stream().map(this::topic).toList()));
        sink.put("index.name.pattern", "${topic}");
        sink.put("errors.deadletterqueue.topic.name", dlq());
        sink.putAll(sinkOverrides);
        connectors.create(name + "-sink", sink);
        connectors.awaitRunning(name + "-source");
        connectors.awaitRunning(name + "-sink");
    }

    String sourceTaskState() {
        return Http.get(stack.connectUrl() + "/connectors/" + name + "-source/status").body().path("tasks").path(0).path("state").asText();
    }

    String sinkTaskState() {
        return Http.get(stack.connectUrl() + "/connectors/" + name + "-sink/status").body().path("tasks").path(0).path("state").asText();
    }

    @Override
    public void close() throws SQLException {
        connectors.deleteQuietly(name + "-sink");
        connectors.deleteQuietly(name + "-source");
        dropSource(stack, name);
        Http.delete(stack.openSearchUrl() + "/" + name + "." + name + ".*");
    }

    /**
     * Drops what a Debezium source named {@code name} (slot, publication and schema all so named) leaves in
     * PostgreSQL: the slot outlives its connector and would keep WAL on a reused stack.
     */
    static void dropSource(LocalStack stack, String name) throws SQLException {
        stack.dropSlotAndPublication(name);
        try (Connection pg = DriverManager.getConnection(stack.pgUrl(), stack.pgUser(), stack.pgPassword());
                Statement s = pg.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS " + name + " CASCADE");
        }
    }
}
