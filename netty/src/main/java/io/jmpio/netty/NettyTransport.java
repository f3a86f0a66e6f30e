package io.jmpio.netty;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Netty event loops and channel classes of one process: io_uring when the kernel and the native
 * library allow it, else epoll, else NIO. {@code -Djmpio.transport=io_uring|epoll|nio} forces one.
 */
public final class NettyTransport implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NettyTransport.class);
    /** How long {@link #close()} waits for the loops: their own shutdown allows 2 s. */
    private static final long CLOSE_WAIT_SECONDS = 10;
    private final String kind;
    private final EventLoopGroup group;
    private final Class<? extends ServerChannel> serverChannelClass;
    private final Class<? extends Channel> channelClass;

    private NettyTransport(String kind, EventLoopGroup group, Class<? extends ServerChannel> server,
                           Class<? extends Channel> channel) {
        this.kind = kind;
        this.group = group;
        this.serverChannelClass = server;
        this.channelClass = channel;
    }

    /** Creates a transport with {@code threads} event loops named after {@code name}. */
    public static NettyTransport create(String name, int threads) {
        String wanted = System.getProperty("jmpio.transport", "auto").toLowerCase(Locale.ROOT);
        DefaultThreadFactory tf = new DefaultThreadFactory(name, true);
        if ((wanted.equals("auto") || wanted.equals("io_uring")) && IoUring.isAvailable()) {
            return new NettyTransport("io_uring", group(threads, tf, IoUringIoHandler.newFactory()),
                IoUringServerSocketChannel.class, IoUringSocketChannel.class);
        }
        if (wanted.equals("io_uring")) {
            throw new IllegalStateException("io_uring transport requested but unavailable: " + IoUring.unavailabilityCause());
        }
        if ((wanted.equals("auto") || wanted.equals("epoll")) && Epoll.isAvailable()) {
            return new NettyTransport("epoll", group(threads, tf, EpollIoHandler.newFactory()),
                EpollServerSocketChannel.class, EpollSocketChannel.class);
        }
        if (wanted.equals("epoll")) {
            throw new IllegalStateException("epoll transport requested but unavailable: " + Epoll.unavailabilityCause());
        }
        if (!wanted.equals("auto") && !wanted.equals("nio")) {
            throw new IllegalArgumentException("unknown transport '" + wanted + "' (io_uring, epoll, nio)");
        }
        return new NettyTransport("nio", group(threads, tf, NioIoHandler.newFactory()),
            NioServerSocketChannel.class, NioSocketChannel.class);
    }

    private static EventLoopGroup group(int threads, DefaultThreadFactory tf, IoHandlerFactory factory) {
        return new MultiThreadIoEventLoopGroup(threads, tf, factory);
    }

    /** "io_uring", "epoll" or "nio". */
    public String kind() {
        return kind;
    }

    public EventLoopGroup group() {
        return group;
    }

    public Class<? extends ServerChannel> serverChannelClass() {
        return serverChannelClass;
    }

    public Class<? extends Channel> channelClass() {
        return channelClass;
    }

    /**
     * Whether {@code executor} is an event loop of this transport's kind, so channels of this transport can
     * be registered on it (bridges put their client connections on the device's own I/O loops).
     */
    public boolean canServeOn(java.util.concurrent.Executor executor) {
        if (!(executor instanceof io.netty.channel.EventLoop)) {
            return false;
        }
        io.netty.channel.EventLoopGroup parent = ((io.netty.channel.EventLoop) executor).parent();
        if (!(parent instanceof io.netty.channel.IoEventLoopGroup)) {
            return false;
        }
        io.netty.channel.IoEventLoopGroup g = (io.netty.channel.IoEventLoopGroup) parent;
        switch (kind) {
            case "io_uring":
                return g.isIoType(io.netty.channel.uring.IoUringIoHandler.class);
            case "epoll":
                return g.isIoType(io.netty.channel.epoll.EpollIoHandler.class);
            default:
                return g.isIoType(io.netty.channel.nio.NioIoHandler.class);
        }
    }

    /** The server channel class for Unix domain sockets on this transport. */
    public Class<? extends ServerChannel> serverDomainChannelClass() {
        switch (kind) {
            case "io_uring":
                return io.netty.channel.uring.IoUringServerDomainSocketChannel.class;
            case "epoll":
                return io.netty.channel.epoll.EpollServerDomainSocketChannel.class;
            default:
                return io.netty.channel.socket.nio.NioServerDomainSocketChannel.class;
        }
    }

    /** The address of a Unix domain socket at {@code path}, in the form this transport binds. */
    public java.net.SocketAddress domainAddress(java.nio.file.Path path) {
        return kind.equals("nio") ? java.net.UnixDomainSocketAddress.of(path)
            : new io.netty.channel.unix.DomainSocketAddress(path.toFile());
    }

    /**
     * Stops the event loops at once, and waits for them a bounded time. No quiet period: with one, an io_uring loop
     * was seen waiting in its final io_uring_enter for completions that never came, and the close never returned
     * (the demo hung at exit). Without one, channels still open at the end may log Netty's "Can't invoke task
     * later" (netty/netty#14872), which is harmless. A loop that has not ended in time is reported and left: its
     * threads are daemons, so it holds up nothing.
     */
    @Override
    public void close() {
        io.netty.util.concurrent.Future<?> done = group.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        if (!done.awaitUninterruptibly(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS)) {
            LOG.warn("{} event loops did not stop within {} s; "
                + "left to end with the process", kind, CLOSE_WAIT_SECONDS);
        }
    }
}
