package io.jmpio.transport;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.util.List;

/**
 * One path's control session (its admin connection: for NVMe the association that I/O queues join): probes,
 * the access states seen through it, and the I/O queues' private connections on this path.
 */
public interface PathSession extends AutoCloseable {
    boolean isOpen();

    /**
     * A cheap round trip proving the path serves the target (keep-alive, test unit ready). Returns the path's
     * own access state when the protocol tells it, or whether it serves I/O; throws {@link AccessDeniedException}
     * when the host is not allowed the target, another IOException when the path does not answer.
     */
    Probe probe() throws IOException;

    /** The access states this path can tell (the port-group report: every port; the ANA log: its own). */
    Report report() throws IOException;

    /**
     * Opens I/O queue {@code queueIndex}'s private connection on this path, on {@code loop}, asynchronously:
     * the listener hears {@code ready} or {@code closed} first, then one completion per sent command, all on
     * {@code loop}.
     */
    QueueChannel openQueue(EventLoop loop, Class<? extends Channel> channelClass, int queueIndex, QueueListener listener);

    @Override
    void close();

    /**
     * Ports and their states as seen through one path. {@code everyPort}: the list names every port to the
     * target (one missing is gone); otherwise it names only the ports whose state this path tells.
     */
    record Report(List<PortInfo> ports, boolean everyPort) {
        public Report {
            ports = List.copyOf(ports);
        }
    }

    /** A probe's answer: {@code state} when known (else null), and whether the path serves I/O now. */
    record Probe(AccessState state, boolean servesIo) {
    }

    /** The target refuses this host (masking): not a path fault to retry quickly. */
    final class AccessDeniedException extends IOException {
        public AccessDeniedException(String message) {
            super(message);
        }
    }
}
