package dev.lockstep.reconcile;

import dev.lockstep.smt.hash.FieldMapping;
import dev.lockstep.smt.hash.HashSql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One reconciled table as the catalog describes it now: its columns (each with its {@link ColumnCodec}), its
 * primary key, the document field that holds the key's first column, and where its documents live (topic, index).
 * Read at the start of every run, so a column added, dropped or renamed since the last run is seen.
 */
final class TableSpec {
    /** The first primary-key column's kind: how segments of the key space are bounded. */
    enum KeyKind {
        INTEGER, TEXT, UUID
    }

    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([^}]*)}");

    final ReconcileConfig.TableName name;
    final List<ColumnCodec> columns;
    final List<ColumnCodec> keyColumns;
    final KeyKind keyKind;
    final String keyField;
    final Set<String> documentFields;
    final String topic;
    final String index;
    final FieldMapping mapping;

    private TableSpec(ReconcileConfig.TableName name, List<ColumnCodec> columns, List<ColumnCodec> keyColumns, KeyKind keyKind,
            FieldMapping mapping, String topic, String index) {
        this.name = name;
        this.columns = columns;
        this.keyColumns = keyColumns;
        this.keyKind = keyKind;
        this.mapping = mapping;
        this.keyField = mapping.map(keyColumns.get(0).name());
        Set<String> fields = new LinkedHashSet<>();
        for (ColumnCodec c : columns) {
            String f = mapping.map(c.name());
            if (f != null) {
                fields.add(f);
            }
        }
        this.documentFields = fields;
        this.topic = topic;
        this.index = index;
    }

    /** The same table, compared against another index (the next version of a rebuild). */
    TableSpec withIndex(String otherIndex) {
        return new TableSpec(name, columns, keyColumns, keyKind, mapping, topic, otherIndex);
    }

    /** The index name (the alias users search) of a table, as the sink resolves it from the same pattern. */
    static String indexName(ReconcileConfig config, ReconcileConfig.TableName name) {
        return indexName(config.getString(ReconcileConfig.INDEX_NAME_PATTERN),
                config.getString(ReconcileConfig.TOPIC_PREFIX) + "." + name.schema() + "." + name.table());
    }

    /**
     * Reads the table from the catalog. Problems a user must fix (no such table, no primary key, a column type
     * that cannot be compared) are {@link IllegalArgumentException}s naming the table and column.
     */
    static TableSpec read(Connection pg, ReconcileConfig.TableName name, FieldMapping mapping, String topicPrefix, String indexPattern)
            throws SQLException {
        List<HashSql.Column> catalog;
        try {
            catalog = HashSql.columns(pg, name.schema(), name.table());
        } catch (SQLException e) {
            if (e.getSQLState() == null) {
                throw new IllegalArgumentException("table " + name + " does not exist (or this role cannot see it)");
            }
            throw e;
        }
        List<String> keyNames = primaryKey(pg, name);
        if (keyNames.isEmpty()) {
            throw new IllegalArgumentException("table " + name + " has no primary key: documents are identified by it");
        }
        List<ColumnCodec> columns = new ArrayList<>();
        List<ColumnCodec> keys = new ArrayList<>();
        for (HashSql.Column column : catalog) {
            boolean key = keyNames.contains(column.name());
            ColumnCodec codec;
            try {
                codec = ColumnCodec.of(column, !key);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("table " + name + ": " + e.getMessage(), e);
            }
            columns.add(codec);
        }
        for (String keyName : keyNames) {
            keys.add(columns.stream().filter(c -> c.name().equals(keyName)).findFirst().orElseThrow());
        }
        HashSql.Column first = keys.get(0).column();
        KeyKind kind = switch (first.type()) {
            case "int2", "int4", "int8" -> KeyKind.INTEGER;
            case "text", "varchar" -> KeyKind.TEXT;
            case "uuid" -> KeyKind.UUID;
            default -> throw new IllegalArgumentException("table " + name + ": primary key column '" + first.name() + "' has type "
                    + first.type() + "; the reconciler segments integer, text, varchar and uuid keys");
        };
        for (ColumnCodec key : keys) {
            if (mapping.map(key.name()) == null) {
                throw new IllegalArgumentException("table " + name + ": primary key column '" + key.name()
                        + "' is left out of the documents by the field mapping; the reconciler needs it in every document");
            }
        }
        String topic = topicPrefix + "." + name.schema() + "." + name.table();
        return new TableSpec(name, List.copyOf(columns), List.copyOf(keys), kind, mapping, topic, indexName(indexPattern, topic));
    }

    static String indexName(String pattern, String topic) {
        String table = topic.substring(topic.lastIndexOf('.') + 1);
        Matcher m = PLACEHOLDER.matcher(pattern);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(sb, Matcher.quoteReplacement(m.group(1).equals("table") ? table : topic));
        }
        m.appendTail(sb);
        return sb.toString().toLowerCase(Locale.ROOT);
    }

    private static List<String> primaryKey(Connection pg, ReconcileConfig.TableName name) throws SQLException {
        String sql = """
                SELECT a.attname
                  FROM pg_index i
                  JOIN pg_class c ON c.oid = i.indrelid
                  JOIN pg_namespace n ON n.oid = c.relnamespace
                  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                 WHERE n.nspname = ? AND c.relname = ? AND i.indisprimary
                 ORDER BY array_position(i.indkey::int2[], a.attnum)""";
        List<String> keys = new ArrayList<>();
        try (PreparedStatement ps = pg.prepareStatement(sql)) {
            ps.setString(1, name.schema());
            ps.setString(2, name.table());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    keys.add(rs.getString(1));
                }
            }
        }
        return keys;
    }

    List<HashSql.Column> hashColumns() {
        return columns.stream().map(ColumnCodec::column).toList();
    }

    /** {@code "schema"."table"} */
    String qualified() {
        return ColumnCodec.quote(name.schema()) + "." + ColumnCodec.quote(name.table());
    }

    /** The first key column of alias {@code t}, in the order segments use (bytewise for text, as OpenSearch's keyword). */
    String orderedKey(String alias) {
        String ref = alias + "." + ColumnCodec.quote(keyColumns.get(0).name());
        return keyKind == KeyKind.TEXT ? ref + " COLLATE \"C\"" : ref;
    }

    @Override
    public String toString() {
        return name.toString();
    }
}
