package dev.lockstep.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.reconcile.ReconcileSourceConnector;
import dev.lockstep.sink.OpenSearchSinkConnector;
import dev.lockstep.smt.ContentHash;
import dev.lockstep.smt.SyncHeaders;
import dev.lockstep.smt.ToSearchDocument;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.types.Password;
import org.junit.jupiter.api.Test;

/**
 * docs/config-reference.md is generated from the ConfigDefs; this test fails when it is stale. Regenerate with
 * {@code mvn -pl integration-tests test -Dtest=ConfigReferenceTest -Dlockstep.docs.update=true}.
 */
class ConfigReferenceTest {
    record Plugin(String className, String kind, String overview, ConfigDef def) {
    }

    static final List<Plugin> PLUGINS = List.of(
            new Plugin(OpenSearchSinkConnector.class.getName(), "sink connector",
                    "Writes search documents (key = id, value = document, null = delete) to OpenSearch.",
                    new OpenSearchSinkConnector().config()),
            new Plugin(ToSearchDocument.class.getName(), "transform", ToSearchDocument.OVERVIEW_DOC, ToSearchDocument.CONFIG_DEF),
            new Plugin(SyncHeaders.class.getName(), "transform", SyncHeaders.OVERVIEW_DOC, SyncHeaders.CONFIG_DEF),
            new Plugin(ContentHash.class.getName(), "transform", ContentHash.OVERVIEW_DOC, ContentHash.CONFIG_DEF),
            new Plugin(ReconcileSourceConnector.class.getName(), "source connector",
                    "The reconciler: compares each table with its index, classifies, explains, repairs through the topics, validates and audits (docs/reconciliation.md).",
                    new ReconcileSourceConnector().config()));

    static String render() {
        StringBuilder md = new StringBuilder("""
                # Configuration reference

                Generated from the plugins' `ConfigDef`s by `ConfigReferenceTest` (which fails when this file is stale).
                Every option is also checked by `PUT /connector-plugins/{class}/config/validate`.
                """);
        for (Plugin p : PLUGINS) {
            md.append("\n## `").append(p.className()).append("` (").append(p.kind()).append(")\n\n").append(p.overview()).append("\n");
            if (p.def().names().isEmpty()) {
                md.append("\nNo options of its own.\n");
                continue;
            }
            String group = null;
            for (ConfigDef.ConfigKey key : ordered(p.def())) {
                if (key.group != null && !key.group.equals(group)) {
                    group = key.group;
                    md.append("\n### ").append(group).append("\n");
                }
                md.append("\n#### `").append(key.name).append("`\n\n").append(key.documentation).append("\n\n");
                md.append("- type: ").append(key.type.toString().toLowerCase()).append('\n');
                md.append("- default: ").append(defaultOf(key)).append('\n');
                if (key.validator != null) {
                    md.append("- valid values: ").append(key.validator).append('\n');
                }
                md.append("- importance: ").append(key.importance.toString().toLowerCase()).append('\n');
            }
        }
        return md.toString();
    }

    /** Ungrouped options in definition order, then each group in its order of definition, by order in group. */
    private static List<ConfigDef.ConfigKey> ordered(ConfigDef def) {
        List<String> groups = def.groups();
        return def.configKeys().values().stream().sorted(java.util.Comparator
                .comparingInt((ConfigDef.ConfigKey k) -> k.group == null ? -1 : groups.indexOf(k.group))
                .thenComparingInt(k -> k.orderInGroup)).toList();
    }

    private static String defaultOf(ConfigDef.ConfigKey key) {
        if (!key.hasDefault()) {
            return "(required)";
        }
        Object value = key.defaultValue;
        if (value == null) {
            return "none";
        }
        if (value instanceof Password) {
            return "[hidden]";
        }
        if (value instanceof List<?> list) {
            return list.isEmpty() ? "\"\" (empty)" : "`" + String.join(",", list.stream().map(String::valueOf).toList()) + "`";
        }
        String text = String.valueOf(value);
        return text.isEmpty() ? "\"\" (empty)" : "`" + text + "`";
    }

    @Test
    void referenceIsCurrent() throws Exception {
        Path file = LocalStack.repoDir().resolve("docs/config-reference.md");
        String rendered = render();
        if (Boolean.getBoolean("lockstep.docs.update")) {
            Files.writeString(file, rendered);
        }
        assertThat(Files.exists(file)).as(file + " exists").isTrue();
        assertThat(Files.readString(file)).as("docs/config-reference.md is stale: regenerate it (see this test's javadoc)")
                .isEqualTo(rendered);
    }
}
