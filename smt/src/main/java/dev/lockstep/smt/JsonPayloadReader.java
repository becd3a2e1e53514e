package dev.lockstep.smt;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;

/**
 * Reads a JSON payload straight from a streaming parser into Connect data of a known schema, giving what Kafka's
 * JsonConverter gives for the same bytes: no tree of nodes is built first.
 *
 * <p>It reads only the well-formed case: each JSON token of the type its schema expects. Anything else (a string
 * where a number belongs, a number out of its type's range, a required value missing)
 * throws {@link Unread}, and {@link CachedSchemaJsonConverter} then lets the JsonConverter read the whole record,
 * so such records get exactly the JsonConverter's result or error.
 */
final class JsonPayloadReader {

    /** The payload is not in the form this reader handles; not an error in the data by itself. */
    static final class Unread extends Exception {
        Unread(String why) {
            super(why, null, false, false); // thrown for control flow: no stack trace
        }
    }

    private final boolean replaceNullWithDefault;

    JsonPayloadReader(boolean replaceNullWithDefault) {
        this.replaceNullWithDefault = replaceNullWithDefault;
    }

    /** Reads the value at the parser's current token (already advanced to it). */
    Object read(Schema schema, JsonParser p) throws IOException, Unread {
        JsonToken token = p.currentToken();
        if (token == JsonToken.VALUE_NULL) {
            return absent(schema);
        }
        String logical = schema.name();
        if (logical != null) {
            switch (logical) {
                case Decimal.LOGICAL_NAME:
                    if (token == JsonToken.VALUE_NUMBER_INT || token == JsonToken.VALUE_NUMBER_FLOAT) {
                        return p.getDecimalValue();
                    }
                    expect(token == JsonToken.VALUE_STRING, schema);
                    return Decimal.toLogical(schema, p.getBinaryValue());
                case Date.LOGICAL_NAME:
                    expect(token == JsonToken.VALUE_NUMBER_INT && p.getNumberType() == JsonParser.NumberType.INT, schema);
                    return Date.toLogical(schema, p.getIntValue());
                case Time.LOGICAL_NAME:
                    expect(token == JsonToken.VALUE_NUMBER_INT && p.getNumberType() == JsonParser.NumberType.INT, schema);
                    return Time.toLogical(schema, p.getIntValue());
                case Timestamp.LOGICAL_NAME:
                    expect(token == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER, schema);
                    return Timestamp.toLogical(schema, p.getLongValue());
                default:
                    break; // a name without a logical conversion (Debezium's io.debezium.time.*, envelopes): by type
            }
        }
        switch (schema.type()) {
            case STRING:
                expect(token == JsonToken.VALUE_STRING, schema);
                return p.getText();
            case INT64:
                expect(token == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER, schema);
                return p.getLongValue();
            case INT32:
                expect(token == JsonToken.VALUE_NUMBER_INT && p.getNumberType() == JsonParser.NumberType.INT, schema);
                return p.getIntValue();
            case INT16:
                expect(token == JsonToken.VALUE_NUMBER_INT && p.getNumberType() == JsonParser.NumberType.INT, schema);
                return (short) p.getIntValue(); // the JsonConverter narrows the same way
            case INT8:
                expect(token == JsonToken.VALUE_NUMBER_INT && p.getNumberType() == JsonParser.NumberType.INT, schema);
                return (byte) p.getIntValue();
            case BOOLEAN:
                expect(token == JsonToken.VALUE_TRUE || token == JsonToken.VALUE_FALSE, schema);
                return token == JsonToken.VALUE_TRUE;
            case FLOAT64:
                return floating(schema, p, token).doubleValue();
            case FLOAT32:
                return floating(schema, p, token).floatValue();
            case BYTES:
                expect(token == JsonToken.VALUE_STRING, schema);
                return p.getBinaryValue();
            case ARRAY:
                expect(token == JsonToken.START_ARRAY, schema);
                List<Object> list = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    list.add(read(schema.valueSchema(), p));
                }
                return list;
            case MAP:
                // string keys make a JSON object, other keys an array of [key, value] pairs
                Map<Object, Object> map = new HashMap<>();
                if (schema.keySchema().type() == Schema.Type.STRING) {
                    expect(token == JsonToken.START_OBJECT, schema);
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String key = p.currentName();
                        p.nextToken();
                        map.put(key, read(schema.valueSchema(), p));
                    }
                } else {
                    expect(token == JsonToken.START_ARRAY, schema);
                    while (p.nextToken() == JsonToken.START_ARRAY) {
                        p.nextToken();
                        Object key = read(schema.keySchema(), p);
                        p.nextToken();
                        Object entry = read(schema.valueSchema(), p);
                        expect(p.nextToken() == JsonToken.END_ARRAY, schema);
                        map.put(key, entry);
                    }
                    expect(p.currentToken() == JsonToken.END_ARRAY, schema);
                }
                return map;
            case STRUCT:
                expect(token == JsonToken.START_OBJECT, schema);
                return struct(schema, p);
            default:
                throw new Unread("schema type " + schema.type());
        }
    }

    private Struct struct(Schema schema, JsonParser p) throws IOException, Unread {
        Struct struct = new Struct(schema);
        List<Field> fields = schema.fields();
        boolean[] seen = new boolean[fields.size()];
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            Field field = schema.field(p.currentName());
            p.nextToken();
            if (field == null) {
                p.skipChildren(); // the JsonConverter reads only the schema's fields
                continue;
            }
            struct.put(field, read(field.schema(), p));
            seen[field.index()] = true;
        }
        for (Field field : fields) {
            if (!seen[field.index()]) {
                Object value = absent(field.schema());
                if (value != null) {
                    struct.put(field, value);
                }
            }
        }
        return struct;
    }

    /** A null or missing value: the schema's default, null if optional; a required one is the JsonConverter's error. */
    private Object absent(Schema schema) throws Unread {
        if (schema.defaultValue() != null && replaceNullWithDefault) {
            return schema.defaultValue();
        }
        if (schema.isOptional()) {
            return null;
        }
        throw new Unread("null for a required " + schema.type());
    }

    /** Through BigDecimal, as the JsonConverter's deserializer reads every JSON fraction, so the rounding is the same. */
    private static java.math.BigDecimal floating(Schema schema, JsonParser p, JsonToken token) throws IOException, Unread {
        expect(token == JsonToken.VALUE_NUMBER_FLOAT
                || (token == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER), schema);
        return token == JsonToken.VALUE_NUMBER_INT ? java.math.BigDecimal.valueOf(p.getLongValue()) : p.getDecimalValue();
    }

    private static void expect(boolean matches, Schema schema) throws Unread {
        if (!matches) {
            throw new Unread("a token that does not fit " + schema.type());
        }
    }
}
