package io.jmpio.transport;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;

/**
 * What every transport is given by the core: the host's identity (an NQN-style name and a 16-byte host
 * identifier), the target asked for (its form is the transport's: a LUN name, an NQN and NSID; null for the
 * only one), how many I/O queues the core runs (one connection each per path), the event loops and channel
 * class for control connections, and the timeouts to honour.
 */
public record TransportContext(String hostName, byte[] hostIdentifier, String target, int ioQueues,
                               EventLoopGroup controlGroup, Class<? extends Channel> channelClass,
                               long connectTimeoutMillis, long commandTimeoutMillis, long keepAliveMillis) {
    public TransportContext {
        if (hostIdentifier == null || hostIdentifier.length != 16) {
            throw new IllegalArgumentException("the host identifier is 16 bytes");
        }
        hostIdentifier = hostIdentifier.clone();
    }

    @Override
    public byte[] hostIdentifier() {
        return hostIdentifier.clone();
    }
}
