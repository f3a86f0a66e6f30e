package io.jmpio.cli;

import io.jmpio.core.MultipathConfig;
import io.jmpio.netty.AtomicFile;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The host id registered on every path: {@code --host-id} when given, else the one kept in the state
 * directory ({@code host-id}), created on first use from the host name and a random suffix so that it
 * stays the same across restarts and differs between hosts.
 */
final class HostId {
    private HostId() {
    }

    static String resolve(String given, Path stateFile) throws IOException {
        if (given != null) {
            return given;
        }
        if (Files.exists(stateFile)) {
            String id = Files.readString(stateFile, StandardCharsets.ISO_8859_1).trim();
            if (!id.isEmpty()) {
                try {
                    MultipathConfig.checkHostId(id);
                } catch (IllegalArgumentException e) {
                    throw new IOException(stateFile + ": " + e.getMessage() + " (fix it, delete it for a new one, or pass"
                        + " --host-id)", e);
                }
                return id;
            }
        }
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName().replaceAll("[^A-Za-z0-9.-]", "");
            host = host.substring(0, Math.min(host.length(), 64));
        } catch (IOException e) {
            host = "host";
        }
        byte[] r = new byte[4];
        new SecureRandom().nextBytes(r);
        String id = "jmpio-" + (host.isEmpty() ? "host" : host) + "-" + HexFormat.of().formatHex(r);
        AtomicFile.replace(stateFile, (id + "\n").getBytes(StandardCharsets.US_ASCII));
        return id;
    }
}
