package dev.lockstep.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lockstep.it.LocalStack;
import dev.lockstep.smt.hash.FieldMapping;
import dev.lockstep.it.StackExtension;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The reconciler's PostgreSQL snapshot starts at its first read, after the index's point-in-time was opened, so the
 * index can only lag the rows it is compared with. A transaction opened before (PgJDBC's getCatalog() runs a query)
 * must not lend it an older snapshot: that made the index look ahead of the rows, or equal to them under load.
 */
@ExtendWith(StackExtension.class)
class PostgresSideSnapshotIT {

    @Test
    void theSnapshotStartsAtTheFirstReadEvenInsideATransactionOpenedBefore(LocalStack stack) throws Exception {
        String schema = "pss" + Long.toString(System.nanoTime() % 1_000_000L, 36);
        try (Connection admin = DriverManager.getConnection(stack.pgUrl(), stack.pgUser(), stack.pgPassword());
                Statement sql = admin.createStatement()) {
            sql.execute("CREATE SCHEMA " + schema);
            try {
                sql.execute("CREATE TABLE " + schema + ".items (id int PRIMARY KEY, name text)");
                sql.execute("INSERT INTO " + schema + ".items VALUES (1, 'a')");
                ReconcileConfig config = new ReconcileConfig(Map.of(
                        ReconcileConfig.DATABASE_URL, stack.pgUrl(),
                        ReconcileConfig.DATABASE_USER, stack.pgUser(),
                        ReconcileConfig.DATABASE_PASSWORD, stack.pgPassword(),
                        ReconcileConfig.TABLES, schema + ".items",
                        ReconcileConfig.TOPIC_PREFIX, schema,
                        dev.lockstep.sink.OpenSearchSinkConfig.CONNECTION_URL, stack.openSearchUrl()));
                FieldMapping mapping = FieldMapping.from(new AbstractConfig(dev.lockstep.smt.ToSearchDocument.CONFIG_DEF, config.documentOptions()));
                try (PostgresSide side = new PostgresSide(config, new Throttle(0))) {
                    TableSpec table = TableSpec.read(side.connection(), new ReconcileConfig.TableName(schema, "items"), mapping, schema,
                            "${topic}");
                    // A query outside PostgresSide's own reads opens a REPEATABLE READ transaction, and its snapshot, now.
                    try (Statement other = side.connection().createStatement()) {
                        other.execute("SELECT 1");
                    }
                    sql.execute("INSERT INTO " + schema + ".items VALUES (2, 'b')");
                    assertThat(side.extent(table, Segment.ALL, 1).max()).as("the row committed before the first read").isEqualTo(2L);
                    assertThat(side.checksums(table, Segment.ALL, List.of()).get(0).count()).isEqualTo(2);
                }
            } finally {
                sql.execute("DROP SCHEMA " + schema + " CASCADE");
            }
        }
    }
}
