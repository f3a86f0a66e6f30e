package io.jmpio.transport;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;

/**
 * What every transport is given by the core: the host's identity (an NQN-style name and a 16-byte host
 * identifier), the target asked for (its form is the transport's: a LUN name, an NQN and NSID; null for the
 * only one), how many I/O queues the core runs (one connection each per path), the event loops and channel
 * class for control connections, the timeouts to honour, and options only the transport understands
 * (NVMe/TCP: {@code digest=header|data|both}).
 */
public record TransportContext(String hostName, byte[] hostIdentifier, String target, int ioQueues,
                               EventLoopGroup controlGroup, Class<? extends Channel> channelClass,
                               long connectTimeoutMillis, long commandTimeoutMillis, long keepAliveMillis,
                               java.util.Map<String, String> options) {
    public TransportContext {
        if (hostIdentifier == null || hostIdentifier.length != 16) {
            throw new IllegalArgumentException("the host identifier is 16 bytes");
        }
        hostIdentifier = hostIdentifier.clone();
        options = options == null ? java.util.Map.of() : java.util.Map.copyOf(options);
    }

    /** A transport option ({@code --transport-option KEY=VALUE}), or {@code otherwise}. */
    public String option(String key, String otherwise) {
        return options.getOrDefault(key, otherwise);
    }

    @Override
    public byte[] hostIdentifier() {
        return hostIdentifier.clone();
    }
}
