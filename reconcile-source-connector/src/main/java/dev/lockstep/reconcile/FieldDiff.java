package dev.lockstep.reconcile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Explains a mismatch field by field: the document the row gives (built by the stream's own transforms) next to
 * the document OpenSearch holds. The lineage object is left out (its hash and version differ whenever anything
 * does); a field present on one side only shows {@code null} on the other and is flagged.
 */
final class FieldDiff {
    private FieldDiff() {
    }

    static ArrayNode between(Map<String, Object> expected, JsonNode actual, String lineageField) {
        ArrayNode diffs = SearchSide.JSON.createArrayNode();
        JsonNode want = expected == null ? SearchSide.JSON.createObjectNode() : SearchSide.JSON.valueToTree(expected);
        JsonNode have = actual == null ? SearchSide.JSON.createObjectNode() : actual;
        Set<String> fields = new LinkedHashSet<>();
        want.fieldNames().forEachRemaining(fields::add);
        have.fieldNames().forEachRemaining(fields::add);
        fields.remove(lineageField);
        for (String field : fields) {
            JsonNode p = want.get(field);
            JsonNode o = have.get(field);
            if (!same(p, o)) {
                ObjectNode d = diffs.addObject().put("field", field);
                d.set("postgresql", p == null ? NullNode.getInstance() : p);
                d.set("opensearch", o == null ? NullNode.getInstance() : o);
                if (p == null || o == null) {
                    d.put("absent_in", p == null ? "postgresql" : "opensearch");
                }
            }
        }
        return diffs;
    }

    /** JSON equality where numbers compare by value (2200 and 2200.0 are one number to a search engine). */
    static boolean same(JsonNode a, JsonNode b) {
        if (a == null || b == null) {
            return a == b;
        }
        if (a.isNumber() && b.isNumber()) {
            return a.decimalValue().compareTo(b.decimalValue()) == 0;
        }
        if (a.isObject() && b.isObject()) {
            if (a.size() != b.size()) {
                return false;
            }
            for (var it = a.fields(); it.hasNext();) {
                var e = it.next();
                if (!same(e.getValue(), b.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
        if (a.isArray() && b.isArray()) {
            if (a.size() != b.size()) {
                return false;
            }
            for (int i = 0; i < a.size(); i++) {
                if (!same(a.get(i), b.get(i))) {
                    return false;
                }
            }
            return true;
        }
        return a.equals(b);
    }
}
