package io.jmpio.transport;

/**
 * An I/O queue's private connection to one path. Used only on the queue's event loop, so it locks nothing.
 * Commands sent before it is ready wait in it; after {@code closed} it takes none.
 */
public interface QueueChannel {
    /** Sends a command; its outcome comes to the listener exactly once, unless the channel closes first. */
    void send(IoCommand command);

    /** Closes the connection; commands in flight are handed back through {@link QueueListener#closed}. */
    void close(String reason);
}
