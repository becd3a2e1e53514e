package dev.lockstep.sink;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;

/** Resolves a topic to its index name from {@link OpenSearchSinkConfig#INDEX_NAME_PATTERN}, once per topic. */
final class IndexNames {
    private final String pattern;
    private final Map<String, String> byTopic = new HashMap<>();

    IndexNames(String pattern) {
        this.pattern = pattern;
    }

    String forTopic(String topic) {
        return byTopic.computeIfAbsent(topic, this::resolve);
    }

    private String resolve(String topic) {
        String table = topic.substring(topic.lastIndexOf('.') + 1);
        Matcher m = OpenSearchSinkConfig.PLACEHOLDER.matcher(pattern);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(sb, Matcher.quoteReplacement(m.group(1).equals("table") ? table : topic));
        }
        m.appendTail(sb);
        return sb.toString().toLowerCase(Locale.ROOT);
    }
}
