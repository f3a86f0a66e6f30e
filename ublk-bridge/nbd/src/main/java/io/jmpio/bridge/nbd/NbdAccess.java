package io.jmpio.bridge.nbd;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;

/**
 * Who may use an NBD export: an optional allow-list of client addresses and networks (checked when a TCP
 * connection is accepted; Unix sockets are guarded by the socket file's mode), and optional TLS, which
 * the export then requires — the NBD protocol's STARTTLS option before anything else.
 */
final class NbdAccess {
    /** One allowed network: an address and a prefix length. */
    private record Network(byte[] address, int prefix) {
        boolean contains(InetAddress a) {
            byte[] b = a.getAddress();
            if (b.length != address.length) {
                return false;
            }
            int bits = prefix;
            for (int i = 0; i < b.length && bits > 0; i++, bits -= 8) {
                int mask = bits >= 8 ? 0xFF : 0xFF << (8 - bits) & 0xFF;
                if ((b[i] & mask) != (address[i] & mask)) {
                    return false;
                }
            }
            return true;
        }
    }

    private final List<Network> allowed;
    private final SslContext tls;

    private NbdAccess(List<Network> allowed, SslContext tls) {
        this.allowed = allowed;
        this.tls = tls;
    }

    static NbdAccess open() {
        return new NbdAccess(List.of(), null);
    }

    /**
     * @param allow comma-separated addresses or networks (192.0.2.7, 10.0.0.0/8, ::1, fd00::/8); empty: all
     * @param cert  PEM certificate of the export, or null for no TLS
     * @param key   its PEM private key (PKCS#8, unencrypted; readable by its owner only)
     */
    static NbdAccess of(String allow, Path cert, Path key) throws IOException {
        List<Network> nets = new ArrayList<>();
        if (allow != null && !allow.isBlank()) {
            for (String item : allow.split(",")) {
                nets.add(parse(item.strip()));
            }
        }
        SslContext tls = null;
        if (cert != null || key != null) {
            if (cert == null || key == null) {
                throw new IllegalArgumentException("NBD TLS needs both a certificate and a key");
            }
            if (!Files.isRegularFile(cert) || !Files.isRegularFile(key)) {
                throw new IOException("NBD TLS: " + (Files.isRegularFile(cert) ? key : cert) + " is not a file");
            }
            try {
                for (PosixFilePermission p : Files.getPosixFilePermissions(key)) {
                    if (p.name().startsWith("GROUP_") || p.name().startsWith("OTHERS_")) {
                        throw new IOException("NBD TLS key " + key + " is readable by other users; chmod 600 it");
                    }
                }
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system
            }
            try {
                tls = SslContextBuilder.forServer(cert.toFile(), key.toFile()).build();
            } catch (IOException | RuntimeException e) {
                throw new IOException("NBD TLS: cannot use certificate " + cert + " and key " + key + ": "
                    + e.getMessage(), e);
            }
        }
        return new NbdAccess(List.copyOf(nets), tls);
    }

    private static Network parse(String item) {
        String[] parts = item.split("/", -1);
        // an IPv6 literal (a colon) or exactly four decimal octets: anything else would reach the resolver
        boolean literal = parts[0].contains(":") ? parts[0].matches("[0-9A-Fa-f:.]+")
            : parts[0].matches("((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])");
        if (parts.length > 2 || parts[0].isEmpty() || !literal) {
            throw new IllegalArgumentException("NBD allow-list entry '" + item
                + "' is not an IP address or ADDRESS/PREFIX network");
        }
        byte[] a;
        try {
            a = InetAddress.getByName(parts[0]).getAddress(); // literal only (checked above): no name lookup
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("NBD allow-list entry '" + item + "': " + e.getMessage());
        }
        int prefix = a.length * 8;
        if (parts.length == 2) {
            try {
                prefix = Integer.parseInt(parts[1]);
            } catch (NumberFormatException e) {
                prefix = -1;
            }
            if (prefix < 0 || prefix > a.length * 8) {
                throw new IllegalArgumentException("NBD allow-list entry '" + item + "': prefix must be 0.."
                    + a.length * 8);
            }
        }
        return new Network(a, prefix);
    }

    /** True when a client at {@code remote} may connect. */
    boolean allows(SocketAddress remote) {
        if (allowed.isEmpty() || !(remote instanceof InetSocketAddress)) {
            return true;
        }
        InetAddress a = ((InetSocketAddress) remote).getAddress();
        for (Network n : allowed) {
            if (n.contains(a)) {
                return true;
            }
        }
        return false;
    }

    boolean restricted() {
        return !allowed.isEmpty();
    }

    /** The export's TLS context, or null when it does not offer TLS. */
    SslContext tls() {
        return tls;
    }
}
