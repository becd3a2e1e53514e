package dev.lockstep.reconcile;

/**
 * Keeps a task's reads under {@code read.max.rows.per.second}: after each statement, waits until the rows read so far
 * fit the rate. Shared by a task's connections.
 */
final class Throttle {
    private final long rowsPerSecond;
    private final long startedAt = System.nanoTime();
    private long rows;

    Throttle(long rowsPerSecond) {
        this.rowsPerSecond = rowsPerSecond;
    }

    void acquire(long count) {
        if (rowsPerSecond <= 0 || count <= 0) {
            return;
        }
        long waitMs;
        synchronized (this) {
            rows += count;
            long dueNanos = rows * 1_000_000_000L / rowsPerSecond;
            waitMs = (dueNanos - (System.nanoTime() - startedAt)) / 1_000_000L;
        }
        if (waitMs > 0) {
            try {
                Thread.sleep(waitMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
