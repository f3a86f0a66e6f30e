package io.jmpio.core.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jmpio.core.MultipathDevice;
import io.jmpio.netty.ConnectionGuard;
import io.jmpio.netty.FailureText;
import io.jmpio.netty.NettyTransport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.TooLongFrameException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control socket of one device. Requests, one JSON object per connection:
 * {@code {"command":"status"}}, {@code {"command":"policy","name":"queue-length","options":{}}},
 * {@code {"command":"path","id":"P1","action":"offline|online"}}, {@code {"command":"failback"}},
 * {@code {"command":"detach"}}. Reply: {@code {"ok":true,"result":...}} or {@code {"ok":false,"error":"..."}}.
 *
 * <p>The socket file is mode 0600 from the moment it can be reached (bound in a private directory, then
 * renamed into place). Requests are read by an event loop, so a client that sends nothing holds no thread:
 * it is closed when its request has not arrived within 10 s; a request line is at most 64 KiB; at most 64
 * connections are held. Commands run one at a time on their own thread, with a bounded queue.
 */
public final class ControlServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);
    static final ObjectMapper JSON = new ObjectMapper();

    /** Mode of the socket file: its owner only. */
    static final String SOCKET_MODE = "rw-------";
    /** A client must send its request (and take the reply) within this time. */
    static final long EXCHANGE_DEADLINE_MILLIS = 10_000;
    /** Longest request line read. */
    static final int MAX_REQUEST = 64 << 10;
    /** Connections held at once. */
    static final int MAX_CONNECTIONS = 64;

    private final MultipathDevice device;
    private final Path socketPath;
    private final NettyTransport transport;
    private final Channel server;
    private final Runnable detach;
    private final java.util.function.Supplier<String> busy;
    private final ThreadPoolExecutor commands = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(32), r -> {
            Thread t = new Thread(r, "jmpio-control");
            t.setDaemon(true);
            return t;
        });

    private ControlServer(MultipathDevice device, Path socketPath, NettyTransport transport, Channel server,
                          Runnable detach, java.util.function.Supplier<String> busy) {
        this.detach = detach;
        this.busy = busy;
        this.device = device;
        this.socketPath = socketPath;
        this.transport = transport;
        this.server = server;
        this.commands.allowCoreThreadTimeOut(true);
    }

    /** Listens on {@code socketPath}; refuses when another live device already answers there. */
    public static ControlServer start(MultipathDevice device, Path socketPath) throws IOException {
        return start(device, socketPath, device::close, () -> null);
    }

    /**
     * As {@link #start(MultipathDevice, Path)}, with what {@code detach} does: the attach command passes its
     * teardown, so the kernel bridge goes before the device it serves.
     */
    public static ControlServer start(MultipathDevice device, Path socketPath, Runnable detach,
                                      java.util.function.Supplier<String> busy) throws IOException {
        Path dir = socketPath.toAbsolutePath().getParent();
        checkDirectory(dir);
        if (Files.exists(socketPath)) {
            if (ControlClient.answers(socketPath)) {
                throw new IOException("control socket " + socketPath + " is in use by another attached device;"
                    + " pass --control PATH or --name NAME");
            }
            Files.delete(socketPath);
        }
        NettyTransport transport = NettyTransport.create("jmpio-control", 1);
        ControlServer[] self = new ControlServer[1];
        ConnectionGuard guard = new ConnectionGuard("control socket " + socketPath, MAX_CONNECTIONS,
            EXCHANGE_DEADLINE_MILLIS, EXCHANGE_DEADLINE_MILLIS, false);
        ServerBootstrap b = guard.configure(new ServerBootstrap()).group(transport.group())
            .channel(transport.serverDomainChannelClass())
            .childHandler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    if (!guard.admit(ch)) {
                        return;
                    }
                    ch.pipeline().addLast(guard.head(), new LineBasedFrameDecoder(MAX_REQUEST, true, true),
                        self[0].new Exchange());
                }
            });
        try {
            Channel server = bindPrivately(b, transport, socketPath);
            self[0] = new ControlServer(device, socketPath, transport, server, detach, busy);
            return self[0];
        } catch (IOException | RuntimeException e) {
            transport.close();
            throw e;
        }
    }

    public Path socketPath() {
        return socketPath;
    }

    /**
     * Creates the socket's directory owner-only (0700) when it is missing. An existing one must belong to this
     * account or root and be writable by nobody else, unless it has the sticky bit (as /tmp), where only a
     * file's owner may remove or rename it: otherwise another account could swap the socket for its own.
     */
    static void checkDirectory(Path dir) throws IOException {
        if (dir == null) {
            return;
        }
        if (!Files.exists(dir)) {
            if (dir.getParent() != null) {
                Files.createDirectories(dir.getParent());
            }
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // made meanwhile: checked below
            } catch (UnsupportedOperationException e) {
                Files.createDirectories(dir);
                return;
            }
        }
        try {
            int mode = (Integer) Files.getAttribute(dir, "unix:mode");
            int owner = (Integer) Files.getAttribute(dir, "unix:uid");
            int self = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            boolean sticky = (mode & 01000) != 0;
            if (sticky) {
                return;
            }
            if (owner != self && owner != 0) {
                throw new IOException("control socket directory " + dir + " belongs to another user (uid " + owner
                    + "); choose another --control path");
            }
            if ((mode & 0022) != 0) {
                throw new IOException("control socket directory " + dir + " is writable by other users (mode "
                    + Integer.toOctalString(mode & 07777) + "); chmod go-w it or choose another --control path");
            }
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            LOG.debug("no unix attributes on {}", dir);
        }
    }

    /**
     * Binds the socket inside a new directory only this account can enter, gives it its final mode there,
     * and only then renames it into place: at no moment can another account connect to it.
     */
    private static Channel bindPrivately(ServerBootstrap b, NettyTransport transport, Path socketPath)
            throws IOException {
        Path dir = socketPath.toAbsolutePath().getParent();
        Path staging;
        try {
            staging = Files.createTempDirectory(dir, ".jmpio-control-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (UnsupportedOperationException e) {
            staging = Files.createTempDirectory(dir, ".jmpio-control-");
        }
        Path staged = staging.resolve("s");
        Channel server = null;
        try {
            var f = b.bind(transport.domainAddress(staged)).awaitUninterruptibly();
            if (!f.isSuccess()) {
                throw new IOException("cannot listen on control socket " + socketPath + ": " + FailureText.of(f.cause()),
                    f.cause());
            }
            server = f.channel();
            try {
                Files.setPosixFilePermissions(staged, PosixFilePermissions.fromString(SOCKET_MODE));
            } catch (UnsupportedOperationException e) {
                LOG.debug("no POSIX permissions on {}", staged);
            }
            Files.move(staged, socketPath, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return server;
        } catch (IOException | RuntimeException e) {
            if (server != null) {
                server.close().awaitUninterruptibly();
            }
            throw e;
        } finally {
            Files.deleteIfExists(staged);
            Files.deleteIfExists(staging);
        }
    }

    /** One connection: its request line, the command run off the event loop, the reply, close. */
    private final class Exchange extends SimpleChannelInboundHandler<ByteBuf> {
        private boolean answered;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf line) {
            if (answered) {
                return; // one request per connection
            }
            answered = true;
            ctx.channel().config().setAutoRead(false);
            String text = line.toString(StandardCharsets.UTF_8);
            try {
                commands.execute(() -> {
                    Map<String, Object> reply = new LinkedHashMap<>();
                    Runnable after = run(text, reply);
                    send(ctx, reply, after);
                });
            } catch (RejectedExecutionException e) {
                send(ctx, Map.of("ok", false, "error", "control socket busy; try again"), null);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable c = cause.getCause() != null && !(cause instanceof TooLongFrameException) ? cause.getCause() : cause;
            if (!answered && (cause instanceof TooLongFrameException || c instanceof TooLongFrameException)) {
                answered = true;
                send(ctx, Map.of("ok", false, "error", "request longer than " + MAX_REQUEST + " bytes"), null);
                return;
            }
            LOG.debug("control client went away: {}", cause.toString());
            ctx.close();
        }
    }

    private void send(ChannelHandlerContext ctx, Map<String, Object> reply, Runnable after) {
        byte[] body;
        try {
            body = JSON.writeValueAsBytes(reply);
        } catch (IOException e) {
            body = ("{\"ok\":false,\"error\":\"cannot encode the reply\"}").getBytes(StandardCharsets.UTF_8);
        }
        ByteBuf out = Unpooled.wrappedBuffer(body, new byte[] {'\n'});
        ctx.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE).addListener(f -> {
            if (after != null) {
                commands.execute(after);
            }
        });
    }

    /** Runs one request; fills {@code reply}; returns what to do once the reply is sent (detach), or null. */
    private Runnable run(String line, Map<String, Object> reply) {
        Runnable after = null;
        try {
            if (line == null || line.isBlank()) {
                throw new IllegalArgumentException("empty request");
            }
            JsonNode req = JSON.readTree(line);
            String command = req.path("command").asText("");
            switch (command) {
                case "status":
                    reply.put("result", device.status());
                    break;
                case "policy":
                    Map<String, String> options = new LinkedHashMap<>();
                    req.path("options").fields().forEachRemaining(e -> options.put(e.getKey(), e.getValue().asText()));
                    device.setPolicy(required(req, "name"), options);
                    reply.put("result", "policy " + device.policyName());
                    break;
                case "path":
                    String action = required(req, "action");
                    if (!action.equals("offline") && !action.equals("online")) {
                        throw new IllegalArgumentException("path action must be offline or online, got '" + action + "'");
                    }
                    device.setPathOffline(required(req, "id"), action.equals("offline"));
                    reply.put("result", "path " + req.path("id").asText() + " " + action);
                    break;
                case "failback":
                    device.failback();
                    reply.put("result", "failback requested");
                    break;
                case "detach":
                    String inUse = req.path("force").asBoolean(false) ? null : busy.get();
                    if (inUse != null) {
                        throw new IllegalStateException("not detaching " + device.name() + ": " + inUse
                            + " (unmount it first, or detach --force)");
                    }
                    reply.put("result", "detaching " + device.name());
                    after = detach;
                    break;
                default:
                    throw new IllegalArgumentException("unknown command '" + command
                        + "' (status, policy, path, failback, detach)");
            }
            reply.put("ok", true);
        } catch (IOException | RuntimeException e) {
            reply.clear();
            reply.put("ok", false);
            reply.put("error", FailureText.of(e));
        }
        return after;
    }

    private static String required(JsonNode req, String field) {
        JsonNode n = req.get(field);
        if (n == null || n.asText().isEmpty()) {
            throw new IllegalArgumentException("request lacks '" + field + "'");
        }
        return n.asText();
    }

    static ObjectNode request(String command) {
        return JSON.createObjectNode().put("command", command);
    }

    @Override
    public void close() {
        server.close().awaitUninterruptibly();
        transport.close();
        commands.shutdown();
        try {
            Files.deleteIfExists(socketPath);
        } catch (IOException e) {
            LOG.debug("removing {}", socketPath, e);
        }
    }
}
