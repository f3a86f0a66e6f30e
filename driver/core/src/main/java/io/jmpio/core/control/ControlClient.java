package io.jmpio.core.control;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jmpio.netty.FailureText;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/** Sends one command to a device's control socket and returns its result, or throws with its error. */
public final class ControlClient {
    /** Longest wait for a reply: commands answer at once (detach answers, then detaches). */
    static final long REPLY_TIMEOUT_MILLIS = 30_000;
    /** Longest reply read (a status of many paths is a few KiB). */
    static final int MAX_REPLY_BYTES = 16 << 20;

    private ControlClient() {
    }

    /**
     * Where control sockets live by default: {@code $JMPIO_RUN_DIR}, else {@code $XDG_RUNTIME_DIR/jmpio},
     * else {@code /run/jmpio} for root, else {@code /tmp/jmpio-USER}.
     */
    public static Path defaultDir() {
        String run = System.getenv("JMPIO_RUN_DIR");
        if (run != null && !run.isEmpty()) {
            return Path.of(run);
        }
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        if (xdg != null && !xdg.isEmpty()) {
            return Path.of(xdg, "jmpio");
        }
        String user = System.getProperty("user.name", "user");
        return user.equals("root") ? Path.of("/run/jmpio") : Path.of(System.getProperty("java.io.tmpdir"), "jmpio-" + user);
    }

    public static Path defaultSocket(String deviceName) {
        return defaultDir().resolve(deviceName + ".sock");
    }

    /** The one control socket in the default directory; with none or several, says what to pass. */
    public static Path findSocket() throws IOException {
        Path dir = defaultDir();
        List<Path> found = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.sock")) {
                for (Path p : ds) {
                    if (answers(p)) {
                        found.add(p);
                    }
                }
            }
        }
        if (found.isEmpty()) {
            throw new IOException("no attached device found in " + dir + " (start one with `jmpio attach`, or pass --control PATH)");
        }
        if (found.size() > 1) {
            found.sort(null);
            throw new IOException("several attached devices; pass --control with one of: " + found);
        }
        return found.get(0);
    }

    static boolean answers(Path socket) {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public static JsonNode status(Path socket) throws IOException {
        return call(socket, ControlServer.request("status"));
    }

    public static String setPolicy(Path socket, String name, Map<String, String> options) throws IOException {
        ObjectNode req = ControlServer.request("policy").put("name", name);
        ObjectNode o = req.putObject("options");
        options.forEach(o::put);
        return call(socket, req).asText();
    }

    public static String path(Path socket, String id, String action) throws IOException {
        return call(socket, ControlServer.request("path").put("id", id).put("action", action)).asText();
    }

    public static String detach(Path socket, boolean force) throws IOException {
        return call(socket, ControlServer.request("detach").put("force", force)).asText();
    }

    public static String simple(Path socket, String command) throws IOException {
        return call(socket, ControlServer.request(command)).asText();
    }

    private static JsonNode call(Path socket, ObjectNode request) throws IOException {
        if (!Files.exists(socket)) {
            throw new IOException("no control socket at " + socket + " (is the device attached?)");
        }
        AtomicBoolean timedOut = new AtomicBoolean();
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            // a device that takes the connection and never answers must not hold the command forever
            CompletableFuture<Void> watchdog = CompletableFuture.runAsync(() -> {
                timedOut.set(true);
                try {
                    ch.close();
                } catch (IOException e) {
                    // closing is all that is left to do
                }
            }, CompletableFuture.delayedExecutor(REPLY_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS));
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
                OutputStream out = Channels.newOutputStream(ch);
                byte[] json = ControlServer.JSON.writeValueAsBytes(request);
                byte[] line = java.util.Arrays.copyOf(json, json.length + 1);
                line[json.length] = '\n';
                out.write(line); // one write: a peer that answers the first bytes and closes is then read, not a broken pipe
                out.flush();
                String answer = replyLine(socket, new BufferedInputStream(Channels.newInputStream(ch)));
                if (answer == null) {
                    throw new IOException("control socket " + socket + " closed without a reply");
                }
                JsonNode reply = ControlServer.JSON.readTree(answer);
                if (!reply.isObject() || !reply.has("ok")) {
                    throw new IOException("control socket " + socket + " answered something that is not a jmpio reply");
                }
                if (!reply.path("ok").asBoolean(false)) {
                    throw new RefusedException(reply.path("error").asText("request failed"));
                }
                return reply.path("result");
            } finally {
                watchdog.cancel(false);
            }
        } catch (JacksonException e) {
            throw new IOException("control socket " + socket + " answered something that is not a jmpio reply ("
                + e.getOriginalMessage() + ")", e);
        } catch (IOException e) {
            if (timedOut.get()) {
                throw new IOException("control socket " + socket + ": no reply within " + REPLY_TIMEOUT_MILLIS / 1000
                    + " s (the device's log says what it is doing)", e);
            }
            if (e instanceof RefusedException
                    || e.getMessage() != null && e.getMessage().startsWith("control socket ")) {
                throw e;
            }
            throw new IOException("cannot reach control socket " + socket + ": " + FailureText.of(e), e);
        }
    }

    /**
     * The device answered and said no (its reason is the message): the socket was reached, so the error must
     * not be reworded as a connection failure.
     */
    private static final class RefusedException extends IOException {
        RefusedException(String reason) {
            super(reason);
        }
    }

    /** One reply line, at most {@link #MAX_REPLY_BYTES}; null when the socket closed before any byte. */
    private static String replyLine(Path socket, InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            if (line.size() >= MAX_REPLY_BYTES) {
                throw new IOException("control socket " + socket + " sent a reply longer than " + MAX_REPLY_BYTES + " bytes");
            }
            line.write(b);
        }
        if (b == -1 && line.size() == 0) {
            return null;
        }
        return line.toString(StandardCharsets.UTF_8);
    }
}
