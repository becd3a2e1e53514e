package dev.lockstep.smt;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The WARN log lines of records a transform could not turn into documents: the first record of a table and reason
 * at once, then at most one line per table and reason per interval, with the number of records since the last line.
 * A keyless table under load sends thousands of records a second; one line each would drown the worker's log.
 */
final class RejectedRecordWarnings {
    static final Duration INTERVAL = Duration.ofMinutes(1);
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetters.class);

    private record Key(String table, FailureReason reason) {
    }

    private static final class Window {
        boolean logged;
        long loggedAtNanos;
        long suppressed;
    }

    private final Map<Key, Window> windows = new ConcurrentHashMap<>();
    private final LongSupplier nanoTime;

    RejectedRecordWarnings(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    /**
     * Records one rejected record; {@code where} says where it went. Returns the line it logged, or null when the
     * interval's line was already written.
     */
    String warn(String transform, String table, FailureReason reason, String message, String where) {
        Window window = windows.computeIfAbsent(new Key(table, reason), k -> new Window());
        String line;
        synchronized (window) {
            long now = nanoTime.getAsLong();
            if (window.logged && now - window.loggedAtNanos < INTERVAL.toNanos()) {
                window.suppressed++;
                return null;
            }
            line = (window.logged ? window.suppressed + " more records of " + table + " in the last "
                    + INTERVAL.toSeconds() + " s; the latest: " : "") + transform + " cannot turn a record of table " + table
                    + " into a search document (" + reason.code() + ": " + message + "); " + where + ". " + hint(reason);
            window.logged = true;
            window.loggedAtNanos = now;
            window.suppressed = 0;
        }
        LOG.warn(line);
        return line;
    }

    private static String hint(FailureReason reason) {
        return switch (reason) {
            case NO_KEY -> "The table has no primary key: give it a unique NOT NULL column and name it in Debezium's "
                    + "message.key.columns, or leave the table out of table.include.list (docs/document-ids.md#tables-without-a-primary-key).";
            case BAD_KEY -> "Its key cannot form a document id (docs/document-ids.md).";
            case BAD_VALUE, BAD_EVENT -> "Other records of the table go on as usual.";
        };
    }
}
