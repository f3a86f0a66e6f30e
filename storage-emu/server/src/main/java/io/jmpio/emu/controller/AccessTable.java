package io.jmpio.emu.controller;

import io.jmpio.emu.controller.PeerMonitor.PeerState;
import io.jmpio.emu.array.ArrayConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The access state (ALUA, and through it NVMe ANA) of every LUN on every port of the pair, as this controller
 * sees it: derived from ownership, transitions, the peer's state and the ports' states. When a LUN's row
 * changes, the front end is told, so hosts hear of it (ANA change events, discovery log changes).
 */
final class AccessTable {
    private final Controller c;
    /** Guards the table; event loops take it, so it is never held while waiting for an event loop. */
    private final Object lock = new Object();
    private final Map<Integer, List<String>> rows = new HashMap<>();
    private long generation;

    AccessTable(Controller controller) {
        this.c = controller;
    }

    /** The state of controller {@code ctl}'s ports for LUN {@code l}, as this controller sees it. */
    AluaState state(Lun l, String ctl, boolean portUp) {
        if (!portUp) {
            return AluaState.UNAVAILABLE;
        }
        if (ctl.equals(c.id) ? c.state != Controller.State.RUNNING : c.peerState == PeerState.DEAD || c.peerInfo == null) {
            return AluaState.UNAVAILABLE;
        }
        if (l.transitioning || ctl.equals(c.id) && (c.timersStalled(c.clock.nanos())
                || c.ownerFence.closed() && ctl.equals(l.record.owner()))) {
            // Until the timer has re-read ownership after a freeze, and the peer has seen this controller alive
            // again, nothing is served on possibly stale state.
            return AluaState.TRANSITIONING;
        }
        if (ctl.equals(l.record.owner())) {
            return AluaState.ACTIVE_OPTIMIZED;
        }
        return c.peerState == PeerState.ALIVE ? AluaState.ACTIVE_NON_OPTIMIZED : AluaState.STANDBY;
    }

    /**
     * Every front-end port of the pair that is up, with its state for LUN {@code l}: this controller's ports,
     * then the peer's as it last told us.
     */
    Map<String, AluaState> portStates(Lun l) {
        Map<String, AluaState> out = new java.util.LinkedHashMap<>();
        for (String ctl : ArrayConfig.PAIR) {
            List<String> ports = ctl.equals(c.id) ? c.upPortAddresses() : c.peerFrontEndAddresses();
            AluaState s = state(l, ctl, true);
            for (String p : ports) {
                out.put(p, s);
            }
        }
        return out;
    }

    long generation() {
        synchronized (lock) {
            return generation;
        }
    }

    /** Recomputes every LUN's row; hosts get a notice for each LUN that changed. */
    void recompute() {
        synchronized (lock) {
            if (c.state != Controller.State.RUNNING) {
                return;
            }
            List<Integer> changed = new ArrayList<>();
            for (Lun l : c.luns.values()) {
                List<String> row = new ArrayList<>();
                portStates(l).forEach((port, state) -> row.add(port + "=" + state.code()));
                if (!row.equals(rows.put(l.id(), row))) {
                    changed.add(l.id());
                }
            }
            boolean removed = rows.keySet().retainAll(c.luns.keySet());
            if (changed.isEmpty() && !removed) {
                return;
            }
            for (Controller.HostFrontEnd f : c.frontEnds) {
                f.accessChanged();
            }
            if (!changed.isEmpty()) {
                generation++;
            }
        }
    }

    void clear() {
        synchronized (lock) {
            rows.clear();
        }
    }
}
