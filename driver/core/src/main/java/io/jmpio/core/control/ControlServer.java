package io.jmpio.core.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jmpio.core.MultipathDevice;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
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
    private volatile boolean closed;

    private ControlServer(MultipathDevice device, Path socketPath, ServerSocketChannel server, Runnable detach,
                          java.util.function.Supplier<String> busy) {
        this.detach = detach;
        this.busy = busy;
        this.device = device;
        this.socketPath = socketPath;
        this.server = server;
        this.acceptor = new Thread(this::acceptLoop, "jmpio-control");
        this.acceptor.setDaemon(true);
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
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        s.bind(UnixDomainSocketAddress.of(socketPath));
        try {
            Files.setPosixFilePermissions(socketPath, PosixFilePermissions.fromString("rw-rw----"));
        } catch (UnsupportedOperationException e) {
            LOG.debug("no POSIX permissions on {}", socketPath);
        }
        ControlServer cs = new ControlServer(device, socketPath, s, detach, busy);
        cs.acceptor.start();
        return cs;
    }

    public Path socketPath() {
        return socketPath;
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                SocketChannel ch = server.accept();
                Thread t = new Thread(() -> serve(ch), "jmpio-control-client");
                t.setDaemon(true);
                t.start();
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
            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
            String line = in.readLine();
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
