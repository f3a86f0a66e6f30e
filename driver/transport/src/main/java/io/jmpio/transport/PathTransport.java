package io.jmpio.transport;

import java.io.IOException;

/**
 * A wire protocol the multipath core reaches storage through. Blocking calls are made from the core's
 * control threads, never from an I/O queue's event loop.
 */
public interface PathTransport extends AutoCloseable {
    /** The name users pick it by ("nvme-tcp"). */
    String name();

    /**
     * Asks the portal ("host:port") for the target named in the context and every port to it, following the
     * protocol's referrals to other portals. Fails with a message naming the problem (nothing listening, the
     * target unknown to this host, access refused).
     */
    Discovery discover(TransportContext context, String portal) throws IOException;

    /**
     * The ports the portal lists for the target found by {@link #discover} (a periodic rescan, looking for ports
     * that came or went): their states need not be read, since each known path's own session reports its
     * state; a port's entry may say {@code reporting == false} and a placeholder state. By default a whole
     * discovery; a transport whose discovery connects to every port (NVMe/TCP) asks the portal alone, so that
     * a rescan does not log in to every controller of the array each time.
     */
    default java.util.List<PortInfo> listPorts(TransportContext context, String portal) throws IOException {
        return discover(context, portal).ports();
    }

    /**
     * Opens the control session of one path (connects, identifies the host, reads its state). {@code notices}
     * is told, from any thread, when the target says access states or ports changed.
     */
    PathSession openPath(TransportContext context, PortInfo port, Runnable notices) throws IOException;

    /**
     * The target answered and refused: what was asked for does not exist or this host may not have it. Not
     * worth asking again; any other failure of {@link #discover} may pass (a slow or restarting target).
     */
    final class TargetRefusedException extends IOException {
        public TargetRefusedException(String message) {
            super(message);
        }
    }

    /** Releases what the transport holds for all paths (nothing by default). */
    @Override
    default void close() {
    }
}
