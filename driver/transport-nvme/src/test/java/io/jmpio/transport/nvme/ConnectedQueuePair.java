package io.jmpio.transport.nvme;

import io.netty.channel.EventLoop;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A host queue pair (QID 1, four entries, controller 1) connected to a test's controller on loopback, with what
 * its listener heard: the close's reason and the commands it handed back unanswered (read them on {@link #loop}).
 */
final class ConnectedQueuePair {
    final QueuePair queue;
    final EventLoop loop;
    final CompletableFuture<String> closed = new CompletableFuture<>();
    final List<QueuePair.Command> handedBack = new ArrayList<>();
    private final CompletableFuture<Void> ready = new CompletableFuture<>();

    private ConnectedQueuePair(EventLoop loop, boolean headerDigest, boolean dataDigest, int inCapsuleLimit) {
        this.loop = loop;
        this.queue = new QueuePair(1, 4, 0, 1, "nqn.2014-08.io.jmpio:test-target", "nqn.2014-08.io.jmpio:test-host",
            new byte[16], headerDigest, dataDigest, inCapsuleLimit, new QueuePair.Listener() {
                @Override
                public void ready(QueuePair qp, int cntlid) {
                    ready.complete(null);
                }

                @Override
                public void closed(QueuePair qp, String reason, boolean fault, List<QueuePair.Command> unanswered) {
                    handedBack.addAll(unanswered);
                    closed.complete(reason);
                    ready.completeExceptionally(new IOException(reason));
                }
            });
    }

    /** Connects to the controller listening on loopback {@code port}; returns once the Connect is answered. */
    static ConnectedQueuePair open(EventLoop loop, int port, boolean headerDigest, boolean dataDigest,
                                   int inCapsuleLimit) throws Exception {
        ConnectedQueuePair c = new ConnectedQueuePair(loop, headerDigest, dataDigest, inCapsuleLimit);
        loop.execute(() -> c.queue.connect(loop, NioSocketChannel.class,
            new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000));
        c.ready.get(10, TimeUnit.SECONDS);
        return c;
    }
}
