package io.jmpio.emu.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunSpec;
import io.jmpio.emu.store.BackingStores;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code jmpio emu ...}: run the array emulator and manage a running one. */
@Command(name = "emu", mixinStandardHelpOptions = true,
    description = "Run and manage the controller-pair array emulator.",
    subcommands = {EmuCommand.Start.class, EmuCommand.Status.class, EmuCommand.Hosts.class, EmuCommand.Lun.class,
        EmuCommand.Fault.class, EmuBench.class})
final class EmuCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing emu command");
    }

    @Command(name = "start", mixinStandardHelpOptions = true,
        description = "Run an array in the foreground (both controllers, or one with --controller/--peer).")
    static final class Start implements java.util.concurrent.Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--data-dir", paramLabel = "DIR", description = "LUN files, metadata, NVRAM journals, mailboxes (default: ${XDG_STATE_HOME:-~/.local/state}/jmpio/emu)")
        Path dataDir;

        @Option(names = "--ready-file", paramLabel = "PATH", description = "Written (JSON) once every port accepts connections")
        Path readyFile;

        @Option(names = "--lun", paramLabel = "NAME:SIZE[:OWNER]", description = "LUN to create if missing (repeatable; default lun0:1G:A when the array has none)")
        List<String> luns = new ArrayList<>();

        @Option(names = "--backend", paramLabel = "KIND", defaultValue = "file", description = "Backend of the LUNs created here: file, memory or null (default: ${DEFAULT-VALUE})")
        String backend;

        @Option(names = "--controller", paramLabel = "ID", description = "Run only this controller (A or B); needs --peer")
        String controller;

        @Option(names = "--peer", paramLabel = "HOST:PORT", description = "The peer controller's link address (with --controller)")
        String peer;

        @Option(names = "--listen", paramLabel = "ADDR", defaultValue = "127.0.0.1", description = "Front-end (host) ports' listen address (default: ${DEFAULT-VALUE})")
        String listen;

        @Option(names = "--admin-listen", paramLabel = "ADDR", defaultValue = "127.0.0.1", description = "Admin endpoints' listen address, separate from --listen (default: ${DEFAULT-VALUE})")
        String adminListen;

        @Option(names = "--link-listen", paramLabel = "ADDR", defaultValue = "127.0.0.1", description = "Inter-controller link's listen address, separate from --listen (default: ${DEFAULT-VALUE})")
        String linkListen;

        @Option(names = "--link-secret-file", paramLabel = "PATH", description = "Secret both controllers share to authenticate the link, mode 0600 (default: link.secret in the data directory, created at first start)")
        Path linkSecretFile;

        @Option(names = "--admin-token-file", paramLabel = "PATH", description = "Bearer token of the admin endpoints, mode 0600 (default: admin.token in the data directory, created at first start)")
        Path adminTokenFile;

        @Option(names = "--link-tls-cert", paramLabel = "PEM", description = "This controller's certificate for TLS on the link (with --link-tls-key and --link-tls-ca)")
        Path linkTlsCert;

        @Option(names = "--link-tls-key", paramLabel = "PEM", description = "Its private key (PKCS#8, unencrypted, mode 0600)")
        Path linkTlsKey;

        @Option(names = "--link-tls-ca", paramLabel = "PEM", description = "The authority that signed both controllers' certificates")
        Path linkTlsCa;

        @Option(names = "--base-port", paramLabel = "N", defaultValue = "7400", description = "Controller A uses N (admin), N+1 (link), N+2.. (NVMe/TCP ports); B the same from N+10; 0 = ephemeral (default: ${DEFAULT-VALUE})")
        int basePort;

        @Option(names = "--ports", paramLabel = "N", defaultValue = "2", description = "NVMe/TCP ports per controller (default: ${DEFAULT-VALUE})")
        int ports;

        @Option(names = "--link-channels", paramLabel = "N", defaultValue = "2", description = "Data channels per kind (shipping, mirroring) on the link (default: ${DEFAULT-VALUE})")
        int linkChannels;

        @Option(names = "--heartbeat-interval", paramLabel = "MS", defaultValue = "100", description = "How often each controller tells its peer it is alive, on the link and in the mailbox (default: ${DEFAULT-VALUE})")
        long heartbeatInterval;

        @Option(names = "--heartbeat-timeout", paramLabel = "MS", defaultValue = "500", description = "Peer declared dead after this much silence on link and mailbox; at least twice the interval (default: ${DEFAULT-VALUE})")
        long heartbeatTimeout;

        @Option(names = "--failback", paramLabel = "MODE", defaultValue = "auto", description = "auto or manual (default: ${DEFAULT-VALUE})")
        String failback;

        @Option(names = "--failback-delay", paramLabel = "MS", defaultValue = "5000", description = "With auto failback, how long a returned controller must stay alive before its LUNs go back to it (default: ${DEFAULT-VALUE})")
        long failbackDelay;

        @Option(names = "--non-owner-reads", paramLabel = "MODE", defaultValue = "local", description = "local: the"
            + " non-owner answers reads from the shared media and its mirror under the owner's read lease; ship: every"
            + " read goes to the owner (default: ${DEFAULT-VALUE})")
        String nonOwnerReads;

        @Option(names = "--auto-transfer-threshold", paramLabel = "FRACTION", defaultValue = "0.75", description = "Share of a LUN's I/O arriving at the non-owner that moves ownership; 0 = off (default: ${DEFAULT-VALUE})")
        double autoTransferThreshold;

        @Option(names = "--auto-transfer-window", paramLabel = "MS", defaultValue = "10000", description = "Time over which that share is measured (default: ${DEFAULT-VALUE})")
        long autoTransferWindow;

        @Option(names = "--auto-transfer-min-ios", paramLabel = "N", defaultValue = "100", description = "I/Os a LUN must have had in the window before its share can move it (default: ${DEFAULT-VALUE})")
        long autoTransferMinIos;

        @Option(names = "--write-cache", paramLabel = "SIZE", defaultValue = "256M", description = "Dirty data each controller holds per LUN before writes wait for destage (default: ${DEFAULT-VALUE})")
        String writeCache;

        @Option(names = "--read-cache", paramLabel = "SIZE", defaultValue = "64M", description = "Each controller's cache of blocks read from the media (default: ${DEFAULT-VALUE})")
        String readCache;

        @Override
        public Integer call() throws Exception {
            ArrayConfig cfg = config();
            Path dir = cfg.dataDir();
            ArrayServer array = ArrayServer.start(cfg);
            CountDownLatch stopped = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                array.close();
                stopped.countDown();
            }, "jmpio-emu-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            if (readyFile != null) {
                array.writeReadyFile(readyFile);
            }
            if (dataDir == null || dir.equals(EmuState.dataDir())) {
                array.writeReadyFile(EmuState.stateFile());
            }
            PrintWriter out = spec.commandLine().getOut();
            out.printf("jmpio emulator serving NVMe/TCP (event loops %s, data %s)%n", array.transportKind(), dir);
            out.printf("  admin token: %s (the jmpio emu commands read it; send it as 'Authorization: Bearer ...')%n",
                cfg.adminTokenFile().toAbsolutePath());
            for (JsonNode c : AdminClient.JSON.valueToTree(array.readyInfo()).path("controllers")) {
                out.printf("  controller %s: admin %s, NVMe/TCP ports %s%n", c.path("id").asText(),
                    c.path("admin").asText(), c.path("ports"));
            }
            out.printf("  NVMe subsystem: %s%n", array.subsystemNqn());
            out.flush();
            stopped.await();
            return 0;
        }

        ArrayConfig config() {
            ArrayConfig cfg = new ArrayConfig()
                .dataDir(dataDir != null ? dataDir : EmuState.dataDir())
                .listenAddress(listen).adminListenAddress(adminListen).linkListenAddress(linkListen)
                .linkSecretFile(linkSecretFile).adminTokenFile(adminTokenFile).linkTls(linkTlsCert, linkTlsKey, linkTlsCa)
                .basePort(basePort).portsPerController(ports).linkChannels(linkChannels)
                .heartbeatIntervalMillis(heartbeatInterval).heartbeatTimeoutMillis(heartbeatTimeout)
                .failback(failback).failbackDelayMillis(failbackDelay).nonOwnerReads(nonOwnerReads)
                .autoTransferThreshold(autoTransferThreshold).autoTransferWindowMillis(autoTransferWindow)
                .autoTransferMinIos(autoTransferMinIos)
                .writeCacheBytes(LunSpec.parseSize(writeCache)).readCacheBytes(LunSpec.parseSize(readCache));
            BackingStores.checkKind(backend);
            if (controller != null) {
                if (peer == null) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "--controller needs --peer HOST:PORT");
                }
                cfg.controllers(List.of(controller)).peerLinkAddress(peer);
            } else if (peer != null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--peer is only used with --controller");
            }
            List<String> specs = luns.isEmpty() && !hasLuns(cfg.dataDir()) ? List.of("lun0:1G:A") : luns;
            for (String l : specs) {
                cfg.lun(LunSpec.parse(l, "A", backend));
            }
            return cfg;
        }

        private static boolean hasLuns(Path dir) {
            try {
                return Files.exists(dir.resolve("array.json"))
                    && new io.jmpio.emu.array.MetadataStore(dir).load().luns().size() > 0;
            } catch (IOException e) {
                return false;
            }
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
        description = "Controllers, ports, LUNs, owners and ANA states (from either controller).")
    static final class Status implements java.util.concurrent.Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        AdminEndpoint endpoint;

        @Option(names = "--json", description = "Print the status document as JSON")
        boolean json;

        @Override
        public Integer call() throws IOException {
            JsonNode s = endpoint.client().get("/status");
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(AdminClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(s));
                return 0;
            }
            out.printf("array status (answered by controller %s)%n", s.path("answeredBy").asText());
            for (JsonNode c : s.path("controllers")) {
                JsonNode link = c.path("link");
                out.printf("controller %s  %-11s admin %s  peer %s%s%n", c.path("id").asText(), c.path("state").asText(),
                    c.path("admin").asText(), link.path("peerState").asText("?"),
                    link.path("mirroring").asBoolean() ? ", mirroring" : "");
                for (JsonNode p : c.path("ports")) {
                    out.printf("  port %-21s %-4s connections %d  I/O commands %d  injected faults %d%s%s%n",
                        p.path("address").asText(), p.path("up").asBoolean() ? "up" : "down", p.path("connections").asInt(),
                        p.path("ioCommands").asLong(), p.path("injectedFaults").asLong(),
                        p.path("latencyMs").asLong() > 0 ? "  +" + p.path("latencyMs").asLong() + "ms" : "",
                        p.path("flakyRate").asDouble() > 0 ? "  flaky " + p.path("flakyRate").asDouble() : "");
                }
            }
            for (JsonNode l : s.path("luns")) {
                out.printf("LUN %s (id %d)  %s  %s  owner %s (preferred %s)  epoch %d  wwid %s%n", l.path("name").asText(),
                    l.path("id").asInt(), human(l.path("bytes").asLong()), l.path("backend").asText(),
                    l.path("owner").asText(), l.path("preferredOwner").asText(), l.path("epoch").asLong(),
                    l.path("wwid").asText());
                l.path("alua").fields().forEachRemaining(e -> out.printf("  %-21s %s%n", e.getKey(), e.getValue().asText()));
                JsonNode st = l.path("stats");
                out.printf("  reads %d  writes %d  shipped out %d  shipped in %d  dirty %s%n", st.path("reads").asLong(),
                    st.path("writes").asLong(), st.path("shippedOut").asLong(), st.path("shippedIn").asLong(),
                    human(l.path("dirtyBytes").asLong()));
            }
            return 0;
        }
    }

    @Command(name = "hosts", mixinStandardHelpOptions = true,
        description = "Hosts registered with the array (by NQN): their connections now and their I/O on both controllers.")
    static final class Hosts implements java.util.concurrent.Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        AdminEndpoint endpoint;

        @Option(names = "--json", description = "Print the hosts document as JSON")
        boolean json;

        @Override
        public Integer call() throws IOException {
            JsonNode h = endpoint.client().get("/hosts");
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(AdminClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(h));
                return 0;
            }
            if (h.path("hosts").isEmpty() && h.path("otherSessions").isEmpty()) {
                out.println("no hosts registered");
                return 0;
            }
            for (JsonNode x : h.path("hosts")) {
                JsonNode io = x.path("io");
                out.printf("%s  host id %s  %s  last seen %s via %s%n", x.path("nqn").asText(), x.path("hostId").asText(),
                    x.path("sessions").isEmpty() ? "not connected" : x.path("sessions").size() + " connection(s)",
                    java.time.Instant.ofEpochMilli(x.path("lastSeenMillis").asLong()), x.path("lastController").asText());
                out.printf("  reads %d (%s)  writes %d (%s)  other %d  errors %d%n", io.path("reads").asLong(),
                    human(io.path("readBytes").asLong()), io.path("writes").asLong(), human(io.path("writeBytes").asLong()),
                    io.path("otherOps").asLong(), io.path("errors").asLong());
                for (JsonNode s : x.path("sessions")) {
                    out.printf("  controller %s  port %s  from %s%s%n", s.path("controller").asText(), s.path("port").asText(),
                        s.path("remote").asText(), s.has("cntlid") ? "  cntlid " + s.path("cntlid").asInt() : "");
                }
            }
            for (JsonNode s : h.path("otherSessions")) {
                out.printf("%s (not registered)  controller %s  port %s  from %s%n", s.path("host").asText("?"),
                    s.path("controller").asText(), s.path("port").asText(), s.path("remote").asText());
            }
            return 0;
        }
    }

    /** Where the `jmpio emu` management commands send their requests, and with which token. */
    static final class AdminEndpoint {
        @Option(names = "--admin", paramLabel = "HOST:PORT", description = "Admin endpoint of either controller (default: from the state file)")
        String admin;

        @Option(names = "--token-file", paramLabel = "PATH", description = "The array's admin token (default: the one the state file names, else admin.token in the default data directory)")
        Path tokenFile;

        AdminClient client() throws IOException {
            return new AdminClient(admin, tokenFile);
        }
    }

    static String human(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " B" : String.format("%.1f %s", v, units[u]);
    }

    @Command(name = "lun", mixinStandardHelpOptions = true, description = "Create, delete, resize, move and mask LUNs.")
    static final class Lun implements java.util.concurrent.Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        AdminEndpoint endpoint;

        @Parameters(index = "0", paramLabel = "ACTION", description = "list | create NAME SIZE [OWNER] [BACKEND] | delete NAME | resize NAME SIZE | move NAME OWNER | hosts NAME [HOST...]")
        String action;

        @Parameters(index = "1..*", paramLabel = "ARGS", arity = "0..*", description = "The action's arguments, as above")
        List<String> args = new ArrayList<>();

        @Option(names = "--force", description = "Delete a LUN that connected hosts can see, or shrink one (the blocks "
            + "past the new size are gone); without it both are refused")
        boolean force;

        @Override
        public Integer call() throws IOException {
            AdminClient c = endpoint.client();
            PrintWriter out = spec.commandLine().getOut();
            JsonNode r;
            switch (action) {
                case "list":
                    need(0, 0);
                    r = c.get("/luns");
                    break;
                case "create": {
                    need(2, 4);
                    Map<String, Object> body = new LinkedHashMap<>();
                    body.put("name", args.get(0));
                    body.put("size", args.get(1));
                    if (args.size() > 2) {
                        body.put("owner", args.get(2));
                    }
                    if (args.size() > 3) {
                        body.put("backend", args.get(3));
                    }
                    r = c.post("/luns", body);
                    break;
                }
                case "delete":
                    need(1, 1);
                    r = c.delete("/luns/" + args.get(0), Map.of("force", force));
                    break;
                case "resize":
                    need(2, 2);
                    r = c.post("/luns/" + args.get(0) + "/resize", Map.of("size", args.get(1), "force", force));
                    break;
                case "move":
                    need(2, 2);
                    r = c.post("/luns/" + args.get(0) + "/move", Map.of("owner", args.get(1)));
                    break;
                case "hosts":
                    need(1, Integer.MAX_VALUE);
                    r = c.post("/luns/" + args.get(0) + "/hosts", Map.of("allowedHosts", args.subList(1, args.size())));
                    break;
                default:
                    throw new CommandLine.ParameterException(spec.commandLine(), "unknown lun action '" + action
                        + "' (list, create, delete, resize, move, hosts)");
            }
            out.println(AdminClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(r));
            return 0;
        }

        private void need(int min, int max) {
            if (args.size() < min || args.size() > max) {
                throw new CommandLine.ParameterException(spec.commandLine(), "wrong number of arguments for 'lun " + action + "'");
            }
        }
    }

    @Command(name = "fault", mixinStandardHelpOptions = true, description = {
        "Inject a fault: kill|pause|resume|restart CONTROLLER, port-down|port-up HOST:PORT, latency HOST:PORT|link MS,",
        "flaky HOST:PORT RATE [error|drop|mixed], partition, heal."})
    static final class Fault implements java.util.concurrent.Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        AdminEndpoint endpoint;

        @Parameters(index = "0", paramLabel = "VERB", description = "The fault, as above")
        String verb;

        @Parameters(index = "1..*", paramLabel = "ARGS", arity = "0..*", description = "Its arguments, as above")
        List<String> args = new ArrayList<>();

        @Override
        public Integer call() throws IOException {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("verb", verb);
            switch (verb) {
                case "kill":
                case "pause":
                case "resume":
                case "restart":
                case "port-down":
                case "port-up":
                    need(1, 1);
                    body.put("target", args.get(0));
                    break;
                case "latency":
                    need(2, 2);
                    body.put("target", args.get(0));
                    body.put("value", number(args.get(1)));
                    break;
                case "flaky":
                    need(2, 3);
                    body.put("target", args.get(0));
                    body.put("value", number(args.get(1)));
                    if (args.size() == 3) {
                        body.put("mode", args.get(2));
                    }
                    break;
                case "partition":
                case "heal":
                    need(0, 0);
                    break;
                default:
                    throw new CommandLine.ParameterException(spec.commandLine(), "unknown fault '" + verb
                        + "' (kill, pause, resume, restart, port-down, port-up, latency, flaky, partition, heal)");
            }
            JsonNode r = endpoint.client().post("/faults", body);
            spec.commandLine().getOut().println(r.path("done").asText(r.toString()));
            return 0;
        }

        private double number(String s) {
            try {
                return Double.parseDouble(s);
            } catch (NumberFormatException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "'" + s + "' is not a number");
            }
        }

        private void need(int min, int max) {
            if (args.size() < min || args.size() > max) {
                throw new CommandLine.ParameterException(spec.commandLine(), "wrong number of arguments for 'fault " + verb + "'");
            }
        }
    }
}
