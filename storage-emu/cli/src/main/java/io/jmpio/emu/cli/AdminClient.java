package io.jmpio.emu.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Talks to an emulator's admin endpoint: the one given, else each controller listed in the state file. */
final class AdminClient {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Longest answer read: a status of many LUNs and hosts is tens of KiB. */
    static final int MAX_ANSWER_BYTES = 16 << 20;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<String> candidates;
    private final String bearer;

    /**
     * {@code admin}: one endpoint, else every controller in the state file. {@code tokenFile}: the array's
     * admin token, else the one the state file names, else {@code admin.token} in the default data directory.
     */
    AdminClient(String admin, Path tokenFile) throws IOException {
        this.candidates = admin != null ? List.of(endpoint(admin, "--admin")) : fromStateFile(EmuState.stateFile());
        this.bearer = "Bearer " + readToken(tokenFile);
    }

    private static String readToken(Path given) throws IOException {
        Path f = given;
        if (f == null && Files.exists(EmuState.stateFile())) {
            String named = stateDocument(EmuState.stateFile()).path("adminTokenFile").asText("");
            if (!named.isEmpty()) {
                f = Path.of(named);
            }
        }
        if (f == null) {
            f = EmuState.dataDir().resolve("admin.token");
        }
        if (!Files.isReadable(f)) {
            throw new IOException("no admin token: " + f + " is missing or unreadable (give --token-file PATH; the "
                + "array writes admin.token into its data directory, readable by the account that started it)");
        }
        String t = io.jmpio.emu.security.SecretFile.readSmall(f, "admin token file");
        if (t.isEmpty() || !t.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new IOException("admin token file " + f + " does not hold a token");
        }
        return t;
    }

    private static List<String> fromStateFile(Path f) throws IOException {
        if (!Files.exists(f)) {
            throw new IOException("no running emulator found: " + f + " does not exist (start one with "
                + "'jmpio emu start', or give --admin HOST:PORT)");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode c : stateDocument(f).path("controllers")) {
            out.add(endpoint(c.path("admin").asText(""), f.toString()));
        }
        if (out.isEmpty()) {
            throw new IOException(f + " lists no controllers");
        }
        return out;
    }

    /** The state file that {@code emu start} wrote, or why it cannot be used. */
    private static JsonNode stateDocument(Path f) throws IOException {
        try {
            return JSON.readTree(f.toFile());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException(f + " is not a state file written by 'jmpio emu start' (" + e.getOriginalMessage()
                + "); delete it, or give --admin HOST:PORT and --token-file PATH", e);
        }
    }

    /** An admin endpoint as HOST:PORT, checked before any request (the token goes to it). */
    private static String endpoint(String admin, String from) throws IOException {
        try {
            if (io.jmpio.netty.HostPort.check(admin) == 0) {
                throw new IllegalArgumentException("port 0");
            }
        } catch (IllegalArgumentException e) {
            throw new IOException(from + ": admin endpoint '" + admin + "' is not HOST:PORT", e);
        }
        return admin;
    }

    JsonNode get(String path) throws IOException {
        return send("GET", path, null);
    }

    JsonNode post(String path, Object body) throws IOException {
        return send("POST", path, body);
    }

    JsonNode delete(String path, Object body) throws IOException {
        return send("DELETE", path, body);
    }

    /** Tries each candidate endpoint in turn; the first that answers decides. */
    private JsonNode send(String method, String path, Object body) throws IOException {
        IOException last = null;
        List<String> todo = new ArrayList<>(candidates);
        for (int i = 0; i < todo.size() && i < 4; i++) {
            String admin = todo.get(i);
            try {
                HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + admin + path))
                    .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                    .header("Authorization", bearer);
                b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
                HttpResponse<java.io.InputStream> r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
                JsonNode answer = answer(admin, r);
                if (r.statusCode() == 503) {
                    // that controller is down (or busy): its partner answers for the array
                    String redirect = answer.path("redirect").asText("");
                    if (!redirect.isEmpty() && !todo.contains(redirect)) {
                        try {
                            todo.add(i + 1, endpoint(redirect, "the redirect of admin endpoint " + admin));
                        } catch (IOException e) {
                            throw new AdminError(e.getMessage());
                        }
                    }
                    last = new IOException(answer.path("error").asText("admin endpoint " + admin + " unavailable"));
                    continue;
                }
                if (r.statusCode() != 200) {
                    throw new AdminError(answer.path("error").asText("admin endpoint answered HTTP " + r.statusCode()));
                }
                return answer;
            } catch (AdminError e) {
                throw e;
            } catch (IOException e) {
                String why = e.getMessage() != null ? e.getMessage()
                    : e instanceof java.net.ConnectException ? "connection refused (is the array running?)"
                    : e.getClass().getSimpleName();
                last = new IOException("admin endpoint " + admin + " unreachable: " + why, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
        }
        throw last;
    }

    /** An endpoint's answer as JSON, read up to {@link #MAX_ANSWER_BYTES}: an error naming it otherwise. */
    private static JsonNode answer(String admin, HttpResponse<java.io.InputStream> r) throws IOException {
        byte[] body;
        try (java.io.InputStream in = r.body()) {
            body = in.readNBytes(MAX_ANSWER_BYTES + 1);
        }
        if (body.length > MAX_ANSWER_BYTES) {
            throw new AdminError("admin endpoint " + admin + " answered more than " + MAX_ANSWER_BYTES + " bytes");
        }
        try {
            JsonNode n = JSON.readTree(body);
            if (n == null || !n.isContainerNode()) {
                throw new AdminError("admin endpoint " + admin + " answered HTTP " + r.statusCode()
                    + " with something that is not a JSON object or list");
            }
            return n;
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new AdminError("admin endpoint " + admin + " answered HTTP " + r.statusCode()
                + " with something that is not JSON (" + e.getOriginalMessage() + ")");
        }
    }

    /** The endpoint answered with an error: not worth asking the other controller. */
    static final class AdminError extends IOException {
        AdminError(String message) {
            super(message);
        }
    }
}
