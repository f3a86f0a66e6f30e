package io.jmpio.api;

/**
 * What a balancing policy may know of a path. Reads are cheap (plain or volatile fields), so a policy can
 * call them on every request.
 */
public interface PathView {
    /**
     * A small number unique to this path within its device, stable while the device runs: policies index
     * per-path arrays with it instead of hashing.
     */
    int index();

    /** The path's id as its transport names it (NVMe/TCP: "P" and the port id of the discovery log, "P1", "P17"). */
    String id();

    /** "host:port" of the port. */
    String address();

    String controller();

    /**
     * Requests sent on this path and not yet answered by the I/O queue whose policy instance asks (each queue
     * has its own instance and balances its own share of the load; reading only its own counts keeps a
     * load-aware selection on its own core).
     */
    int inFlight();

    /** Bytes of those requests. */
    long inFlightBytes();
}
