package dev.lockstep.smt.bench;

import dev.lockstep.smt.hash.CanonicalValues;
import dev.lockstep.smt.hash.FieldMapping;
import java.util.List;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;

/**
 * Java canonical-hash throughput on one thread, on products-like Debezium after-images (bigint, text,
 * numeric as string, text[], jsonb, timestamptz, boolean). Prints rows/s; run with bin/lockstep-bench hash.
 */
public final class HashBenchmark {
    public static void main(String[] args) {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        Schema schema = SchemaBuilder.struct().optional()
                .field("id", Schema.INT64_SCHEMA)
                .field("name", Schema.STRING_SCHEMA)
                .field("price", Schema.OPTIONAL_STRING_SCHEMA)
                .field("tags", SchemaBuilder.array(Schema.OPTIONAL_STRING_SCHEMA).optional().build())
                .field("attrs", SchemaBuilder.string().name("io.debezium.data.Json").optional().build())
                .field("updated_at", SchemaBuilder.string().name("io.debezium.time.ZonedTimestamp").build())
                .field("active", Schema.BOOLEAN_SCHEMA)
                .build();
        Struct[] sample = new Struct[1024];
        for (int i = 0; i < sample.length; i++) {
            sample[i] = new Struct(schema).put("id", (long) i).put("name", "Stainless steel kettle " + i)
                    .put("price", (i % 10_000) + ".90").put("tags", List.of("kitchen", "steel", "tag-" + i))
                    .put("attrs", "{\"colour\": \"silver\", \"watts\": " + (1000 + i) + "}")
                    .put("updated_at", "2026-01-05T09:30:00." + String.format("%06d", i) + "Z").put("active", i % 2 == 0);
        }
        long sink = 0;
        for (int i = 0; i < 200_000; i++) { // warm-up
            sink += CanonicalValues.row(sample[i & 1023], FieldMapping.ALL).hash().lo();
        }
        long start = System.nanoTime();
        for (int i = 0; i < rows; i++) {
            sink += CanonicalValues.row(sample[i & 1023], FieldMapping.ALL).hash().lo();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("java canonical hash: %,d rows in %.2f s = %,.0f rows/s on one thread (checksum %d)%n",
                rows, seconds, rows / seconds, sink);
    }
}
