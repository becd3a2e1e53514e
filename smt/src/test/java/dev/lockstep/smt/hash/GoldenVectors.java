package dev.lockstep.smt.hash;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;

/** Reads docs/canonical-hash-vectors.json and builds each vector's row as Debezium would send it. */
public final class GoldenVectors {
    public record Vector(String name, JsonNode json, Struct row, String canonicalText, String hash, long hashHi, long hashLo) {
    }

    private GoldenVectors() {
    }

    public static Path file() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("docs/canonical-hash-vectors.json"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("docs/canonical-hash-vectors.json not found above " + Path.of("").toAbsolutePath());
        }
        return dir.resolve("docs/canonical-hash-vectors.json");
    }

    public static List<Vector> load() throws IOException {
        JsonNode root = new ObjectMapper().readTree(file().toFile());
        List<Vector> vectors = new ArrayList<>();
        for (JsonNode v : root.get("vectors")) {
            SchemaBuilder schema = SchemaBuilder.struct().name("vector").optional();
            for (JsonNode c : v.get("columns")) {
                schema.field(c.get("name").asText(), schemaOf(c.get("debezium")));
            }
            Schema built = schema.build();
            Struct row = new Struct(built);
            for (JsonNode c : v.get("columns")) {
                row.put(c.get("name").asText(), valueOf(c.get("debezium"), built.field(c.get("name").asText()).schema()));
            }
            vectors.add(new Vector(v.get("name").asText(), v, row, v.get("canonical_text").asText(), v.get("hash").asText(),
                    v.get("hash_hi").asLong(), v.get("hash_lo").asLong()));
        }
        return vectors;
    }

    static Schema schemaOf(JsonNode d) {
        String logical = d.path("logical").asText(null);
        SchemaBuilder b = switch (d.get("type").asText()) {
            case "int16" -> SchemaBuilder.int16();
            case "int32" -> SchemaBuilder.int32();
            case "int64" -> SchemaBuilder.int64();
            case "float32" -> SchemaBuilder.float32();
            case "float64" -> SchemaBuilder.float64();
            case "boolean" -> SchemaBuilder.bool();
            case "string" -> SchemaBuilder.string();
            case "bytes" -> Decimal.LOGICAL_NAME.equals(logical) ? Decimal.builder(d.get("scale").asInt()) : SchemaBuilder.bytes();
            case "struct" -> SchemaBuilder.struct().field("scale", Schema.INT32_SCHEMA).field("value", Schema.BYTES_SCHEMA);
            case "array" -> SchemaBuilder.array(schemaOf(d.get("items")));
            default -> throw new IllegalArgumentException("unknown type in vector: " + d);
        };
        if (logical != null && !Decimal.LOGICAL_NAME.equals(logical)) {
            b.name(logical);
        }
        return b.optional().build();
    }

    static Object valueOf(JsonNode d, Schema schema) {
        JsonNode v = d.get("value");
        if (v == null || v.isNull()) {
            return null;
        }
        return switch (d.get("type").asText()) {
            case "int16" -> (short) v.asInt();
            case "int32" -> v.asInt();
            case "int64" -> v.asLong();
            case "float32" -> v.isTextual() ? Float.parseFloat(v.asText()) : (float) v.asDouble();
            case "float64" -> v.isTextual() ? Double.parseDouble(v.asText()) : v.asDouble();
            case "boolean" -> v.asBoolean();
            case "string" -> v.asText();
            case "bytes" -> Decimal.LOGICAL_NAME.equals(d.path("logical").asText(null))
                    ? new BigDecimal(v.asText()) : HexFormat.of().parseHex(v.asText());
            case "struct" -> {
                BigDecimal n = new BigDecimal(v.asText());
                yield new Struct(schema).put("scale", n.scale()).put("value", n.unscaledValue().toByteArray());
            }
            case "array" -> {
                List<Object> list = new ArrayList<>();
                for (JsonNode e : v) {
                    list.add(e.isNull() ? null : valueOf(d.get("items").deepCopy().<com.fasterxml.jackson.databind.node.ObjectNode>require()
                            .set("value", e), schema.valueSchema()));
                }
                yield list;
            }
            default -> throw new IllegalArgumentException("unknown type in vector: " + d);
        };
    }
}
