package io.jmpio.core;

import io.jmpio.api.PathView;
import io.jmpio.emu.protocol.AluaState;
import io.jmpio.emu.protocol.ArrayClient;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One front-end port of the array as this host sees it: where it is, its ALUA state for the LUN (from the
 * array), its health (from this host's I/O and probes), and its statistics. I/O threads read the
 * volatile fields; the admin side writes them under the device's topology lock.
 */
final class Path implements PathView {
    enum Health { UP, FAILED, OFFLINE }

    final int index;
    final String id;
    final String address;
    final String controller;
    final int group;
    final int relativePortId;
    final PathStats stats = new PathStats();
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicLong inFlightBytes = new AtomicLong();
    final AtomicBoolean probing = new AtomicBoolean();

    volatile AluaState alua = AluaState.UNAVAILABLE;
    volatile boolean preferred;
    volatile Health health = Health.FAILED;
    volatile String reason = "not yet checked";
    volatile boolean marginal;
    volatile boolean reported = true;
    /** Set when the path came back from FAILED; followover failback reads and clears it. */
    volatile boolean recovered;

    /** Times this path went from UP to FAILED. */
    final AtomicInteger failures = new AtomicInteger();
    volatile boolean everUp;

    // Marginal bookkeeping, touched only by the statistics tick.
    long windowIos;
    long windowErrors;
    long windowLatencyNanos;
    int windowFailures;
    long marginalUntilNanos;
    int marginalStrikes;

    /** The admin connection: registration, port-group reports, probes. Touched only by probe tasks. */
    volatile ArrayClient admin;

    Path(int index, String controller, int group, int relativePortId, String address) {
        this.index = index;
        this.controller = controller;
        this.group = group;
        this.relativePortId = relativePortId;
        this.address = address;
        // Relative port ids are group * 16 + position + 1: "A0" is the first port of controller A.
        this.id = controller + Math.floorMod(relativePortId - 1, 16);
    }

    /** Eligible for I/O in its group: up, not taken offline, and in an ALUA state that serves I/O (or standby). */
    boolean usable() {
        return health == Health.UP && (alua.servesIo() || alua == AluaState.STANDBY);
    }

    @Override public int index() { return index; }
    @Override public String id() { return id; }
    @Override public String address() { return address; }
    @Override public String controller() { return controller; }
    @Override public int inFlight() { return inFlight.get(); }
    @Override public long inFlightBytes() { return inFlightBytes.get(); }

    @Override
    public String toString() {
        return id + "(" + address + ")";
    }
}
