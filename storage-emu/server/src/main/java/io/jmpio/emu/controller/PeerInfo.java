package io.jmpio.emu.controller;

import java.util.List;
import java.util.regex.Pattern;

/** What a controller tells its peer about itself over the link (HELLO and PEER_INFO, as JSON). */
public record PeerInfo(String id, long incarnation, String admin, List<String> ports) {
    /** host:port with a DNS name or IPv4 literal, or [IPv6]:port. */
    private static final Pattern ADDRESS =
        Pattern.compile("(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\\[[0-9A-Fa-f:.]{2,45}\\]):([0-9]{1,5})");

    /**
     * Refuses a description hosts must not be sent to: another controller's id, more ports than a controller
     * has, or an address that is not {@code host:port}. Hosts are told these addresses, so a forged list would
     * redirect them.
     */
    public PeerInfo checked(String expectedId, int maxPorts) {
        if (!expectedId.equals(id)) {
            throw new IllegalArgumentException("it says it is controller '" + id + "', expected " + expectedId);
        }
        if (admin != null && !admin.isEmpty()) {
            checkAddress(admin, "admin address");
        }
        if (ports == null || ports.size() > maxPorts) {
            throw new IllegalArgumentException("it lists " + (ports == null ? "no" : ports.size()) + " ports (0.."
                + maxPorts + ")");
        }
        for (String p : ports) {
            if (p == null) {
                throw new IllegalArgumentException("it lists a port without an address");
            }
            checkAddress(p, "port address");
        }
        return this;
    }

    private static void checkAddress(String a, String what) {
        var m = ADDRESS.matcher(a);
        if (!m.matches() || Integer.parseInt(m.group(1)) < 1 || Integer.parseInt(m.group(1)) > 65535) {
            throw new IllegalArgumentException(what + " '" + (a.length() > 80 ? a.substring(0, 80) + "..." : a)
                + "' is not host:port");
        }
    }
}
