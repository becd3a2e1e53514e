package dev.lockstep.smt;

/**
 * Why a record could not become a document: the value of the {@link DeadLetters#REASON} header and of the
 * {@code reason} tag of the dead-letter metric. A short fixed set, so the metric's series stay few.
 */
public enum FailureReason {
    /** The record has no key: the table has no primary key (and no message.key.columns). */
    NO_KEY("no_key"),
    /** The key cannot form a document id (a null or non-scalar column, a missing id.fields column). */
    BAD_KEY("bad_key"),
    /** The row cannot be converted or hashed. */
    BAD_VALUE("bad_value"),
    /** Not a change event Lockstep understands (unknown op, no after-image, an unreadable source block). */
    BAD_EVENT("bad_event");

    private final String code;

    FailureReason(String code) {
        this.code = code;
    }

    public String code() {
        return code;
    }
}
