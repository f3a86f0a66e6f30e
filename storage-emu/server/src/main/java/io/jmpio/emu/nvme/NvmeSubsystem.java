package io.jmpio.emu.nvme;

import io.jmpio.emu.array.LunRecord;
import io.jmpio.emu.controller.Controller;
import io.jmpio.emu.controller.AluaState;
import io.jmpio.netty.ConnectionGuard;
import io.jmpio.netty.FailureText;
import io.jmpio.netty.NettyTransport;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One array controller's side of the NVMe subsystem: its NVMe/TCP ports (each also answering the discovery
 * NQN), the controllers hosts create on them (CNTLIDs unique across the pair: A hands out 1..7FFFh, B
 * 8000h..FFEFh), the namespaces a host may see (one per LUN, NSID = LUN id + 1) and their ANA states as this
 * controller serves them. Started and stopped with the array controller.
 */
public final class NvmeSubsystem implements Controller.HostFrontEnd {
    private static final Logger LOG = LoggerFactory.getLogger(NvmeSubsystem.class);
    /** A connection must finish ICReq and Connect within this time (queues may then idle). */
    static final long SETUP_MILLIS = 30_000;
    /** Bytes one H2CData PDU may carry. */
    static final int MAX_H2C_DATA = 1 << 20;

    final Controller controller;
    final String nqn;
    final String serial;
    private final NettyTransport transport;
    private final String host;
    private final int[] requestedPorts;
    /** NVMe/TCP connections one port holds at once. */
    private final int maxConnections;
    /** One PDU from its first byte to its last; also the longest a host may leave an R2T's data unsent. */
    private final long partialMillis;
    /** Room for the data all queues of this front end ask their hosts for by R2T. */
    final R2tRoom.Shared r2tRoom = new R2tRoom.Shared(R2tRoom.PER_FRONT_END);
    private final int[] boundPorts;
    private final Channel[] listeners;
    private final ChannelGroup connections = new DefaultChannelGroup("nvme", GlobalEventExecutor.INSTANCE);
    private final PortFaults[] faults;
    private final Map<Integer, NvmeController> controllers = new ConcurrentHashMap<>();
    private final java.util.concurrent.ConcurrentHashMap<String, HostIoStats> hostStats =
        new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicInteger nextCntlid;
    private final int cntlidFirst;
    private final int cntlidLast;
    private final AtomicInteger discoveryGeneration = new AtomicInteger(1);
    /** What the discovery log listed when hosts were last told (a change sends discovery log change notices). */
    private volatile List<String> lastDiscoveryAddresses = List.of();
    /** Reservation commands write the array metadata: one at a time, off the event loops. */
    static final java.util.concurrent.ExecutorService RESERVATIONS = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "jmpio-nvme-reservations");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param nqn   the subsystem NQN (one per array, the same on both controllers)
     * @param ports port numbers to listen on (0: ephemeral), on {@code host}
     * @param maxConnections connections one port holds at once (past it, new ones are closed)
     * @param partialMillis  longest one PDU may take from its first byte to its last
     */
    public NvmeSubsystem(Controller controller, NettyTransport transport, String nqn, String host, int[] ports,
                         int maxConnections, long partialMillis) {
        this.maxConnections = maxConnections;
        this.partialMillis = partialMillis;
        this.controller = controller;
        this.transport = transport;
        this.nqn = nqn;
        this.host = host;
        this.requestedPorts = ports.clone();
        this.boundPorts = ports.clone();
        this.listeners = new Channel[ports.length];
        this.faults = new PortFaults[ports.length];
        for (int i = 0; i < ports.length; i++) {
            faults[i] = new PortFaults();
        }
        boolean first = controller.id().equals("A");
        this.cntlidFirst = first ? 1 : 0x8000;
        this.cntlidLast = first ? 0x7FFF : 0xFFEF;
        this.nextCntlid = new AtomicInteger(cntlidFirst);
        this.serial = String.format("JMPIO%s%08X", controller.id(), nqn.hashCode());
    }

    /** Longest a host may send none of the data an R2T asked for before its connection is closed. */
    long transferMillis() {
        return partialMillis;
    }

    @Override
    public synchronized void bind() throws IOException {
        for (int i = 0; i < listeners.length; i++) {
            if (listeners[i] != null && listeners[i].isOpen() || faults[i].down) {
                continue;
            }
            bindPort(i);
        }
        LOG.info("controller {}: NVMe/TCP subsystem {} on {}", controller.id(), nqn, addresses());
    }

    private void bindPort(int index) throws IOException {
        int i = index;
        {
            ConnectionGuard guard = new ConnectionGuard("controller " + controller.id() + " NVMe/TCP port " + i,
                maxConnections, SETUP_MILLIS, partialMillis, true);
            ChannelFuture f = guard.listen(transport, new InetSocketAddress(host, boundPorts[i]), ch -> {
                connections.add(ch);
                faults[index].connections.add(ch);
                PduCodec codec = new PduCodec(Math.max(MAX_H2C_DATA, IdentifyData.IN_CAPSULE_DATA));
                ch.pipeline().addLast(codec, new QueueHandler(NvmeSubsystem.this, codec, index));
            });
            if (!f.isSuccess()) {
                close();
                throw new IOException("controller " + controller.id() + ": cannot listen for NVMe/TCP on " + host + ":"
                    + boundPorts[i] + ": " + FailureText.of(f.cause()), f.cause());
            }
            listeners[i] = f.channel();
            boundPorts[i] = ((InetSocketAddress) f.channel().localAddress()).getPort();
        }
    }

    /** The injected faults of one port, read by its queues. */
    static final class PortFaults {
        volatile boolean down;
        volatile long latencyNanos;
        volatile double flakyRate;
        volatile String flakyMode = "mixed";
        final ChannelGroup connections = new DefaultChannelGroup("nvme-port", GlobalEventExecutor.INSTANCE);
        final java.util.concurrent.atomic.LongAdder ioCommands = new java.util.concurrent.atomic.LongAdder();
        final java.util.concurrent.atomic.LongAdder injected = new java.util.concurrent.atomic.LongAdder();

        /** The fault for the next I/O command: null, "error" or "drop". */
        String roll() {
            ioCommands.increment();
            double r = flakyRate;
            if (r <= 0 || java.util.concurrent.ThreadLocalRandom.current().nextDouble() >= r) {
                return null;
            }
            injected.increment();
            return flakyMode.equals("mixed")
                ? (java.util.concurrent.ThreadLocalRandom.current().nextBoolean() ? "error" : "drop") : flakyMode;
        }
    }

    PortFaults faults(int portIndex) {
        return faults[portIndex];
    }

    private int portIndex(String address) {
        for (int i = 0; i < boundPorts.length; i++) {
            if ((host + ":" + boundPorts[i]).equals(address)) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public synchronized boolean setPortDown(String address, boolean down) throws IOException {
        int i = portIndex(address);
        if (i < 0) {
            return false;
        }
        faults[i].down = down;
        if (down) {
            if (listeners[i] != null) {
                listeners[i].close().awaitUninterruptibly();
                listeners[i] = null;
            }
            faults[i].connections.close().awaitUninterruptibly();
            LOG.warn("controller {}: NVMe/TCP port {} down", controller.id(), address);
        } else if (controller.serving() && (listeners[i] == null || !listeners[i].isOpen())) {
            bindPort(i);
            LOG.warn("controller {}: NVMe/TCP port {} up", controller.id(), address);
        }
        accessChanged(); // hosts watching the discovery log hear of it
        return true;
    }

    @Override
    public boolean setPortLatency(String address, long millis) {
        int i = portIndex(address);
        if (i < 0) {
            return false;
        }
        if (millis < 0) {
            throw new IllegalArgumentException("latency needs MS >= 0");
        }
        faults[i].latencyNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(millis);
        return true;
    }

    @Override
    public boolean setPortFlaky(String address, double rate, String mode) {
        int i = portIndex(address);
        if (i < 0) {
            return false;
        }
        faults[i].flakyRate = rate;
        faults[i].flakyMode = mode;
        return true;
    }

    @Override
    public synchronized void close() {
        for (int i = 0; i < listeners.length; i++) {
            if (listeners[i] != null) {
                listeners[i].close().awaitUninterruptibly();
                listeners[i] = null;
            }
        }
        for (NvmeController c : controllers.values()) {
            c.loop.execute(c::stop);
        }
        controllers.clear();
        connections.close().awaitUninterruptibly();
    }

    @Override
    public void accessChanged() {
        discoveryGeneration.incrementAndGet();
        List<String> entries = discoveryAddresses();
        boolean discoveryChanged = !entries.equals(lastDiscoveryAddresses);
        lastDiscoveryAddresses = entries;
        for (NvmeController c : controllers.values()) {
            if (!c.discovery) {
                c.loop.execute(() -> {
                    c.accessChanged(nsids(c.hostNqn));
                    QueueHandler.deliverEvents(c);
                });
            } else if (discoveryChanged) {
                c.loop.execute(() -> {
                    c.discoveryChanged();
                    QueueHandler.deliverEvents(c);
                });
            }
        }
    }

    @Override
    public List<String> upAddresses() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < boundPorts.length; i++) {
            if (!faults[i].down) {
                out.add(host + ":" + boundPorts[i]);
            }
        }
        return out;
    }

    /** The NVMe/TCP ports the discovery log lists now (this controller's up ones, then the peer's). */
    private List<String> discoveryAddresses() {
        List<String> out = new ArrayList<>(upAddresses());
        out.addAll(controller.peerFrontEndAddresses());
        return out;
    }

    @Override
    public List<Map<String, Object>> portStatus() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < boundPorts.length; i++) {
            PortFaults f = faults[i];
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("address", host + ":" + boundPorts[i]);
            m.put("protocol", "nvme-tcp");
            m.put("up", !f.down);
            m.put("connections", f.connections.size());
            m.put("latencyMs", java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(f.latencyNanos));
            m.put("flakyRate", f.flakyRate);
            m.put("flakyMode", f.flakyMode);
            m.put("ioCommands", f.ioCommands.sum());
            m.put("injectedFaults", f.injected.sum());
            out.add(m);
        }
        return out;
    }

    @Override
    public List<String> addresses() {
        List<String> out = new ArrayList<>();
        for (int p : boundPorts) {
            out.add(host + ":" + p);
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------
    // What queues ask

    NvmeController newController(String hostNqn, byte[] hostId, boolean discovery, long kato,
                                 io.netty.channel.EventLoop loop) {
        for (int tries = 0; tries <= cntlidLast - cntlidFirst; tries++) {
            int id = nextCntlid.getAndIncrement();
            if (id > cntlidLast) {
                nextCntlid.set(cntlidFirst);
                id = nextCntlid.getAndIncrement();
            }
            NvmeController c = new NvmeController(id, hostNqn, hostId, discovery, kato, loop);
            if (controllers.putIfAbsent(id, c) == null) {
                if (!discovery) {
                    c.knownNsids(nsids(hostNqn));
                    controller.registerHost(hostNqn, ReservationRules.hex(hostId));
                }
                return c;
            }
        }
        return null;
    }

    /** The per-host counters of {@code hostNqn} (a bounded table: hosts beyond it are not counted). */
    HostIoStats hostStats(String hostNqn) {
        HostIoStats s = hostStats.get(hostNqn);
        if (s == null && hostStats.size() < io.jmpio.emu.array.HostRecord.MAX_HOSTS) {
            s = hostStats.computeIfAbsent(hostNqn, k -> new HostIoStats());
        }
        return s;
    }

    @Override
    public Map<String, Map<String, Long>> hostStatistics() {
        Map<String, Map<String, Long>> out = new java.util.TreeMap<>();
        hostStats.forEach((nqn, st) -> out.put(nqn, st.toMap()));
        return out;
    }

    NvmeController controller(int cntlid) {
        return controllers.get(cntlid);
    }

    void remove(NvmeController c) {
        controllers.remove(c.cntlid, c);
        c.stop();
    }

    /** LUN of an NSID, if this host may see it. */
    LunRecord namespace(String hostNqn, int nsid) {
        if (nsid < 1 || nsid > IdentifyData.MAX_NAMESPACES) {
            return null;
        }
        LunRecord r = controller.lunRecord(nsid - 1);
        return r != null && r.allows(hostNqn) ? r : null;
    }

    /** NSIDs this host may see, ascending. */
    Set<Integer> nsids(String hostNqn) {
        Set<Integer> out = new TreeSet<>();
        for (LunRecord r : controller.lunRecords()) {
            if (r.id() + 1 <= IdentifyData.MAX_NAMESPACES && r.allows(hostNqn)) {
                out.add(r.id() + 1);
            }
        }
        return out;
    }

    /** ANA state of a namespace through this controller. */
    int anaState(LunRecord r) {
        AluaState s = controller.accessState(r.id());
        switch (s) {
            case ACTIVE_OPTIMIZED: return Nvme.ANA_OPTIMIZED;
            case ACTIVE_NON_OPTIMIZED: return Nvme.ANA_NON_OPTIMIZED;
            case TRANSITIONING: return Nvme.ANA_CHANGE;
            default: return Nvme.ANA_INACCESSIBLE;
        }
    }

    List<LogPages.DiscoveryEntry> discoveryEntries() {
        List<LogPages.DiscoveryEntry> out = new ArrayList<>();
        int portId = controller.id().equals("A") ? 1 : 0x11;
        for (int i = 0; i < boundPorts.length; i++, portId++) {
            if (!faults[i].down) {
                out.add(entry(portId, host + ":" + boundPorts[i]));
            }
        }
        int peerPortId = controller.id().equals("A") ? 0x11 : 1;
        for (String a : controller.peerFrontEndAddresses()) {
            out.add(entry(peerPortId++, a));
        }
        return out;
    }

    private LogPages.DiscoveryEntry entry(int portId, String address) {
        int colon = address.lastIndexOf(':');
        String h = address.substring(0, colon);
        if (h.startsWith("[")) {
            h = h.substring(1, h.length() - 1);
        }
        return new LogPages.DiscoveryEntry(portId, h, Integer.parseInt(address.substring(colon + 1)), nqn);
    }

    long discoveryGeneration() {
        return discoveryGeneration.get();
    }

    /** Each live association (not discovery ones), for status and `jmpio emu hosts`. */
    @Override
    public List<Map<String, Object>> sessions() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (NvmeController c : controllers.values()) {
            if (c.discovery || c.queues.isEmpty()) {
                continue;
            }
            Channel admin = c.queues.get(0);
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("host", c.hostNqn);
            m.put("protocol", "nvme-tcp");
            m.put("port", host + ":" + ((InetSocketAddress) admin.localAddress()).getPort());
            m.put("remote", String.valueOf(admin.remoteAddress()));
            m.put("cntlid", c.cntlid);
            m.put("queues", c.queues.size());
            m.put("connectedAtMillis", c.connectedAtMillis);
            out.add(m);
        }
        return out;
    }
}
