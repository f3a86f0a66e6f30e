package io.jmpio.emu.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunRecord;
import io.jmpio.emu.array.LunSpec;
import io.jmpio.emu.controller.Controller;
import io.jmpio.netty.FailureText;
import io.jmpio.netty.NettyTransport;
import io.jmpio.emu.store.BackingStores;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One controller's admin endpoint. Routes (JSON bodies and answers; errors as {@code {"error": "..."}}
 * with 400 bad request, 404 unknown LUN/port, 409 conflict, 502 peer unreachable):
 * <pre>
 *   GET    /status                 the array as this controller sees it, with the peer's own report when reachable
 *   GET    /local-status           this controller only
 *   GET    /luns                   LUNs
 *   POST   /luns                   {"name","size","owner","backend","allowedHosts"}
 *   DELETE /luns/NAME              {"force"}   (refused while a connected host can see it, unless force)
 *   POST   /luns/NAME/resize       {"size","force"}   (shrinking is refused unless force)
 *   POST   /luns/NAME/move         {"owner"}
 *   POST   /luns/NAME/hosts        {"allowedHosts": [...]}   ([] = every host)
 *   GET    /hosts                  registered hosts with their sessions and I/O on both controllers
 *   POST   /faults                 {"verb", "target", "value", "mode"}
 * </pre>
 */
public final class AdminServer {
    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final String FORWARDED = "X-Jmpio-Forwarded";

    private final ArrayServer array;
    private final Controller controller;
    private final String bearer;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private AdminHttpServer http;

    /** An admin request that fails with an HTTP status. */
    static class AdminException extends Exception {
        final int code;

        AdminException(int code, String message) {
            super(message);
            this.code = code;
        }
    }

