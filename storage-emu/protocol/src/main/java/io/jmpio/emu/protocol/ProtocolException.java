package io.jmpio.emu.protocol;

/** A frame or payload that does not follow the protocol. */
public class ProtocolException extends RuntimeException {
    private final int sense;
    private final long tag;

    public ProtocolException(String message) {
        this(message, Sense.NONE, 0);
    }

    public ProtocolException(String message, int sense, long tag) {
        super(message);
        this.sense = sense;
        this.tag = tag;
    }

    /** The sense to report to the peer. */
    public int sense() {
        return sense;
    }

    /** The tag of the offending frame when the header was readable, else 0. */
    public long tag() {
        return tag;
    }
}
