package io.jmpio.emu.controller;

import io.jmpio.emu.array.HostRecord;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hosts that connect through a controller, recorded in the array metadata (NQN, host identifier, first and
 * last connection, the controller they came through), so the array knows hosts that are away. Written on the
 * controller's {@code ops} thread, never on the event loop that saw the connection.
 */
final class HostRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(HostRegistry.class);
    /** How stale a host's "last seen" in the metadata may get while it keeps connecting. */
    static final long SEEN_REFRESH_MILLIS = 60_000;

    private final Controller c;
    /** Per host NQN, the identifier and time this controller last recorded; touched on the ops thread only. */
    private final Map<String, Recorded> recorded = new HashMap<>();

    private record Recorded(String hostIdHex, long atMillis) {
    }

    HostRegistry(Controller controller) {
        this.c = controller;
    }

    void register(String nqn, String hostIdHex) {
        ScheduledExecutorService o = c.ops;
        if (o == null || c.state != Controller.State.RUNNING) {
            return;
        }
        try {
            o.execute(() -> {
                try {
                    if (recordedLately(nqn, hostIdHex)) {
                        return;
                    }
                    long now = System.currentTimeMillis();
                    c.metadata.update(m -> m.withHostSeen(nqn, hostIdHex, now, c.id));
                    remember(nqn, new Recorded(hostIdHex, now));
                } catch (IOException | RuntimeException e) {
                    if (c.state == Controller.State.RUNNING) {
                        LOG.warn("controller {}: cannot record host {} in the metadata: {}", c.id, nqn, e.toString());
                    } // else the stop interrupted the write (atomic: the old metadata stays); recorded next time
                }
            });
        } catch (RuntimeException stopping) {
            // the controller is stopping: the host is recorded at its next connection
        }
    }

    /**
     * Keeps what was recorded, as many hosts as the metadata keeps at most: any client can connect under a new NQN,
     * so the oldest go first (forgetting one costs one metadata read at its next connection).
     */
    private void remember(String nqn, Recorded r) {
        if (recorded.size() >= HostRecord.MAX_HOSTS && !recorded.containsKey(nqn)) {
            long now = r.atMillis();
            recorded.values().removeIf(old -> now - old.atMillis() >= SEEN_REFRESH_MILLIS);
            if (recorded.size() >= HostRecord.MAX_HOSTS) {
                recorded.clear();
            }
        }
        recorded.put(nqn, r);
    }

    /**
     * Whether the metadata already says that this host, with this identifier, last came through this controller
     * less than {@link #SEEN_REFRESH_MILLIS} ago: then a connection writes nothing. Hosts connect often (every
     * queue of every path, again after each fault), and each write holds the array's cross-process metadata lock:
     * a controller frozen while holding it would stall the peer's takeover until it thawed.
     */
    private boolean recordedLately(String nqn, String hostIdHex) throws IOException {
        Recorded mine = recorded.get(nqn);
        if (mine != null && mine.hostIdHex().equals(hostIdHex)
            && System.currentTimeMillis() - mine.atMillis() < SEEN_REFRESH_MILLIS) {
            return true; // known without reading the file (the peer may have recorded the host since: harmless)
        }
        HostRecord h = c.metadata.load().host(nqn);
        return h != null && h.hostId().equals(hostIdHex) && c.id.equals(h.lastController())
            && System.currentTimeMillis() - h.lastSeenMillis() < SEEN_REFRESH_MILLIS;
    }
}
