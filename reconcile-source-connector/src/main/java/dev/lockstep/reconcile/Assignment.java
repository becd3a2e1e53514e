package dev.lockstep.reconcile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What one task reconciles: a whole table, or one share of a large table's key range ({@link TaskPlan}). A share
 * is reconciled like a table restricted to its range, with its own schedule state (offsets), report and meters
 * (label {@code key_range}, {@code "all"} for a whole table).
 */
record Assignment(ReconcileConfig.TableName table, Segment span, int share, int shares) {
    static Assignment whole(ReconcileConfig.TableName table) {
        return new Assignment(table, Segment.ALL, 1, 1);
    }

    boolean isWhole() {
        return shares == 1;
    }

    /** {@code "all"}, or {@code "2/4"} for the second of four shares. */
    String keyRange() {
        return isWhole() ? "all" : share + "/" + shares;
    }

    /** The source partition of its schedule state; a whole table keeps the partition it always had. */
    Map<String, String> partition() {
        return isWhole() ? Map.of("table", table.toString()) : Map.of("table", table.toString(), "key_range", keyRange());
    }

    /** The documents without a key field lie in no key range: the first share (or the whole table) reports them. */
    boolean ownsKeylessDocuments() {
        return span.lo() == null;
    }

    @Override
    public String toString() {
        return isWhole() ? table.toString() : table + " " + keyRange() + " " + span;
    }

    /** The assignments as a task config value (JSON). */
    static String encode(List<Assignment> assignments) {
        ArrayNode out = SearchSide.JSON.createArrayNode();
        for (Assignment a : assignments) {
            ObjectNode o = out.addObject().put("table", a.table.toString()).put("share", a.share).put("shares", a.shares);
            bound(o, "lo", a.span.lo());
            bound(o, "hi", a.span.hi());
        }
        return out.toString();
    }

    static List<Assignment> decode(String json) {
        try {
            List<Assignment> out = new ArrayList<>();
            for (JsonNode o : SearchSide.JSON.readTree(json)) {
                out.add(new Assignment(ReconcileConfig.TableName.parse(o.path("table").asText()), new Segment(bound(o.get("lo")), bound(o.get("hi"))),
                        o.path("share").asInt(1), o.path("shares").asInt(1)));
            }
            return out;
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("not a list of task assignments: " + json, e);
        }
    }

    private static void bound(ObjectNode o, String field, Object bound) {
        if (bound instanceof Long l) {
            o.put(field, l);
        } else if (bound != null) {
            o.put(field, bound.toString());
        }
    }

    private static Object bound(JsonNode n) {
        if (n == null || n.isNull()) {
            return null;
        }
        return n.isNumber() ? (Object) n.asLong() : n.asText();
    }
}