    private AdminServer(ArrayServer array, Controller controller, byte[] token) {
        this.array = array;
        this.controller = controller;
        this.bearer = "Bearer " + new String(token, java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** Listens on {@code host:port}; every request must carry {@code token} (see {@link AdminHttpServer}). */
    public static AdminServer start(ArrayServer array, Controller controller, NettyTransport transport, String host,
                                    int port, byte[] token) throws IOException {
        AdminServer s = new AdminServer(array, controller, token);
        s.http = new AdminHttpServer(controller.id(), transport, host, port, token, s::handle);
        return s;
    }

    public String address() {
        InetSocketAddress a = http.address();
        String h = a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getAddress().getHostAddress();
        return (h.contains(":") ? "[" + h + "]" : h) + ":" + a.getPort();
    }

    public void stop() {
        http.stop();
    }

    private AdminHttpServer.Answer handle(String method, String uri, byte[] rawBody, boolean forwarded) {
        int code = 200;
        Object answer;
        try {
            answer = route(method, uri, rawBody, forwarded);
        } catch (AdminException e) {
            code = e.code;
            answer = e instanceof ControllerDown ? ((ControllerDown) e).document() : Map.of("error", FailureText.of(e));
        } catch (NoSuchFileException e) {
            code = 404;
            answer = Map.of("error", FailureText.of(e));
        } catch (IllegalArgumentException | IllegalStateException e) {
            code = 400;
            answer = Map.of("error", FailureText.of(e));
        } catch (IOException e) {
            code = 409;
            answer = Map.of("error", FailureText.of(e));
        }
        try {
            return new AdminHttpServer.Answer(code, JSON.writeValueAsBytes(answer));
        } catch (IOException e) {
            return new AdminHttpServer.Answer(500, AdminHttpServer.error("cannot encode the answer: " + e));
        }
    }

    /** This endpoint's controller is down: the client is told so, and where its partner answers. */
    static final class ControllerDown extends AdminException {
        final String redirect;

        ControllerDown(String message, String redirect) {
            super(503, message);
            this.redirect = redirect;
        }

        Map<String, Object> document() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("error", getMessage());
            if (redirect != null) {
                m.put("redirect", redirect);
            }
            return m;
        }
    }

    private Object route(String method, String uri, byte[] rawBody, boolean forwarded) throws IOException, AdminException {
        String path = URI.create(uri).getPath();
        if (path == null) {
            throw new AdminException(400, "malformed request path");
        }
        List<String> parts = new ArrayList<>();
        for (String p : path.split("/")) {
            if (!p.isEmpty()) {
                parts.add(java.net.URLDecoder.decode(p, java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        JsonNode body = readBody(rawBody);
        String head = parts.isEmpty() ? "" : parts.get(0);
        if (!head.equals("faults") && !controller.serving()) {
            // faults act on the array (restart this controller, say); everything else needs a live controller
            String peer = peerAdminAddressIfServing();
            throw new ControllerDown("controller " + controller.id() + " is " + controller.state().name().toLowerCase()
                + (peer != null ? "; ask controller " + ArrayConfig.peerOf(controller.id()) + " at " + peer
                : "; its partner's endpoint is not known here"), peer);
        }
        switch (method + " " + head + "/" + parts.size()) {
            case "GET status/1":
                return arrayStatus();
            case "GET local-status/1":
                return controller.localStatus();
            case "GET luns/1":
                return controller.localStatus().get("luns");
            case "GET hosts/1":
                return hosts();
            case "POST luns/1":
                return createLun(body);
            case "DELETE luns/2":
                if (!flag(body, "force")) {
                    refuseIfInUse(parts.get(1));
                }
                controller.deleteLun(parts.get(1));
                return Map.of("deleted", parts.get(1));
            case "POST luns/3":
                return lunAction(parts.get(1), parts.get(2), body, forwarded);
            case "POST faults/1":
                return fault(body, forwarded);
            default:
                throw new AdminException(404, "no such admin request: " + method + " " + path);
        }
    }

    /** The partner's admin address when it is known to be serving (in this process, or alive over the link). */
    private String peerAdminAddressIfServing() {
        Controller local = array.controller(ArrayConfig.peerOf(controller.id()));
        if (local != null) {
            return local.serving() ? local.adminAddress() : null;
        }
        return controller.peerAdminAddress();
    }

    private static JsonNode readBody(byte[] b) throws AdminException {
        try {
            if (b.length == 0) {
                return JSON.createObjectNode();
            }
            JsonNode n = JSON.readTree(b);
            if (n == null || !n.isObject()) {
                throw new AdminException(400, "request body must be a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw new AdminException(400, "request body is not valid JSON: " + FailureText.of(e));
        }
    }

    private static String text(JsonNode body, String field, String dflt) throws AdminException {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            if (dflt == null) {
                throw new AdminException(400, "missing field '" + field + "'");
            }
            return dflt;
        }
        if (!n.isValueNode()) {
            throw new AdminException(400, "field '" + field + "' must be a string, not " + n.getNodeType().name()
                .toLowerCase(java.util.Locale.ROOT));
        }
        return n.asText();
    }

    /** Injected latency beyond this is a mistake, not a test: ten minutes. */
    private static final long MAX_LATENCY_MILLIS = 600_000;

    /** Field {@code value}: a number (or a number in a string) within [min, max], whole when {@code whole}. */
    private static double value(JsonNode body, double min, double max, boolean whole, String what) throws AdminException {
        JsonNode n = body.get("value");
        double v = Double.NaN;
        if (n != null && n.isNumber()) {
            v = n.asDouble();
        } else if (n != null && n.isTextual() && n.asText().strip().matches("[0-9]{1,15}(\\.[0-9]{1,15})?")) {
            v = Double.parseDouble(n.asText().strip());
        }
        if (!(v >= min && v <= max) || whole && v != Math.rint(v)) {
            java.util.function.DoubleFunction<String> bound = x -> whole ? Long.toString((long) x) : Double.toString(x);
            throw new AdminException(400, what + " must be " + (whole ? "a whole number" : "a number") + " from "
                + bound.apply(min) + " to " + bound.apply(max) + ", got " + n);
        }
        return v;
    }

    /** The host ids of field {@code allowedHosts}: a list of strings ([] for every host). */
    private static List<String> hostList(JsonNode body) throws AdminException {
        JsonNode h = body.get("allowedHosts");
        if (h == null || !h.isArray()) {
            throw new AdminException(400, "field 'allowedHosts' must be a list of host ids ([] for every host)");
        }
        List<String> hosts = new ArrayList<>();
        for (JsonNode e : h) {
            if (!e.isTextual()) {
                throw new AdminException(400, "field 'allowedHosts' must hold host ids (strings), found " + e);
            }
            hosts.add(e.asText());
        }
        return hosts;
    }

    /** Field {@code name} as a flag: absent is false; anything but true or false is refused. */
    private static boolean flag(JsonNode body, String name) throws AdminException {
        JsonNode n = body.get(name);
        if (n == null || n.isNull()) {
            return false;
        }
        if (!n.isBoolean()) {
            throw new AdminException(400, "field '" + name + "' must be true or false, got " + n);
        }
        return n.asBoolean();
    }

    /**
     * A LUN that a connected host can see is not deleted without --force: its namespace would vanish under the
     * host's filesystem. Connections are counted on both controllers (a partner that does not answer is not
     * counted: management keeps working while it is down).
     */
    private void refuseIfInUse(String lun) throws IOException, AdminException {
        LunRecord r = controller.lunRecord(lun);
        if (r == null) {
            return; // the controller names the missing LUN
        }
        Map<String, Integer> users = new java.util.TreeMap<>();
        for (Map<String, Object> s : allSessions()) {
            Object host = s.get("host");
            if (host instanceof String && r.allows((String) host)) {
                users.merge(host + " on " + s.get("controller"), 1, Integer::sum);
            }
        }
        if (!users.isEmpty()) {
            StringBuilder who = new StringBuilder();
            users.forEach((k, n) -> who.append(who.length() == 0 ? "" : ", ").append(k)
                .append(n > 1 ? " (" + n + " connections)" : ""));
            throw new AdminException(409, "LUN '" + lun + "' is in use by hosts that can see it: " + who
                + "; disconnect them (nvme disconnect, jmpio detach) or give --force (\"force\": true) to delete it");
        }
    }

    /** Every live host session on both controllers, each with the key "controller" added. */
    private List<Map<String, Object>> allSessions() {
        List<Map<String, Object>> sessions = new ArrayList<>();
        for (String id : ArrayConfig.PAIR) {
            Map<String, Object> s = id.equals(controller.id()) ? controller.localStatus() : peerStatus(id);
            sessionsOf(id, s, sessions);
        }
        return sessions;
    }

    private static void sessionsOf(String id, Map<String, Object> status, List<Map<String, Object>> into) {
        if (status.get("sessions") instanceof List) {
            for (Object o : (List<?>) status.get("sessions")) {
                if (o instanceof Map) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("controller", id);
                    ((Map<?, ?>) o).forEach((k, v) -> m.put(String.valueOf(k), v));
                    into.add(m);
                }
            }
        }
    }

    private Object createLun(JsonNode body) throws IOException, AdminException {
        String name = text(body, "name", null);
        long bytes;
        if (body.has("bytes")) {
            JsonNode b = body.get("bytes");
            if (!b.isIntegralNumber() || !b.canConvertToLong()) {
                throw new AdminException(400, "field 'bytes' must be a whole number of bytes, got " + b);
            }
            bytes = b.asLong();
        } else {
            bytes = LunSpec.parseSize(text(body, "size", null));
        }
        String owner = text(body, "owner", controller.id());
        String backend = text(body, "backend", BackingStores.FILE);
        List<String> hosts = body.has("allowedHosts") ? hostList(body) : List.of();
        return controller.createLun(new LunSpec(name, bytes, owner, backend, hosts));
    }

    private Object lunAction(String lun, String action, JsonNode body, boolean forwarded)
            throws IOException, AdminException {
        switch (action) {
            case "resize": {
                long bytes = LunSpec.parseSize(text(body, "size", null));
                LunRecord r = controller.lunRecord(lun);
                if (r != null && bytes < r.bytes() && !flag(body, "force")) {
                    throw new AdminException(409, "shrinking LUN '" + lun + "' from " + r.bytes() + " to " + bytes
                        + " bytes discards its last " + (r.bytes() - bytes) + " bytes, written or not; give --force"
                        + " (\"force\": true) to shrink it");
                }
                controller.resizeLun(lun, bytes);
                return Map.of("resized", lun);
            }
            case "hosts": {
                List<String> hosts = hostList(body);
                controller.setAllowedHosts(lun, hosts);
                return Map.of("lun", lun, "allowedHosts", hosts);
            }
            case "move": {
                String target = text(body, "owner", null);
                try {
                    controller.moveLun(lun, target);
                } catch (Controller.NotOwnerException e) {
                    Controller local = array.controller(e.owner);
                    if (local != null) {
                        local.moveLun(lun, target);
                    } else if (!forwarded) {
                        return forward("POST", "/luns/" + lun + "/move", body);
                    } else {
                        throw e;
                    }
                }
                return Map.of("lun", lun, "owner", target);
            }
            default:
                throw new AdminException(404, "unknown LUN action '" + action + "' (resize, hosts, move)");
        }
    }

    private Object fault(JsonNode body, boolean forwarded) throws IOException, AdminException {
        String verb = text(body, "verb", null);
        String target = text(body, "target", "");
        switch (verb) {
            case "kill":
            case "pause":
            case "resume":
            case "restart": {
                if (!ArrayConfig.PAIR.contains(target)) {
                    throw new AdminException(400, verb + " needs a controller (A or B), got '" + target + "'");
                }
                Controller c = array.controller(target);
                if (c == null) {
                    return forwardOrFail(body, forwarded, "controller " + target);
                }
                switch (verb) {
                    case "kill": c.kill(); break;
                    case "pause": c.pause(); break;
                    case "resume": c.resume(); break;
                    default: c.restart();
                }
                return Map.of("done", verb + " " + target);
            }
            case "port-down":
            case "port-up":
            case "flaky":
            case "latency": {
                if (verb.equals("latency") && target.equals("link")) {
                    long ms = (long) value(body, 0, MAX_LATENCY_MILLIS, true, "latency in ms");
                    for (Controller c : array.controllers()) {
                        c.setLinkLatency(ms);
                    }
                    if (!forwarded && array.controllers().size() < 2) {
                        forwardQuietly(body);
                    }
                    return Map.of("done", "link latency " + ms + " ms");
                }
                Controller owner = null;
                for (Controller c : array.controllers()) {
                    if (c.hasPort(target)) {
                        owner = c;
                    }
                }
                if (owner == null) {
                    if (!forwarded && array.controllers().size() < 2) {
                        return forwardOrFail(body, false, "port " + target);
                    }
                    throw new AdminException(404, "no front-end port " + target + " on this array");
                }
                switch (verb) {
                    case "port-down": owner.setPortDown(target, true); break;
                    case "port-up": owner.setPortDown(target, false); break;
                    case "latency": {
                        long ms = (long) value(body, 0, MAX_LATENCY_MILLIS, true, "latency in ms");
                        owner.setPortLatency(target, ms);
                        break;
                    }
                    default: {
                        double rate = value(body, 0, 1, false, "flaky rate");
                        owner.setPortFlaky(target, rate, text(body, "mode", "mixed"));
                    }
                }
                return Map.of("done", verb + " " + target);
            }
            case "partition":
            case "heal":
                for (Controller c : array.controllers()) {
                    if (verb.equals("partition")) {
                        c.partitionLink();
                    } else {
                        c.healLink();
                    }
                }
                if (!forwarded && array.controllers().size() < 2) {
                    forwardQuietly(body);
                }
                return Map.of("done", verb);
            default:
                throw new AdminException(400, "unknown fault '" + verb
                    + "' (kill, pause, resume, restart, port-down, port-up, latency, flaky, partition, heal)");
        }
    }

    private Object forwardOrFail(JsonNode body, boolean forwarded, String what) throws AdminException {
        if (forwarded) {
            throw new AdminException(404, what + " is not served by this process");
        }
        return forward("POST", "/faults", body);
    }

    private void forwardQuietly(JsonNode body) {
        try {
            forward("POST", "/faults", body);
        } catch (AdminException e) {
            LOG.info("peer did not take the fault request: {}", FailureText.of(e));
        }
    }

    private Object forward(String method, String path, JsonNode body) throws AdminException {
        String peer = controller.peerAdminAddress();
        if (peer == null) {
            throw new AdminException(502, "the peer's admin endpoint is unknown (the link to it never came up)");
        }
        try {
            HttpRequest req = HttpRequest.newBuilder(URI.create("http://" + peer + path)).timeout(Duration.ofSeconds(40))
                .header(FORWARDED, controller.id()).header("Content-Type", "application/json")
                .header("Authorization", bearer)
                .method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body))).build();
            HttpResponse<byte[]> resp = client.send(req, HttpResponse.BodyHandlers.ofByteArray());
            JsonNode answer = JSON.readTree(resp.body());
            if (resp.statusCode() != 200) {
                throw new AdminException(resp.statusCode(), answer.path("error").asText("peer answered " + resp.statusCode()));
            }
            return answer;
        } catch (IOException e) {
            throw new AdminException(502, "peer admin " + peer + " unreachable: " + FailureText.of(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AdminException(502, "interrupted");
        }
    }

    private Map<String, Object> peerStatus(String peerId) {
        Controller local = array.controller(peerId);
        if (local != null) {
            return local.localStatus();
        }
        String peer = controller.peerAdminAddress();
        if (peer != null) {
            try {
                HttpRequest req = HttpRequest.newBuilder(URI.create("http://" + peer + "/local-status"))
                    .timeout(Duration.ofSeconds(1)).header("Authorization", bearer).GET().build();
                HttpResponse<byte[]> resp = client.send(req, HttpResponse.BodyHandlers.ofByteArray());
                if (resp.statusCode() == 200) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> m = JSON.readValue(resp.body(), Map.class);
                    return m;
                }
            } catch (IOException e) {
                // reported below as unreachable
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", peerId);
        m.put("state", "unreachable");
        m.put("admin", peer == null ? "" : peer);
        m.put("peerStateSeenByPartner", controller.peerState().name().toLowerCase());
        m.put("ports", List.of());
        return m;
    }

    /** The whole array: both controllers' own reports, and the LUNs with ANA states as this controller sees them. */
    private Map<String, Object> arrayStatus() {
        Map<String, Object> self = controller.localStatus();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("answeredBy", controller.id());
        List<Object> cs = new ArrayList<>();
        for (String id : ArrayConfig.PAIR) {
            cs.add(id.equals(controller.id()) ? self : peerStatus(id));
        }
        out.put("controllers", cs);
        out.put("luns", self.get("luns"));
        return out;
    }

    /**
     * Every host registered with the array (metadata), each with its sessions and its I/O summed over both
     * controllers; then any session whose host is not in the metadata (yet).
     */
    @SuppressWarnings("unchecked")
    private Object hosts() throws IOException {
        List<Map<String, Object>> sessions = new ArrayList<>();
        Map<String, Map<String, Long>> io = new LinkedHashMap<>();
        for (String id : ArrayConfig.PAIR) {
            Map<String, Object> s = id.equals(controller.id()) ? controller.localStatus() : peerStatus(id);
            sessionsOf(id, s, sessions);
            if (s.get("hostIo") instanceof Map) {
                ((Map<String, Object>) s.get("hostIo")).forEach((nqn, counters) -> {
                    if (counters instanceof Map) {
                        Map<String, Long> sum = io.computeIfAbsent(nqn, k -> new LinkedHashMap<>());
                        ((Map<String, Object>) counters).forEach((k, v) -> {
                            if (v instanceof Number) {
                                sum.merge(k, ((Number) v).longValue(), Long::sum);
                            }
                        });
                    }
                });
            }
        }
        List<Object> hosts = new ArrayList<>();
        List<Map<String, Object>> unmatched = new ArrayList<>(sessions);
        for (io.jmpio.emu.array.HostRecord h : controller.registeredHosts()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("nqn", h.nqn());
            m.put("hostId", h.hostId());
            m.put("firstSeenMillis", h.firstSeenMillis());
            m.put("lastSeenMillis", h.lastSeenMillis());
            m.put("lastController", h.lastController());
            List<Object> own = new ArrayList<>();
            for (Map<String, Object> s : sessions) {
                if (h.nqn().equals(s.get("host"))) {
                    own.add(s);
                    unmatched.remove(s);
                }
            }
            m.put("sessions", own);
            m.put("io", io.getOrDefault(h.nqn(), Map.of()));
            hosts.add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("hosts", hosts);
        out.put("otherSessions", unmatched);
        return out;
    }
}
