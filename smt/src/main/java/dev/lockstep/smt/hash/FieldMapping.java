package dev.lockstep.smt.hash;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * Which columns become document fields, and under which names. One mapping serves the stream
 * ({@code ToSearchDocument}, {@code ContentHash}), re-emitted records and the SQL hash ({@link HashSql}), so
 * after a schema change (a column added, dropped, renamed) both sides of a comparison still see the same fields.
 */
public final class FieldMapping {
    public static final String INCLUDE_CONFIG = "fields.include";
    public static final String EXCLUDE_CONFIG = "fields.exclude";
    public static final String RENAME_CONFIG = "fields.rename";

    public static final FieldMapping ALL = new FieldMapping(List.of(), List.of(), Map.of());

    private final Set<String> include;
    private final Set<String> exclude;
    private final Map<String, String> rename;

    public FieldMapping(List<String> include, List<String> exclude, Map<String, String> rename) {
        this.include = Set.copyOf(include);
        this.exclude = Set.copyOf(exclude);
        this.rename = Map.copyOf(rename);
    }

    /** Adds the mapping's options to a transform's ConfigDef, so every user of the mapping spells it the same way. */
    public static ConfigDef addTo(ConfigDef def, String group) {
        int order = 0;
        return def
                .define(INCLUDE_CONFIG, ConfigDef.Type.LIST, "", ConfigDef.Importance.MEDIUM,
                        "Columns to keep (before renaming); empty keeps all. Not together with " + EXCLUDE_CONFIG + ".",
                        group, ++order, ConfigDef.Width.LONG, "Included columns")
                .define(EXCLUDE_CONFIG, ConfigDef.Type.LIST, "", ConfigDef.Importance.MEDIUM,
                        "Columns to drop (before renaming).", group, ++order, ConfigDef.Width.LONG, "Excluded columns")
                .define(RENAME_CONFIG, ConfigDef.Type.LIST, "", new RenameValidator(), ConfigDef.Importance.MEDIUM,
                        "Renames, as column:field pairs, comma-separated, e.g. 'descr:description,qty:quantity'.",
                        group, ++order, ConfigDef.Width.LONG, "Renamed columns");
    }

    public static FieldMapping from(AbstractConfig config) {
        List<String> include = config.getList(INCLUDE_CONFIG);
        List<String> exclude = config.getList(EXCLUDE_CONFIG);
        if (!include.isEmpty() && !exclude.isEmpty()) {
            throw new ConfigException(EXCLUDE_CONFIG, exclude, "cannot be combined with " + INCLUDE_CONFIG + "; use one of them");
        }
        return new FieldMapping(include, exclude, parseRenames(RENAME_CONFIG, config.getList(RENAME_CONFIG)));
    }

    /** The field name for a column, or {@code null} when the column is left out. */
    public String map(String column) {
        if ((!include.isEmpty() && !include.contains(column)) || exclude.contains(column)) {
            return null;
        }
        return rename.getOrDefault(column, column);
    }

    static Map<String, String> parseRenames(String name, List<String> pairs) {
        Map<String, String> renames = new HashMap<>();
        Set<String> targets = new HashSet<>();
        for (String pair : pairs) {
            int colon = pair.indexOf(':');
            if (colon <= 0 || colon == pair.length() - 1 || pair.indexOf(':', colon + 1) >= 0) {
                throw new ConfigException(name, pair, "each rename is column:field, e.g. descr:description");
            }
            String from = pair.substring(0, colon).trim();
            String to = pair.substring(colon + 1).trim();
            if (renames.put(from, to) != null) {
                throw new ConfigException(name, pair, "column '" + from + "' is renamed twice");
            }
            if (!targets.add(to)) {
                throw new ConfigException(name, pair, "two columns are renamed to '" + to + "'");
            }
        }
        return renames;
    }

    static final class RenameValidator implements ConfigDef.Validator {
        @Override
        @SuppressWarnings("unchecked")
        public void ensureValid(String name, Object value) {
            parseRenames(name, (List<String>) value);
        }

        @Override
        public String toString() {
            return "column:field pairs";
        }
    }
}
