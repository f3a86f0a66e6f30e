package io.jmpio.emu.array;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.jmpio.emu.admin.AdminServer;
import io.jmpio.emu.controller.Clock;
import io.jmpio.emu.controller.Controller;
import io.jmpio.emu.nvme.NvmeSubsystem;
import io.jmpio.netty.AtomicFile;
import io.jmpio.netty.NettyTransport;
import io.jmpio.emu.security.SecretFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the controllers of a pair that live in this process (both, or one whose peer runs elsewhere), each
 * with its admin endpoint, over one set of Netty event loops.
 */
public final class ArrayServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ArrayServer.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final ArrayConfig cfg;
    private final NettyTransport transport;
    private final Map<String, Controller> controllers = new LinkedHashMap<>();
    private final Map<String, AdminServer> admins = new LinkedHashMap<>();
    private final MetadataStore metadata;
    private final byte[] adminToken;
    private final String subsystemNqn;

    private ArrayServer(ArrayConfig cfg) throws IOException {
        this.cfg = cfg;
        if (cfg.dataDir() == null) {
            throw new IllegalArgumentException("no data directory given");
        }
        DataDirectory.create(cfg.dataDir());
        this.metadata = new MetadataStore(cfg.dataDir());
        this.adminToken = SecretFile.loadOrCreate(cfg.adminTokenFile(), "admin token");
        this.subsystemNqn = SubsystemName.loadOrCreate(cfg.dataDir());
        this.transport = NettyTransport.create("jmpio-emu", cfg.eventLoopThreads());
    }

    /** Creates the configured LUNs that do not exist yet, starts the controllers and their admin endpoints. */
    public static ArrayServer start(ArrayConfig cfg) throws IOException {
        cfg.validate();
        ArrayServer s = new ArrayServer(cfg);
        try {
            s.createMissingLuns();
            for (String id : cfg.controllers()) {
                Controller c = new Controller(id, cfg, s.transport, Clock.SYSTEM);
                s.controllers.put(id, c);
                int[] ports = new int[cfg.portsPerController()];
                for (int i = 0; i < ports.length; i++) {
                    ports[i] = cfg.portFor(id, 2 + i);
                }
                c.addFrontEnd(new NvmeSubsystem(c, s.transport, s.subsystemNqn, cfg.listenAddress(), ports,
                    cfg.maxConnectionsPerPort(), cfg.partialFrameMillis()));
                AdminServer admin = AdminServer.start(s, c, s.transport, cfg.adminListenAddress(),
                    cfg.portFor(id, 0), s.adminToken);
                s.admins.put(id, admin);
                c.setAdminAddress(admin.address());
            }
            for (Controller c : s.controllers.values()) {
                c.start();
            }
            for (Controller c : s.controllers.values()) {
                Controller peer = s.controllers.get(ArrayConfig.peerOf(c.id()));
                if (peer != null) {
                    c.setPeerLinkAddress(peer.linkAddress());
                    c.setPeerInProcess();
                } else if (cfg.peerLinkAddress() != null) {
                    c.setPeerLinkAddress(io.jmpio.netty.HostPort.peer(cfg.peerLinkAddress()));
                } else {
                    LOG.warn("controller {} runs without a peer (no --peer): it will take over every LUN", c.id());
                }
            }
            return s;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    private void createMissingLuns() throws IOException {
        try {
            createMissingLuns0();
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private void createMissingLuns0() throws IOException {
        List<LunSpec> provisioned = new java.util.ArrayList<>();
        try {
            recordMissingLuns(provisioned);
        } catch (IOException | RuntimeException e) {
            // nothing was recorded: the drives made for it go too, or the next start would find them in the way
            for (LunSpec spec : provisioned) {
                try {
                    io.jmpio.emu.store.BackingStores.destroy(spec.backend(), cfg.dataDir(), spec.name());
                } catch (IOException ignored) {
                    // the start fails with the first cause
                }
            }
            throw e;
        }
    }

    /** Provisions and records the configured LUNs the metadata lacks, adding each drive made to {@code provisioned}. */
    private void recordMissingLuns(List<LunSpec> provisioned) throws IOException {
        metadata.update(m -> {
            ArrayMetadata out = m;
            for (LunSpec spec : cfg.luns()) {
                LunRecord existing = out.byName(spec.name());
                if (existing != null) {
                    if (existing.bytes() != spec.bytes()) {
                        LOG.warn("LUN {} exists with {} bytes; keeping it (asked for {})", spec.name(), existing.bytes(),
                            spec.bytes());
                    }
                    continue;
                }
                if (!ArrayConfig.PAIR.contains(spec.owner())) {
                    throw new IllegalArgumentException("LUN " + spec.name() + ": unknown owner '" + spec.owner() + "' (A or B)");
                }
                try {
                    io.jmpio.emu.store.LunStorage.provision(spec, cfg.dataDir(), cfg.maxLunBytes());
                    provisioned.add(spec);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                out = out.with(LunRecords.create(out, out.nextId(), spec));
            }
            return out;
        });
    }

    public ArrayConfig config() {
        return cfg;
    }

    /** The array's NVMe subsystem NQN (one per array, kept in its data directory). */
    public String subsystemNqn() {
        return subsystemNqn;
    }

    /** The controller with this id if it runs in this process, else null. */
    public Controller controller(String id) {
        return controllers.get(id);
    }

    public List<Controller> controllers() {
        return new ArrayList<>(controllers.values());
    }

    /**
     * Waits until the controllers in this process see each other alive and know each other's NVMe/TCP ports
     * (so the discovery log of any port lists every port); false if that took longer than {@code timeoutMillis}.
     */
    public boolean awaitLinked(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (System.nanoTime() < deadline) {
            boolean linked = true;
            for (Controller c : controllers.values()) {
                linked &= c.peerState() == io.jmpio.emu.controller.PeerMonitor.PeerState.ALIVE
                    && c.peerFrontEndAddresses().size() == peerPortCount(c);
            }
            if (linked) {
                return true;
            }
            Thread.sleep(10);
        }
        return false;
    }

    private int peerPortCount(Controller c) {
        Controller peer = controllers.get(ArrayConfig.peerOf(c.id()));
        return peer == null ? 0 : peer.portAddresses().size();
    }

    public MetadataStore metadata() {
        return metadata;
    }

    /** The ready-file document: controllers with admin and port addresses, and LUNs with owners. */
    public Map<String, Object> readyInfo() throws IOException {
        Map<String, Object> doc = new LinkedHashMap<>();
        List<Object> cs = new ArrayList<>();
        for (Controller c : controllers.values()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", c.id());
            m.put("admin", c.adminAddress());
            m.put("ports", c.portAddresses());
            m.put("link", c.linkAddress().getHostString() + ":" + c.linkAddress().getPort());
            cs.add(m);
        }
        doc.put("controllers", cs);
        doc.put("adminTokenFile", cfg.adminTokenFile().toAbsolutePath().toString());
        List<Object> ls = new ArrayList<>();
        for (LunRecord r : metadata.load().luns()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", r.name());
            m.put("bytes", r.bytes());
            m.put("owner", r.owner());
            m.put("nsid", r.id() + 1);
            ls.add(m);
        }
        doc.put("luns", ls);
        doc.put("subsystemNqn", subsystemNqn);
        doc.put("transport", transport.kind());
        doc.put("dataDir", cfg.dataDir().toAbsolutePath().toString());
        return doc;
    }

    /** Writes {@link #readyInfo()} atomically, safe in a shared directory such as /tmp ({@link AtomicFile}). */
    public void writeReadyFile(Path file) throws IOException {
        AtomicFile.replace(file, JSON.writeValueAsBytes(readyInfo()));
    }

    public String transportKind() {
        return transport.kind();
    }

    /** Graceful stop: every controller destages and empties its journal. */
    @Override
    public void close() {
        for (AdminServer a : admins.values()) {
            a.stop();
        }
        for (Controller c : controllers.values()) {
            c.shutdown();
        }
        transport.close();
    }

    /** Test hook: the whole array dies at once (both controllers killed, nothing destaged). */
    public void crash() {
        for (AdminServer a : admins.values()) {
            a.stop();
        }
        for (Controller c : controllers.values()) {
            c.kill();
        }
        transport.close();
    }
}
