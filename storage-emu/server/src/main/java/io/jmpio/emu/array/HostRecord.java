package io.jmpio.emu.array;

/**
 * A host the array has seen: its NQN (the identity LUN masking matches), the 16-byte host identifier it gave
 * at Connect (hex; reservations are keyed by it), when it first and last connected, and through which
 * controller last. Kept with the array's metadata, so `jmpio emu hosts` knows hosts that are away.
 */
public record HostRecord(String nqn, String hostId, long firstSeenMillis, long lastSeenMillis, String lastController) {
    /** Hosts the metadata keeps; a new one beyond this replaces the one seen longest ago. */
    public static final int MAX_HOSTS = 1024;

    public HostRecord seenAgain(String hostIdNow, long nowMillis, String controller) {
        return new HostRecord(nqn, hostIdNow, firstSeenMillis, nowMillis, controller);
    }
}
