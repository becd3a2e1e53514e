package dev.lockstep.smt;

import org.apache.kafka.connect.errors.DataException;

/** One record that a transform cannot turn into a document, and why; {@link DeadLetters} decides where it goes. */
public class RecordFailure extends DataException {
    private final FailureReason reason;

    public RecordFailure(FailureReason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public FailureReason reason() {
        return reason;
    }
}
