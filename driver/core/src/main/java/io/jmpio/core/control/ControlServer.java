package io.jmpio.core.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jmpio.core.MultipathDevice;
import java.io.IOException;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control socket of one device. Requests, one JSON object per connection:
 * {@code {"command":"status"}}, {@code {"command":"policy","name":"queue-length","options":{}}},
 * {@code {"command":"path","id":"A0","action":"offline|online"}}, {@code {"command":"failback"}},
 * {@code {"command":"detach"}}. Reply: {@code {"ok":true,"result":...}} or {@code {"ok":false,"error":"..."}}.
 */
public final class ControlServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);
    static final ObjectMapper JSON = new ObjectMapper();

    private final MultipathDevice device;
    private final Path socketPath;
    private final ServerSocketChannel server;
    private final Runnable detach;
    private final java.util.function.Supplier<String> busy;
    private final Thread acceptor;
    private final java.util.concurrent.ThreadPoolExecutor workers = new java.util.concurrent.ThreadPoolExecutor(2, 2,
        30, java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.ArrayBlockingQueue<>(32), r -> {
            Thread t = new Thread(r, "jmpio-control-client");
            t.setDaemon(true);
            return t;
        });
    private volatile boolean closed;

    /** Mode of the socket file: its owner only. */
    static final String SOCKET_MODE = "rw-------";
    /** A client must send its request and read the reply within this time. */
    static final long EXCHANGE_DEADLINE_MILLIS = 10_000;
    /** Longest request line read. */
    static final int MAX_REQUEST = 64 << 10;
    private static final java.util.concurrent.ScheduledExecutorService WATCHDOG =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "jmpio-control-watchdog");
            t.setDaemon(true);
            return t;
        });

    private ControlServer(MultipathDevice device, Path socketPath, ServerSocketChannel server, Runnable detach,
                          java.util.function.Supplier<String> busy) {
        this.detach = detach;
        this.busy = busy;
        this.device = device;
        this.socketPath = socketPath;
        this.server = server;
        this.acceptor = new Thread(this::acceptLoop, "jmpio-control");
        this.acceptor.setDaemon(true);
        this.workers.allowCoreThreadTimeOut(true);
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
        if (dir != null) {
            Files.createDirectories(dir);
        }
        if (Files.exists(socketPath)) {
            if (ControlClient.answers(socketPath)) {
                throw new IOException("control socket " + socketPath + " is in use by another attached device;"
                    + " pass --control PATH or --name NAME");
            }
            Files.delete(socketPath);
        }
        checkDirectory(dir);
        ServerSocketChannel s = bindPrivately(socketPath);
        ControlServer cs = new ControlServer(device, socketPath, s, detach, busy);
        cs.acceptor.start();
        return cs;
    }

    public Path socketPath() {
        return socketPath;
    }

    /**
     * Refuses a directory others may write to (they could replace the socket with their own) unless it has
     * the sticky bit, as /tmp does, where only a file's owner may remove or rename it.
     */
    static void checkDirectory(Path dir) throws IOException {
        if (dir == null) {
            return;
        }
        try {
            int mode = (Integer) Files.getAttribute(dir, "unix:mode");
            boolean sticky = (mode & 01000) != 0;
            if ((mode & 0002) != 0 && !sticky) {
                throw new IOException("control socket directory " + dir + " is writable by every user (mode "
                    + Integer.toOctalString(mode & 07777) + "); choose another --control path");
            }
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            LOG.debug("no unix attributes on {}", dir);
        }
    }

    /**
     * Binds the socket inside a new directory only this account can enter, gives it its final mode there,
     * and only then renames it into place: at no moment can another account connect to it.
     */
    private static ServerSocketChannel bindPrivately(Path socketPath) throws IOException {
        Path dir = socketPath.toAbsolutePath().getParent();
        Path staging;
        try {
            staging = Files.createTempDirectory(dir, ".jmpio-control-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (UnsupportedOperationException e) {
            staging = Files.createTempDirectory(dir, ".jmpio-control-");
        }
        Path staged = staging.resolve("s");
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            s.bind(UnixDomainSocketAddress.of(staged));
            try {
                Files.setPosixFilePermissions(staged, PosixFilePermissions.fromString(SOCKET_MODE));
            } catch (UnsupportedOperationException e) {
                LOG.debug("no POSIX permissions on {}", staged);
            }
            Files.move(staged, socketPath, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return s;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        } finally {
            Files.deleteIfExists(staged);
            Files.deleteIfExists(staging);
        }
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                SocketChannel ch = server.accept();
                // one exchange per connection, within a deadline, on a small pool: a client that never sends
                // its request or never reads the reply is closed, and a crowd of them gets "busy"
                java.util.concurrent.ScheduledFuture<?> deadline = WATCHDOG.schedule(() -> closeQuietly(ch),
                    EXCHANGE_DEADLINE_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
                try {
                    workers.execute(() -> {
                        try {
                            serve(ch);
                        } finally {
                            deadline.cancel(false);
                        }
                    });
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    deadline.cancel(false);
                    try (ch) {
                        ch.write(java.nio.ByteBuffer.wrap("{\"ok\":false,\"error\":\"control socket busy; try again\"}\n"
                            .getBytes(StandardCharsets.UTF_8)));
                    } catch (IOException ignored) {
                        // the client is gone
                    }
                }
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("control socket accept failed: {}", e.getMessage());
                }
                return;
            }
        }
    }

    private void serve(SocketChannel ch) {
        try (ch) {
            String line = readLine(ch);
            Map<String, Object> reply = new LinkedHashMap<>();
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
                reply.put("error", e.getMessage() == null ? e.toString() : e.getMessage());
            }
            OutputStream out = Channels.newOutputStream(ch);
            out.write(JSON.writeValueAsBytes(reply));
            out.write('\n');
            out.flush();
            if (after != null) {
                after.run();
            }
        } catch (IOException e) {
            LOG.debug("control client went away: {}", e.getMessage());
        }
    }

    /** The request line (at most {@link #MAX_REQUEST} bytes), or null when the client closed first. */
    private static String readLine(SocketChannel ch) throws IOException {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(4096);
        while (true) {
            buf.clear();
            int n = ch.read(buf);
            if (n < 0) {
                return b.size() == 0 ? null : b.toString(StandardCharsets.UTF_8);
            }
            for (int i = 0; i < n; i++) {
                if (buf.get(i) == '\n') {
                    b.write(buf.array(), 0, i);
                    return b.toString(StandardCharsets.UTF_8);
                }
            }
            b.write(buf.array(), 0, n);
            if (b.size() > MAX_REQUEST) {
                throw new IllegalArgumentException("request longer than " + MAX_REQUEST + " bytes");
            }
        }
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // already closed
        }
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
        closed = true;
        workers.shutdownNow();
        try {
            server.close();
        } catch (IOException e) {
            LOG.debug("closing control socket", e);
        }
        try {
            Files.deleteIfExists(socketPath);
        } catch (IOException e) {
            LOG.debug("removing {}", socketPath, e);
        }
    }
}
