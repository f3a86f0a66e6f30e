package io.jmpio.bridge.nbd;

import io.jmpio.api.BlockDevice;
import io.jmpio.api.KernelBridge;
import io.jmpio.netty.FailureText;
import io.jmpio.netty.HostPort;
import io.jmpio.netty.ConnectionGuard;
import io.jmpio.netty.NettyTransport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A listening NBD export of one device; closing it closes every client connection and the socket file. */
final class NbdServer implements KernelBridge {
    private static final Logger LOG = LoggerFactory.getLogger(NbdServer.class);

    private final NettyTransport transport;
    private final Channel server;
    private final ChannelGroup clients;
    private final String location;
    private final Map<String, Object> details = new LinkedHashMap<>();
    private final Path socketFile;
    private volatile boolean closed;

    private NbdServer(NettyTransport transport, Channel server, ChannelGroup clients, String location, String listen,
                      String export, Path socketFile) {
        this.transport = transport;
        this.clients = clients;
        this.server = server;
        this.location = location;
        this.socketFile = socketFile;
        details.put("nbd", location);
        details.put("listen", listen);
        details.put("export", export);
    }

    /**
     * What one export grants its clients: connections held at once, time to finish the handshake (after it a
     * connection may idle, as NBD clients do), and time for one request or option from its first byte.
     */
    record Limits(int maxConnections, long handshakeMillis, long partialMillis) {
        static final Limits DEFAULT = new Limits(64, 30_000, 30_000);
    }

    static NbdServer start(BlockDevice device, String listen, String export) throws IOException {
        return start(device, listen, export, NbdAccess.open(), Limits.DEFAULT);
    }

    static NbdServer start(BlockDevice device, String listen, String export, NbdAccess access, Limits limits)
            throws IOException {
        boolean unix = listen.startsWith("unix:");
        Path socketFile = unix ? Path.of(listen.substring(5)) : null;
        InetSocketAddress tcp = unix ? null : HostPort.parse(listen);
        if (unix && socketFile.toString().isEmpty()) {
            throw new IllegalArgumentException("nbd listen address 'unix:' has no path");
        }
        NettyTransport transport = NettyTransport.create("jmpio-nbd", 1);
        ChannelGroup clients = new DefaultChannelGroup("nbd-clients", GlobalEventExecutor.INSTANCE);
        String description = "jmpio multipath device " + device.info().name() + " (wwid " + device.info().wwid() + ")";
        // Connections live on the device's own I/O loops when they are of this transport's kind: a request
        // then goes to the wire, and its reply back to the client, without changing threads.
        java.util.concurrent.Executor deviceLoop = device.queueExecutor(0);
        io.netty.channel.EventLoopGroup childGroup = transport.canServeOn(deviceLoop)
            ? ((io.netty.channel.EventLoop) deviceLoop).parent() : transport.group();
        ConnectionGuard guard = new ConnectionGuard("NBD export " + export, limits.maxConnections(),
            limits.handshakeMillis(), limits.partialMillis(), true);
        ServerBootstrap b = guard.configure(new ServerBootstrap()).group(transport.group(), childGroup)
            .channel(unix ? transport.serverDomainChannelClass() : transport.serverChannelClass())
            .childHandler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    if (!access.allows(ch.remoteAddress())) {
                        LOG.warn("NBD export {}: {} is not on the allow-list; closing", export, ch.remoteAddress());
                        ch.close();
                        return;
                    }
                    if (!guard.admit(ch)) {
                        return;
                    }
                    clients.add(ch);
                    ch.pipeline().addLast(guard.head(), new NbdConnection(device, export, description, access.tls()));
                }
            });
        if (!unix) {
            b.option(ChannelOption.SO_REUSEADDR, true).childOption(ChannelOption.TCP_NODELAY, true);
        }
        Channel server;
        try {
            if (unix) {
                Files.createDirectories(socketFile.toAbsolutePath().getParent());
                if (Files.exists(socketFile)) {
                    throw new IOException("nbd socket " + socketFile + " already exists (another export running? remove it if not)");
                }
                server = b.bind(transport.domainAddress(socketFile)).sync().channel();
            } else {
                server = b.bind(tcp).sync().channel();
            }
        } catch (IOException e) {
            transport.close();
            throw e;
        } catch (Exception e) {
            transport.close();
            throw new IOException("cannot listen for NBD on " + listen + ": " + FailureText.of(e), e);
        }
        String location;
        String bound;
        if (unix) {
            location = "nbd+unix:///" + export + "?socket=" + socketFile.toAbsolutePath();
            bound = "unix:" + socketFile.toAbsolutePath();
        } else {
            InetSocketAddress a = (InetSocketAddress) server.localAddress();
            String host = a.getAddress().getHostAddress();
            location = "nbd://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort() + "/" + export;
            bound = host + ":" + a.getPort();
        }
        LOG.info("NBD export '{}' at {} ({} transport{}{})", export, location, transport.kind(),
            access.tls() != null ? ", TLS required" : "", access.restricted() ? ", allow-list" : "");
        return new NbdServer(transport, server, clients, location, bound, export, socketFile);
    }

    @Override
    public String location() {
        return location;
    }

    @Override
    public Map<String, Object> details() {
        return details;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        server.close().syncUninterruptibly();
        clients.close().awaitUninterruptibly();
        transport.close();
        if (socketFile != null) {
            try {
                Files.deleteIfExists(socketFile);
            } catch (IOException e) {
                LOG.warn("cannot remove {}: {}", socketFile, e.toString());
            }
        }
    }
}
