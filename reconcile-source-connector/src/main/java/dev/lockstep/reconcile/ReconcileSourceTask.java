package dev.lockstep.reconcile;

import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;

/** Idle until reconciliation is built: polls return nothing, without spinning. */
public class ReconcileSourceTask extends SourceTask {
    @Override
    public String version() {
        String v = getClass().getPackage().getImplementationVersion();
        return v == null ? "unknown" : v;
    }

    @Override
    public void start(Map<String, String> props) {
    }

    @Override
    public List<SourceRecord> poll() throws InterruptedException {
        Thread.sleep(1_000);
        return null;
    }

    @Override
    public void stop() {
    }
}
