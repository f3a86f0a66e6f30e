package io.jmpio.bridge.nbd;

import io.jmpio.api.BlockDevice;
import io.jmpio.api.KernelBridge;
import io.jmpio.api.KernelBridgeProvider;
import io.jmpio.api.PolicyOption;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The NBD export: any NBD client (nbd-client, qemu, nbdcopy, nbdfuse, fio's nbd engine) reaches the device. */
public final class NbdBridgeProvider implements KernelBridgeProvider {
    public static final String DEFAULT_LISTEN = "127.0.0.1:10809";

    @Override
    public String name() {
        return "nbd";
    }

    @Override
    public String description() {
        return "NBD export (fixed newstyle, structured replies, multi-conn) on TCP or a Unix socket";
    }

    @Override
    public int autoRank() {
        return 30;
    }

    @Override
    public List<PolicyOption> options() {
        return List.of(
            new PolicyOption("listen", DEFAULT_LISTEN, "HOST:PORT (port 0: any free port) or unix:PATH"),
            new PolicyOption("export", "", "export name (default: the device's name)"),
            new PolicyOption("allow", "", "client addresses or networks allowed, comma-separated (default: all)"),
            new PolicyOption("tls-cert", "", "PEM certificate: the export then requires TLS (NBD STARTTLS)"),
            new PolicyOption("tls-key", "", "PEM private key of tls-cert (mode 0600)"));
    }

    @Override
    public Availability availability() {
        return Availability.yes("needs no kernel support; clients connect over TCP or a Unix socket");
    }

    @Override
    public KernelBridge start(BlockDevice device, Map<String, String> options) throws IOException {
        String export = options.getOrDefault("export", "");
        String cert = options.getOrDefault("tls-cert", "");
        String key = options.getOrDefault("tls-key", "");
        NbdAccess access = NbdAccess.of(options.getOrDefault("allow", ""), cert.isEmpty() ? null : Path.of(cert),
            key.isEmpty() ? null : Path.of(key));
        return NbdServer.start(device, options.getOrDefault("listen", DEFAULT_LISTEN),
            export.isEmpty() ? device.info().name() : export, access, NbdServer.Limits.DEFAULT);
    }
}
