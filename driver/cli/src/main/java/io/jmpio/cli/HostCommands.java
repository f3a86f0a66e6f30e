package io.jmpio.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jmpio.api.BalancingPolicyProvider;
import io.jmpio.api.PolicyOption;
import io.jmpio.core.Failback;
import io.jmpio.netty.AtomicFile;
import io.jmpio.core.MultipathConfig;
import io.jmpio.core.MultipathDevice;
import io.jmpio.core.NoPathRetry;
import io.jmpio.core.Policies;
import io.jmpio.core.Bridges;
import io.jmpio.api.KernelBridge;
import io.jmpio.api.KernelBridgeProvider;
import io.jmpio.core.PluginPath;
import io.jmpio.core.control.ControlClient;
import io.jmpio.core.control.ControlServer;
import io.jmpio.core.control.MetricsServer;
import io.jmpio.core.control.StatusText;
import io.jmpio.netty.FailureText;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** The host-side commands: attach a multipath device, and control a running one over its socket. */
final class HostCommands {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HostCommands() {
    }

    static Map<String, String> options(List<String> pairs, CommandLine cl) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String kv : pairs) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new CommandLine.ParameterException(cl, "policy option must be KEY=VALUE, got '" + kv + "'");
            }
            m.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return m;
    }

    /** Finds the control socket: --control, else the only one in the default directory. */
    static Path control(Path given) throws IOException {
        return given != null ? given : ControlClient.findSocket();
    }

    @Command(name = "attach", mixinStandardHelpOptions = true,
        description = "Attach a LUN as a multipath device and serve it in the foreground until detached or signalled.")
    static final class Attach implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--portal", paramLabel = "HOST:PORT[,...]", required = true, split = ",",
            description = "Any port(s) of the target; every other port is discovered from there (the NVMe discovery log and its referrals)")
        List<String> portals;

        @Option(names = "--transport", paramLabel = "NAME", defaultValue = "nvme-tcp",
            description = "How to reach the target: a path-transport plugin by name (default: ${DEFAULT-VALUE})")
        String transport;

        @Option(names = "--lun", paramLabel = "TARGET",
            description = "What to attach: a subsystem NQN, NQN#NSID or #NSID (default: the only subsystem's first namespace)")
        String lun;

        @Option(names = "--name", paramLabel = "NAME", description = "Device name for status and the control socket (default: the LUN name)")
        String name;

        @Option(names = "--host-id", paramLabel = "ID", description = "Host id registered on every path (default: kept in the state directory, stable across restarts)")
        String hostId;

        @Option(names = "--policy", paramLabel = "NAME", defaultValue = "round-robin", description = "Balancing policy (default: ${DEFAULT-VALUE}; see `jmpio policies`)")
        String policy;

        @Option(names = "--policy-option", paramLabel = "KEY=VALUE", description = "Option of the policy (repeatable)")
        List<String> policyOptions = new ArrayList<>();

        @Option(names = "--plugin-path", paramLabel = "DIR", description = "Load third-party plugins (policies) from the jars in DIR (repeatable)")
        List<Path> pluginPath = new ArrayList<>();

        @Option(names = "--bridge", paramLabel = "NAME", defaultValue = "none", description = "How the device is exposed:"
            + " auto (ublk, else fuse as root, else nbd), ublk, fuse, nbd, or none (in-process users and the control socket"
            + " only; default: ${DEFAULT-VALUE}); see `jmpio bridges`")
        String bridge;

        @Option(names = "--nbd-listen", paramLabel = "HOST:PORT|unix:PATH", description = "NBD bridge: where to listen (default: "
            + "127.0.0.1:10809)")
        String nbdListen;

        @Option(names = "--nbd-tls-cert", paramLabel = "PEM", description = "NBD bridge: certificate; the export then requires TLS (NBD STARTTLS)")
        Path nbdTlsCert;

        @Option(names = "--nbd-tls-key", paramLabel = "PEM", description = "NBD bridge: the certificate's private key (PKCS#8, mode 0600)")
        Path nbdTlsKey;

        @Option(names = "--nbd-allow", paramLabel = "ADDR[/PREFIX],...", description = "NBD bridge: only these client addresses or networks may connect")
        String nbdAllow;

        @Option(names = "--fuse-mount", paramLabel = "DIR", description = "FUSE bridge: where the device file appears")
        Path fuseMount;

        @Option(names = "--recover", paramLabel = "DEV_ID", description = "ublk bridge: take over /dev/ublkbDEV_ID whose server died (the mounted file system carries on)")
        Integer recover;

        @Option(names = "--loop", description = "FUSE bridge: attach the file as a loop device (losetup --direct-io=on)")
        boolean loop;

        @Option(names = "--bridge-option", paramLabel = "KEY=VALUE", description = "Option of the bridge (repeatable; see `jmpio bridges`)")
        List<String> bridgeOptions = new ArrayList<>();

        @Option(names = "--ready-file", paramLabel = "PATH", description = "Written (JSON) once the device serves")
        Path readyFile;

        @Option(names = "--control", paramLabel = "PATH", description = "Control socket (default: <run dir>/<name>.sock)")
        Path control;

        @Option(names = "--metrics-listen", paramLabel = "HOST:PORT", description = "Serve Prometheus /metrics and JSON /status on this loopback address")
        String metricsListen;

        @Option(names = "--queues", paramLabel = "N", description = "I/O queues, each a thread with its own connection to every path (default: cores, at most 4)")
        Integer queues;

        @Option(names = "--io-timeout", paramLabel = "MS", defaultValue = "1000", description = "A request unanswered this long, on a connection that answered nothing meanwhile, fails its path"
            + " and is re-issued; on one still answering others, after 10 times this long (default: ${DEFAULT-VALUE})")
        long ioTimeout;

        @Option(names = "--check-interval", paramLabel = "MS", defaultValue = "200", description = "Path checker interval; every path, failed ones included (default: ${DEFAULT-VALUE})")
        long checkInterval;

        @Option(names = "--transport-option", paramLabel = "KEY=VALUE",
            description = "An option of the transport (nvme-tcp: digest=header|data|both asks for CRC32C digests on every PDU; "
                + "sqflow=keep keeps SQ flow control on ports that offer to drop it, sqflow=auto by default)")
        List<String> transportOptions = new ArrayList<>();

        @Option(names = "--connect-timeout", paramLabel = "MS", defaultValue = "2000", description = "One connection and its handshake (NVMe ICReq and Connect) must finish this fast (default: ${DEFAULT-VALUE})")
        long connectTimeout;

        @Option(names = "--loss-timeout", paramLabel = "SECONDS", defaultValue = "60", description = "How long attach keeps asking portals that do not answer, every --reconnect-delay (default: ${DEFAULT-VALUE}; 0: ask once)")
        long lossTimeout;

        @Option(names = "--reconnect-delay", paramLabel = "SECONDS", defaultValue = "2", description = "Pause between attach attempts (default: ${DEFAULT-VALUE})")
        long reconnectDelay;

        @Option(names = "--probe-timeout", paramLabel = "MS", defaultValue = "500", description = "A probe unanswered this long fails the path (default: ${DEFAULT-VALUE})")
        long probeTimeout;

        @Option(names = "--scan-interval", paramLabel = "MS", defaultValue = "5000", description = "Port-group report interval, which also finds new ports (default: ${DEFAULT-VALUE})")
        long scanInterval;

        @Option(names = "--failback", paramLabel = "MODE", defaultValue = "immediate", description = "immediate, manual, followover or SECONDS (default: ${DEFAULT-VALUE})")
        String failback;

        @Option(names = "--no-path-retry", paramLabel = "MODE", defaultValue = "fail", description = "fail, queue or SECONDS (default: ${DEFAULT-VALUE})")
        String noPathRetry;

        @Option(names = "--queue-limit", paramLabel = "N", defaultValue = "4096", description = "Most requests waiting for a path (default: ${DEFAULT-VALUE})")
        int queueLimit;

        @Option(names = "--marginal-window", paramLabel = "MS", defaultValue = "5000", description = "Window over which paths are compared (default: ${DEFAULT-VALUE})")
        long marginalWindow;

        @Option(names = "--marginal-error-rate", paramLabel = "FRACTION", defaultValue = "0.05", description = "Error fraction that makes a path marginal; 0 = off (default: ${DEFAULT-VALUE})")
        double marginalErrorRate;

        @Option(names = "--marginal-latency-factor", paramLabel = "X", defaultValue = "10", description = "Mean latency this many times the other paths' makes a path marginal; 0 = off (default: ${DEFAULT-VALUE})")
        double marginalLatencyFactor;

        @Option(names = "--marginal-recheck", paramLabel = "MS", defaultValue = "30000", description = "A marginal path is retried after this long, doubling each time (default: ${DEFAULT-VALUE})")
        long marginalRecheck;

        @Override
        public Integer call() throws Exception {
            ClassLoader plugins = pluginLoader(pluginPath, spec.commandLine());
            KernelBridgeProvider bridgeProvider = null;
            String bridgeReason = null;
            if (bridge.equals("auto")) {
                Bridges.Choice choice = Bridges.from(plugins).auto();
                bridgeProvider = choice.provider();
                bridgeReason = choice.reason();
            } else if (!bridge.equals("none")) {
                try {
                    bridgeProvider = Bridges.from(plugins).provider(bridge);
                } catch (IllegalArgumentException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
                }
                KernelBridgeProvider.Availability a = bridgeProvider.availability();
                if (!a.usable()) {
                    throw new IllegalStateException("bridge " + bridge + " cannot run here: " + a.reason());
                }
            }
            Map<String, String> bridgeOpts = bridgeProvider == null ? Map.of() : bridgeOptions(bridgeProvider.name());
            if (bridgeProvider != null) {
                try {
                    Bridges.checkOptions(bridgeProvider, bridgeOpts);
                } catch (IllegalArgumentException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
                }
            }
            MultipathConfig cfg = new MultipathConfig().transport(transport).policy(policy)
                .pluginLoader(plugins)
                .hostId(HostId.resolve(hostId, StateDir.root().resolve("host-id")))
                .ioTimeoutMillis(ioTimeout).checkIntervalMillis(checkInterval).probeTimeoutMillis(probeTimeout)
                .connectTimeoutMillis(connectTimeout).lossTimeoutMillis(lossTimeout * 1000).reconnectDelayMillis(reconnectDelay * 1000)
                .scanIntervalMillis(scanInterval).failback(Failback.parse(failback))
                .noPathRetry(NoPathRetry.parse(noPathRetry)).queueLimit(queueLimit)
                .marginalWindowMillis(marginalWindow).marginalErrorRate(marginalErrorRate)
                .marginalLatencyFactor(marginalLatencyFactor).marginalRecheckMillis(marginalRecheck);
            if (lun != null) {
                cfg.lun(lun);
            }
            portals.forEach(cfg::portal);
            options(policyOptions, spec.commandLine()).forEach(cfg::policyOption);
            options(transportOptions, spec.commandLine()).forEach(cfg::transportOption);
            if (name != null) {
                cfg.name(name);
            }
            if (queues != null) {
                cfg.ioQueues(queues);
            }
            Path socket = control != null ? control : ControlClient.defaultSocket(cfg.name());
            MultipathDevice device = MultipathDevice.open(cfg);
            Teardown teardown = new Teardown(device, readyFile);
            Thread hook = new Thread(teardown, "jmpio-sigterm");
            try {
                if (bridgeProvider != null) {
                    if (bridgeReason != null) {
                        System.out.println("jmpio: bridge " + bridgeProvider.name() + " (auto: " + bridgeReason + ")");
                    }
                    teardown.bridge = bridgeProvider.start(device, bridgeOpts);
                    Map<String, Object> b = new LinkedHashMap<>();
                    b.put("name", bridgeProvider.name());
                    b.put("location", teardown.bridge.location());
                    b.putAll(teardown.bridge.details());
                    device.bridgeAttached(b);
                }
                teardown.control = ControlServer.start(device, socket, teardown,
                    () -> teardown.bridge == null ? null : teardown.bridge.busy());
                if (metricsListen != null) {
                    teardown.metrics = MetricsServer.start(device, metricsListen);
                }
                Runtime.getRuntime().addShutdownHook(hook);
                Map<String, Object> ready = new LinkedHashMap<>();
                ready.put("device", teardown.bridge == null ? null : teardown.bridge.location());
                ready.put("bridge", bridgeProvider == null ? "none" : bridgeProvider.name());
                if (teardown.bridge != null) {
                    ready.putAll(teardown.bridge.details());
                }
                ready.put("control", "unix:" + socket.toAbsolutePath());
                ready.put("metrics", teardown.metrics == null ? null : "http://" + teardown.metrics.address() + "/metrics");
                ready.put("paths", countPaths(device));
                ready.put("name", cfg.name());
                ready.put("hostId", cfg.hostId());
                String json = JSON.writeValueAsString(ready);
                if (readyFile != null) {
                    AtomicFile.replace(readyFile, (json + "\n").getBytes(StandardCharsets.UTF_8));
                }
                System.out.println("jmpio: " + cfg.name() + " attached: " + json);
                System.out.flush();
                device.closedFuture().join();
                System.out.println("jmpio: " + cfg.name() + " detached");
                return 0;
            } finally {
                teardown.run();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    // The JVM is already shutting down (SIGTERM): the hook does the same teardown.
                }
            }
        }

        /** Undoes everything attach set up; idempotent, run on return and from the SIGTERM hook. */
        private static final class Teardown implements Runnable {
            private final MultipathDevice device;
            private final Path readyFile;
            volatile ControlServer control;
            volatile MetricsServer metrics;
            volatile KernelBridge bridge;

            Teardown(MultipathDevice device, Path readyFile) {
                this.device = device;
                this.readyFile = readyFile;
            }

            @Override
            public synchronized void run() {
                if (bridge != null) {
                    try {
                        bridge.close();
                    } catch (RuntimeException e) {
                        System.err.println("jmpio: closing the bridge: " + FailureText.of(e));
                    }
                }
                device.close();
                if (metrics != null) {
                    metrics.close();
                }
                if (control != null) {
                    control.close();
                }
                if (readyFile != null) {
                    try {
                        Files.deleteIfExists(readyFile);
                    } catch (IOException e) {
                        System.err.println("jmpio: cannot remove " + readyFile + ": " + FailureText.of(e));
                    }
                }
            }
        }

        /** The options for bridge {@code name}: its own flags, then --bridge-option. */
        private Map<String, String> bridgeOptions(String name) {
            Map<String, String> m = new LinkedHashMap<>();
            if (name.equals("nbd")) {
                if (nbdListen != null) {
                    m.put("listen", nbdListen);
                }
                if (nbdTlsCert != null) {
                    m.put("tls-cert", nbdTlsCert.toString());
                }
                if (nbdTlsKey != null) {
                    m.put("tls-key", nbdTlsKey.toString());
                }
                if (nbdAllow != null) {
                    m.put("allow", nbdAllow);
                }
            }
            if (name.equals("ublk") && recover != null) {
                m.put("recover", Integer.toString(recover));
            }
            if (name.equals("fuse")) {
                if (fuseMount != null) {
                    m.put("mount", fuseMount.toString());
                }
                if (loop) {
                    m.put("loop", "true");
                }
            }
            m.putAll(options(bridgeOptions, spec.commandLine()));
            return m;
        }

        @SuppressWarnings("unchecked")
        private static int countPaths(MultipathDevice d) {
            int n = 0;
            for (Map<String, Object> g : (List<Map<String, Object>>) d.status().get("groups")) {
                if (!"marginal".equals(g.get("group"))) {
                    n += ((List<?>) g.get("paths")).size();
                }
            }
            return n;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Show a running device's paths, groups and statistics.")
    static final class Status implements Callable<Integer> {
        @Option(names = "--control", paramLabel = "PATH", description = "Control socket of the device (default: the one attached device in the run directory)")
        Path control;

        @Option(names = "--json", description = "Print the status as JSON")
        boolean json;

        @Override
        public Integer call() throws Exception {
            JsonNode s = ControlClient.status(control(control));
            System.out.print(json ? JSON.writerWithDefaultPrettyPrinter().writeValueAsString(s) + "\n" : StatusText.render(s));
            return 0;
        }
    }

    @Command(name = "policy", mixinStandardHelpOptions = true, description = "Change a running device's balancing policy.",
        subcommands = PolicySet.class)
    static final class Policy implements Runnable {
        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            throw new CommandLine.ParameterException(spec.commandLine(), "missing policy command (set)");
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true, description = "Switch the balancing policy with I/O running.")
    static final class PolicySet implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "NAME", description = "A balancing policy (jmpio policies lists them)")
        String name;

        @Parameters(index = "1..*", paramLabel = "KEY=VALUE", description = "Policy options")
        List<String> options = new ArrayList<>();

        @Option(names = "--control", paramLabel = "PATH", description = "Control socket of the device (default: the one attached device in the run directory)")
        Path control;

        @Override
        public Integer call() throws Exception {
            System.out.println(ControlClient.setPolicy(control(control), name, options(options, spec.commandLine())));
            return 0;
        }
    }

    @Command(name = "path", mixinStandardHelpOptions = true, description = "Take a path offline or give it back (by the id status shows, such as P1, or HOST:PORT).")
    static final class PathCommand implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "offline|online", description = "Take the path out of use, or give it back")
        String action;

        @Parameters(index = "1", paramLabel = "ID", description = "The path: its id in status (P1, ...) or HOST:PORT")
        String id;

        @Option(names = "--control", paramLabel = "PATH", description = "Control socket of the device (default: the one attached device in the run directory)")
        Path control;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            if (!action.equals("offline") && !action.equals("online")) {
                throw new CommandLine.ParameterException(spec.commandLine(), "path action must be offline or online, got '" + action + "'");
            }
            System.out.println(ControlClient.path(control(control), id, action));
            return 0;
        }
    }

    @Command(name = "failback", mixinStandardHelpOptions = true, description = "Move I/O to the best path group now (for --failback manual).")
    static final class FailbackCommand implements Callable<Integer> {
        @Option(names = "--control", paramLabel = "PATH", description = "Control socket of the device (default: the one attached device in the run directory)")
        Path control;

        @Override
        public Integer call() throws Exception {
            System.out.println(ControlClient.simple(control(control), "failback"));
            return 0;
        }
    }

    @Command(name = "detach", mixinStandardHelpOptions = true, description = "Detach a running device; requests waiting for a path fail.")
    static final class Detach implements Callable<Integer> {
        @Option(names = "--control", paramLabel = "PATH", description = "Control socket of the device (default: the one attached device in the run directory)")
        Path control;

        @Option(names = "--force", description = "Detach even if the device is mounted or in use (its users get I/O errors)")
        boolean force;

        @Override
        public Integer call() throws Exception {
            System.out.println(ControlClient.detach(control(control), force));
            return 0;
        }
    }

    @Command(name = "bridges", mixinStandardHelpOptions = true, description = "List the kernel bridges, whether each can run here, and why not.")
    static final class BridgesCommand implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--plugin-path", paramLabel = "DIR", description = "Also list the bridges in the jars in DIR (repeatable)")
        List<Path> pluginPath = new ArrayList<>();

        @Override
        public Integer call() {
            Bridges bridges = Bridges.from(pluginLoader(pluginPath, spec.commandLine()));
            for (KernelBridgeProvider p : bridges.all()) {
                KernelBridgeProvider.Availability a = p.availability();
                System.out.printf("%-6s %-8s %s%n       %s%n", p.name(), a.usable() ? "usable" : "unusable", p.description(),
                    a.reason());
                for (PolicyOption o : p.options()) {
                    System.out.printf("    %s=%s  %s%n", o.name(), o.defaultValue(), o.description());
                }
            }
            try {
                Bridges.Choice c = bridges.auto();
                System.out.println("auto: " + c.provider().name());
            } catch (IllegalStateException e) {
                System.out.println("auto: none (" + FailureText.of(e) + ")");
            }
            return 0;
        }
    }

    @Command(name = "policies", mixinStandardHelpOptions = true, description = "List the installed balancing policies and their options.")
    static final class PoliciesCommand implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--plugin-path", paramLabel = "DIR", description = "Also list the policies in the jars in DIR (repeatable)")
        List<Path> pluginPath = new ArrayList<>();

        @Override
        public Integer call() {
            for (BalancingPolicyProvider p : Policies.from(pluginLoader(pluginPath, spec.commandLine())).all()) {
                System.out.printf("%-24s %s%n", p.name(), p.description());
                for (PolicyOption o : p.options()) {
                    System.out.printf("    %s=%s  %s%n", o.name(), o.defaultValue(), o.description());
                }
            }
            return 0;
        }
    }

    static ClassLoader pluginLoader(List<Path> dirs, CommandLine cl) {
        try {
            return PluginPath.loader(dirs);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
    }
}
