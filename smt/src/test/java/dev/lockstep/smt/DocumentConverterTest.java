package dev.lockstep.smt;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.junit.jupiter.api.Test;

class DocumentConverterTest {
    private final DocumentConverter converter = new DocumentConverter();

    @Test
    void writesExactNumbersFromJsonColumnsDigitForDigit() {
        Map<String, Object> document = new LinkedHashMap<>();
        document.put("price", "12.50");
        document.put("attrs", Map.of("w", new BigDecimal("1.50"), "big", new BigInteger("123456789012345678901234567890")));
        document.put("tags", List.of("a", "b"));
        String json = new String(converter.fromConnectData("t", null, document), StandardCharsets.UTF_8);
        assertThat(json).startsWith("{\"price\":\"12.50\",").contains("\"w\":1.50").contains("\"big\":123456789012345678901234567890")
                .endsWith("\"tags\":[\"a\",\"b\"]}");
        @SuppressWarnings("unchecked")
        Map<String, Object> back = (Map<String, Object>) converter.toConnectData("t", json.getBytes(StandardCharsets.UTF_8)).value();
        assertThat(back.get("attrs")).isEqualTo(document.get("attrs"));
    }

    @Test
    void aDeleteIsATombstoneAndAStructIsWrittenAsItsFields() {
        assertThat(converter.fromConnectData("t", null, null)).isNull();
        assertThat(converter.toConnectData("t", null).value()).isNull();
        Schema schema = SchemaBuilder.struct().field("id", Schema.INT32_SCHEMA).field("name", Schema.STRING_SCHEMA).build();
        assertThat(new String(converter.fromConnectData("t", schema, new Struct(schema).put("id", 1).put("name", "x")), StandardCharsets.UTF_8))
                .isEqualTo("{\"id\":1,\"name\":\"x\"}");
    }
}
