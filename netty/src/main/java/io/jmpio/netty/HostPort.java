package io.jmpio.netty;

import java.net.InetSocketAddress;
import java.util.regex.Pattern;

/** "host:port" (an IPv6 host in brackets) to a socket address, with an error naming what is wrong. */
public final class HostPort {
    /** A name or address: an IPv6 literal in brackets, or letters, digits and '.', '_', ':', '%', '-'. */
    private static final Pattern HOST = Pattern.compile("\\[[0-9A-Za-z:.%]+]|[0-9A-Za-z._:%-]+");

    private HostPort() {
    }

    public static InetSocketAddress parse(String hostPort) {
        int port = check(hostPort);
        String host = hostPort.substring(0, hostPort.lastIndexOf(':'));
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new InetSocketAddress(host, port);
    }

    /**
     * A peer to connect to: as {@link #parse}, and port 0 (which means "any" only to a listener) refused, so that a
     * typo fails here, naming the address, rather than as a connection error later.
     */
    public static InetSocketAddress peer(String hostPort) {
        if (check(hostPort) == 0) {
            throw new IllegalArgumentException("port 0 in '" + PeerText.printable(hostPort)
                + "': a peer's port is 1..65535");
        }
        return parse(hostPort);
    }

    /**
     * The port of a well-formed "host:port", checked without resolving the host (nothing such as "a b", "h:1/x"
     * or "u@h" gets as far as a name lookup or a URL).
     */
    public static int check(String hostPort) {
        int colon = hostPort == null ? -1 : hostPort.lastIndexOf(':');
        if (colon <= 0 || colon == hostPort.length() - 1) {
            throw new IllegalArgumentException("expected HOST:PORT, got '" + PeerText.printable(hostPort) + "'");
        }
        int port;
        try {
            port = Integer.parseInt(hostPort.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad port in '" + PeerText.printable(hostPort) + "'");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range in '" + PeerText.printable(hostPort) + "'");
        }
        if (!HOST.matcher(hostPort.substring(0, colon)).matches()) {
            throw new IllegalArgumentException("bad host in '" + PeerText.printable(hostPort) + "'");
        }
        return port;
    }
}
