package io.jmpio.emu.controller;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayMetadata;
import io.jmpio.emu.array.LunRecord;
import io.jmpio.emu.array.LunSpec;
import io.jmpio.emu.array.MetadataStore;
import io.jmpio.emu.cache.BlockCache;
import io.jmpio.emu.cache.CacheJournal;
import io.jmpio.emu.cache.Extent;
import io.jmpio.emu.cache.ExtentMap;
import io.jmpio.emu.controller.PeerMonitor.PeerState;
import io.jmpio.emu.link.InterControllerLink;
import io.jmpio.emu.link.LinkSecurity;
import io.jmpio.emu.link.LinkFrame;
import io.jmpio.emu.protocol.AluaState;
import io.jmpio.emu.protocol.Frame;
import io.jmpio.emu.protocol.FrameHeader;
import io.jmpio.emu.protocol.InquiryData;
import io.jmpio.emu.protocol.LunList;
import io.jmpio.emu.protocol.NettyTransport;
import io.jmpio.emu.protocol.Opcode;
import io.jmpio.emu.protocol.PortGroupReport;
import io.jmpio.emu.protocol.Sense;
import io.jmpio.emu.protocol.Status;
import io.jmpio.emu.security.SecretFile;
import io.jmpio.emu.store.BackingStore;
import io.jmpio.emu.store.BackingStores;
import io.jmpio.emu.store.LunStorage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One controller of the pair. Requests arrive on its front-end ports (event-loop threads); the LUN's owner
 * executes them, a non-owner ships them over the link and answers the host itself. Threads besides the
 * event loops: {@code timer} (heartbeats, mailbox, peer verdicts, failback and auto-transfer checks; never
 * blocks on disk), {@code ops} (takeover, moves, resync: the slow, serialised state changes), {@code destage}
 * and {@code disk} (media writes and fsyncs).
 */
public final class Controller {
    private static final Logger LOG = LoggerFactory.getLogger(Controller.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    public enum State { STOPPED, RUNNING, PAUSED, KILLED }

    /**
     * Another host-facing protocol served by this controller (NVMe/TCP): started and stopped with it, and told
     * when the access state of any LUN through this controller, or the set of LUNs, changed.
     */
    public interface HostFrontEnd {
        void bind() throws IOException;

        void close();

        /** Called with the ALUA lock held: must not block; hand work to an event loop. */
        void accessChanged();

        /** Addresses hosts connect to ("host:port"), told to the peer so its discovery can list them. */
        List<String> addresses();

        /** The hosts connected now, as status entries (host, port, remote, connectedAtMillis, ...). */
        List<Map<String, Object>> sessions();

        /** Fault: take one of this protocol's ports down or up; false when {@code address} is not one of them. */
        boolean setPortDown(String address, boolean down) throws IOException;

        /** Fault: delay every command on the port; false when not one of its ports. */
        boolean setPortLatency(String address, long millis);

        /** Fault: fail (error), drop the connection (drop) or either (mixed) for a share of I/O commands. */
        boolean setPortFlaky(String address, double rate, String mode);
    }

    /** Thrown by management calls that only the LUN's owner can carry out. */
    public static final class NotOwnerException extends IOException {
        public final String owner;

        NotOwnerException(String lun, String owner) {
            super("LUN " + lun + " is owned by controller " + owner);
            this.owner = owner;
        }
    }

    /** The controller's view of one LUN. */
    final class Lun {
        volatile LunRecord record;
        final BackingStore store;
        /** The owner's dirty write cache. */
        final ExtentMap cache = new ExtentMap();
        /** The mirror of the peer's write cache, while the peer owns the LUN. */
        final ExtentMap mirror = new ExtentMap();
        /** Non-owner: owner storage positions of shipped writes, by LBA range (extents without data). */
        final ExtentMap shippedPositions = new ExtentMap();
        final ReentrantLock diskLock = new ReentrantLock();
        final AtomicInteger inflight = new AtomicInteger();
        final AtomicBoolean moving = new AtomicBoolean();
        final LunStats stats = new LunStats();
        volatile boolean transitioning;
        /** When the peer announced the transition now under way (clock nanos); it cannot last for ever. */
        volatile long transitionSinceNanos;
        /** When destage of this LUN first failed (clock nanos), 0 while it succeeds. */
        volatile long failingSinceNanos;
        volatile long releasedUpTo = Long.MIN_VALUE;

        Lun(LunRecord record, BackingStore store) {
            this.record = record;
            this.store = store;
        }

        boolean owned() {
            return id.equals(record.owner());
        }

        boolean fileBacked() {
            return BackingStores.FILE.equals(record.backend());
        }
    }

    /** Front-end ports a controller can have (a shipped request names the one it came in on). */
    static final int MAX_PORTS_PER_CONTROLLER = 8;
    /** Bytes of requests in progress one host connection may have, and all of them together. */
    static final long SESSION_INFLIGHT_BYTES = 128L << 20;
    static final long CONTROLLER_INFLIGHT_BYTES = 1L << 30;
    /** What a request without data counts against those budgets. */
    static final long MIN_REQUEST_COST = 4096;
    private final java.util.concurrent.atomic.AtomicLong inflightBytes = new java.util.concurrent.atomic.AtomicLong();
    /** Longest a peer's transition of a LUN is believed without a metadata change ending it. */
    static final long TRANSITION_LIMIT_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final String id;
    private final String peerId;
    private final ArrayConfig cfg;
    private final NettyTransport transport;
    private final Clock clock;
    private final Path dataDir;
    private final MetadataStore metadata;
    private final List<FrontEndPort> ports = new ArrayList<>();
    private final List<HostFrontEnd> frontEnds = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final InterControllerLink link;
    private final ConcurrentHashMap<Integer, Lun> luns = new ConcurrentHashMap<>();
    private final BlockCache blockCache;
    private final Object journalLock = new Object();
    private final ConcurrentLinkedQueue<Runnable> backlog = new ConcurrentLinkedQueue<>();
    private final Path journalDir;

    private volatile State state = State.STOPPED;
    private volatile long incarnation;
    private CacheJournal journal;
    private boolean journalDirty;
    private long nextSlot;
    private Mailbox mailbox;
    private PeerMonitor monitor;
    private OwnershipBalancer balancer;
    private volatile PeerState peerState = PeerState.PARTITIONED;
    private volatile boolean peerSynced;
    private volatile long peerAliveSinceNanos;
    private volatile PeerInfo peerInfo;
    private volatile boolean failedBackSinceAlive;
    private volatile String adminAddress = "";
    private ScheduledExecutorService timer;
    private ScheduledExecutorService ops;
    private ScheduledExecutorService destager;
    private ExecutorService disk;
    /** Guards the ALUA table; event loops take it, so it is never held while waiting for an event loop. */
    private final Object aluaLock = new Object();
    private final Map<Integer, List<String>> aluaTable = new HashMap<>();
    private long aluaGeneration;

    public Controller(String id, ArrayConfig cfg, NettyTransport transport, Clock clock) throws IOException {
        this.id = id;
        this.peerId = ArrayConfig.peerOf(id);
        this.cfg = cfg;
        this.transport = transport;
        this.clock = clock;
        this.dataDir = cfg.dataDir();
        this.metadata = new MetadataStore(dataDir);
        this.journalDir = dataDir.resolve("nvram").resolve(id);
        this.blockCache = new BlockCache(cfg.readCacheBytes());
        for (int i = 0; i < cfg.portsPerController(); i++) {
            ports.add(new FrontEndPort(this, transport, i, cfg.listenAddress(), cfg.portFor(id, 2 + i),
                cfg.maxConnectionsPerPort(), cfg.idleTimeoutMillis(), cfg.partialFrameMillis()));
        }
        this.link = new InterControllerLink(id, peerId, transport,
            new InetSocketAddress(cfg.linkListenAddress(), cfg.portFor(id, 1)), cfg.linkChannels(),
            Math.max(2 * cfg.heartbeatTimeoutMillis(), 1000), new LinkEvents(), this::helloPayload, linkSecurity(cfg));
    }

    private static LinkSecurity linkSecurity(ArrayConfig cfg) throws IOException {
        byte[] secret = SecretFile.loadOrCreate(cfg.linkSecretFile(), "link secret");
        return cfg.linkTlsCert() == null ? LinkSecurity.secret(secret)
            : LinkSecurity.withTls(secret, cfg.linkTlsCert(), cfg.linkTlsKey(), cfg.linkTlsCa());
    }

    public String id() {
        return id;
    }

    /** Running or paused: its LUNs, ports and metadata view are live (a killed or stopped one has none). */
    public boolean serving() {
        State s = state;
        return s == State.RUNNING || s == State.PAUSED;
    }

    public State state() {
        return state;
    }

    public void setAdminAddress(String address) {
        this.adminAddress = address;
    }

    public String adminAddress() {
        return adminAddress;
    }

    public List<String> portAddresses() {
        List<String> out = new ArrayList<>();
        for (FrontEndPort p : ports) {
            out.add(p.address());
        }
        return out;
    }

    public InetSocketAddress linkAddress() {
        return link.boundAddress();
    }

    public void setPeerLinkAddress(InetSocketAddress address) {
        link.setPeerAddress(address);
    }

    /** The peer's addresses for other host protocols (NVMe/TCP) as it told us over the link; empty if unknown. */
    public List<String> peerFrontEndAddresses() {
        PeerInfo p = peerInfo;
        return p == null || p.nvme() == null ? List.of() : p.nvme();
    }

    /** The peer's admin address as it told us over the link, or null. */
    public String peerAdminAddress() {
        PeerInfo p = peerInfo;
        return p == null || p.admin().isEmpty() ? null : p.admin();
    }

    public PeerState peerState() {
        return peerState;
    }

    // ------------------------------------------------------------------------------------------------
    // Life cycle

    /** Starts (or restarts after a kill): replays the NVRAM journal, opens LUNs, binds ports and link. */
    public synchronized void start() throws IOException {
        if (state == State.RUNNING || state == State.PAUSED) {
            throw new IllegalStateException("controller " + id + " is already " + state.name().toLowerCase());
        }
        incarnation = ThreadLocalRandom.current().nextLong();
        nextSlot = System.currentTimeMillis() << 20;
        replayJournal();
        journal = new CacheJournal(journalDir);
        journalDirty = false;
        luns.clear();
        reloadMetadata();
        mailbox = new Mailbox(dataDir, id, peerId);
        long now = clock.nanos();
        lastTickNanos = now;
        monitor = new PeerMonitor(TimeUnit.MILLISECONDS.toNanos(cfg.heartbeatTimeoutMillis()), now);
        balancer = new OwnershipBalancer(cfg.autoTransferThreshold(),
            TimeUnit.MILLISECONDS.toNanos(cfg.autoTransferWindowMillis()), cfg.autoTransferMinIos(), now);
        peerState = PeerState.PARTITIONED;
        peerSynced = false;
        timer = Executors.newSingleThreadScheduledExecutor(daemon("jmpio-" + id + "-timer"));
        ops = Executors.newSingleThreadScheduledExecutor(daemon("jmpio-" + id + "-ops"));
        destager = Executors.newSingleThreadScheduledExecutor(daemon("jmpio-" + id + "-destage"));
        disk = Executors.newFixedThreadPool(2, daemon("jmpio-" + id + "-disk"));
        try {
            for (FrontEndPort p : ports) {
                if (!p.adminDown()) {
                    p.bind();
                }
            }
            for (HostFrontEnd f : frontEnds) {
                f.bind();
            }
            link.start();
        } catch (IOException e) {
            for (FrontEndPort p : ports) {
                p.close();
            }
            for (HostFrontEnd f : frontEnds) {
                f.close();
            }
            link.stop();
            shutdownExecutors();
            throw e;
        }
        state = State.RUNNING;
        timer.scheduleWithFixedDelay(this::tick, 0, cfg.heartbeatIntervalMillis(), TimeUnit.MILLISECONDS);
        destager.scheduleWithFixedDelay(this::destageCycle, cfg.destageIntervalMillis(), cfg.destageIntervalMillis(),
            TimeUnit.MILLISECONDS);
        recomputeAlua();
        LOG.info("controller {} started: ports {}, link {}, {} LUN(s)", id, portAddresses(),
            link.boundAddress().getPort(), luns.size());
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + (n.incrementAndGet() > 1 ? "-" + n.get() : ""));
            t.setDaemon(true);
            return t;
        };
    }

    /** Replays cached writes the journal holds for LUNs this controller still owns at the same epoch. */
    private void replayJournal() throws IOException {
        List<CacheJournal.Record> records = CacheJournal.readAll(journalDir);
        if (records.isEmpty()) {
            return;
        }
        ArrayMetadata m = metadata.load();
        Map<Integer, BackingStore> stores = new HashMap<>();
        int applied = 0;
        int failed = 0;
        try {
            for (CacheJournal.Record r : records) {
                LunRecord lun = m.byId(r.lun());
                if (lun == null || !id.equals(lun.owner()) || lun.epoch() != r.epoch()
                    || !BackingStores.FILE.equals(lun.backend())) {
                    continue;
                }
                Extent e = r.extent();
                if (e.offset() < 0 || e.length() <= 0 || e.offset() + e.length() > lun.bytes()
                    || e.offset() % lun.blockSize() != 0 || e.length() % lun.blockSize() != 0) {
                    LOG.warn("controller {}: journal record for {} at {}+{} does not fit the LUN ({} bytes); skipped",
                        id, lun.name(), e.offset(), e.length(), lun.bytes());
                    continue;
                }
                try {
                    BackingStore s = stores.get(lun.id());
                    if (s == null) {
                        s = BackingStores.open(lun.backend(), dataDir, lun.name(), lun.bytes());
                        stores.put(lun.id(), s);
                    }
                    writeToStore(s, e);
                    applied++;
                } catch (IOException | RuntimeException ex) {
                    failed++;
                    LOG.error("controller {}: replay of {} at {}+{} failed: {}", id, lun.name(), e.offset(), e.length(),
                        ex.toString());
                }
            }
            for (BackingStore s : stores.values()) {
                s.force();
            }
        } finally {
            for (BackingStore s : stores.values()) {
                try {
                    s.close();
                } catch (IOException e) {
                    LOG.warn("controller {}: closing a store after replay: {}", id, e.toString());
                }
            }
        }
        LOG.info("controller {}: replayed {} of {} cached write(s) from the NVRAM journal", id, applied, records.size());
        if (failed > 0) {
            // what could not reach its drive is kept, not replayed again at every start and not deleted
            Path kept = CacheJournal.quarantine(journalDir);
            LOG.error("controller {}: {} journal record(s) could not be written to their LUNs; the journal is kept in {}",
                id, failed, kept);
            return;
        }
        new CacheJournal(journalDir).reset();
    }

    /** Abrupt stop, as a controller that loses power: no destage; the peer takes over from its mirror. */
    public synchronized void kill() {
        if (state == State.KILLED || state == State.STOPPED) {
            return;
        }
        state = State.KILLED;
        stopServing();
        LOG.warn("controller {} killed", id);
    }

    /** Graceful stop: no new I/O, then everything cached goes to disk and the journal is emptied. */
    public synchronized void shutdown() {
        if (state == State.KILLED || state == State.STOPPED) {
            return;
        }
        state = State.STOPPED;
        for (FrontEndPort p : ports) {
            p.close();
        }
        for (HostFrontEnd f : frontEnds) {
            quietly("closing " + f.addresses(), f::close);
        }
        for (Lun l : luns.values()) {
            if (l.owned()) {
                try {
                    destageLun(l);
                    l.store.force();
                } catch (IOException | RuntimeException e) {
                    LOG.error("controller {}: destage of {} at shutdown failed; the journal keeps it", id,
                        l.record.name(), e);
                    journalDirty = true;
                }
            }
        }
        stopServing();
    }

    /** Closes everything this controller serves with; each step runs even if an earlier one failed. */
    private void stopServing() {
        for (FrontEndPort p : ports) {
            quietly("closing port " + p.address(), p::close);
        }
        for (HostFrontEnd f : frontEnds) {
            quietly("closing " + f.addresses(), f::close);
        }
        quietly("stopping the link", link::stop);
        quietly("stopping executors", this::shutdownExecutors);
        backlog.clear(); // dropped: the connections they would answer are closed
        for (Lun l : luns.values()) {
            l.cache.clear();
            l.mirror.clear();
            quietly("closing " + l.record.name(), () -> {
                try {
                    l.store.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
        luns.clear();
        blockCache.invalidateAll();
        quietly("closing the journal and mailbox", () -> {
            try {
                if (journal != null) {
                    journal.close();
                }
                if (mailbox != null) {
                    mailbox.close();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        synchronized (aluaLock) {
            aluaTable.clear();
        }
    }

    private void quietly(String what, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            LOG.warn("controller {}: {} failed: {}", id, what, e.toString());
        }
    }

    private void shutdownExecutors() {
        for (ExecutorService e : new ExecutorService[] {timer, ops, destager, disk}) {
            if (e != null) {
                e.shutdownNow();
            }
        }
    }

    /** Fault: alive but silent — no heartbeats, no answers; requests wait until {@link #resume()}. */
    public synchronized void pause() {
        if (state != State.RUNNING) {
            throw new IllegalStateException("controller " + id + " is " + state.name().toLowerCase() + ", not running");
        }
        state = State.PAUSED;
        LOG.warn("controller {} paused", id);
    }

    /** Ends a pause. The metadata is read again first: a peer that took over meanwhile fences this controller. */
    public synchronized void resume() throws IOException {
        if (state != State.PAUSED) {
            throw new IllegalStateException("controller " + id + " is " + state.name().toLowerCase() + ", not paused");
        }
        reloadMetadata();
        monitor.restartObservation(clock.nanos());
        lastTickNanos = clock.nanos();
        peerState = PeerState.PARTITIONED;
        peerSynced = false;
        state = State.RUNNING;
        Runnable r;
        while ((r = backlog.poll()) != null) {
            r.run();
        }
        recomputeAlua();
        LOG.warn("controller {} resumed", id);
    }

    /** Fault: a reboot — killed, down long enough for the peer to notice, then started again. */
    public void restart() throws IOException {
        kill();
        try {
            Thread.sleep(cfg.heartbeatTimeoutMillis() + 4 * cfg.heartbeatIntervalMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted during restart of controller " + id);
        }
        start();
    }

    // ------------------------------------------------------------------------------------------------
    // Timers

    /**
     * A transition the peer began and never ended (it died mid-move, or its abort was lost) ends here: a move
     * drains for at most a few seconds, so a LUN transitioning for much longer would otherwise stay
     * unusable until the next metadata change.
     */
    private void expireTransitions(long now) {
        for (Lun l : luns.values()) {
            if (l.transitioning && !l.owned() && now - l.transitionSinceNanos > TRANSITION_LIMIT_NANOS) {
                LOG.warn("controller {}: {} has been transitioning for more than {} s on {}'s word; ending it", id,
                    l.record.name(), TimeUnit.NANOSECONDS.toSeconds(TRANSITION_LIMIT_NANOS), peerId);
                l.transitioning = false;
                recomputeAlua();
            }
        }
    }

    private void tick() {
        try {
            if (state != State.RUNNING) {
                return;
            }
            long now = clock.nanos();
            if (timersStalled(now)) {
                // This process was frozen (docker pause, SIGSTOP, a VM stall) or starved for longer than the
                // peer waits: the peer may have taken our LUNs meanwhile. Re-read ownership before serving,
                // and give the peer's mailbox a fresh grace period (our view of it is stale, not the peer dead).
                Set<Integer> ownedBefore = ownedLunIds();
                reloadMetadata();
                monitor.graceAfterStall(now);
                boolean fencedOut = !ownedLunIds().containsAll(ownedBefore);
                LOG.warn("controller {}: timers stalled {} ms; ownership re-read: {}", id,
                    TimeUnit.NANOSECONDS.toMillis(now - lastTickNanos),
                    fencedOut ? "the peer took over meanwhile, this controller is fenced" : "unchanged");
                if (fencedOut) {
                    peerState = PeerState.PARTITIONED;
                    peerSynced = false;
                    monitor.restartObservation(now);
                }
                lastTickNanos = now;
                recomputeAlua();
            }
            lastTickNanos = now;
            expireTransitions(now);
            mailbox.beat();
            link.heartbeat();
            link.maintain();
            monitor.mailbox(mailbox.peerCounter(), now);
            PeerState next = monitor.evaluate(now);
            if (next != peerState) {
                onPeerState(next, now);
            }
            checkFailback(now);
            for (int lunId : balancer.evaluate(now)) {
                Lun l = luns.get(lunId);
                if (l != null && l.owned() && peerState == PeerState.ALIVE && peerSynced) {
                    LOG.info("controller {}: most I/O for {} arrives at {}; moving ownership (implicit ALUA)", id,
                        l.record.name(), peerId);
                    submitMove(l, peerId, "auto-transfer");
                }
            }
        } catch (Throwable t) {
            LOG.error("controller {}: timer tick failed", id, t);
        }
    }

    private Set<Integer> ownedLunIds() {
        Set<Integer> ids = new java.util.HashSet<>();
        for (Lun l : luns.values()) {
            if (l.owned()) {
                ids.add(l.record.id());
            }
        }
        return ids;
    }

    /** When this controller's own timer last ran: a gap longer than the peer's timeout means a freeze. */
    private volatile long lastTickNanos;

    private boolean timersStalled(long now) {
        return now - lastTickNanos > TimeUnit.MILLISECONDS.toNanos(cfg.heartbeatTimeoutMillis());
    }

    private void onPeerState(PeerState next, long now) {
        PeerState previous = peerState;
        peerState = next;
        LOG.info("controller {}: peer {} {} -> {}", id, peerId, previous, next);
        switch (next) {
            case ALIVE:
                peerAliveSinceNanos = now;
                failedBackSinceAlive = false;
                ops.execute(this::resync);
                break;
            case PARTITIONED:
                peerSynced = false;
                break;
            case DEAD:
                peerSynced = false;
                link.disconnectAll();
                ops.execute(this::takeOver);
                break;
            default:
        }
        recomputeAlua();
    }

    private void checkFailback(long now) {
        if (!"auto".equals(cfg.failback()) || peerState != PeerState.ALIVE || !peerSynced || failedBackSinceAlive) {
            return;
        }
        if (now - peerAliveSinceNanos < TimeUnit.MILLISECONDS.toNanos(cfg.failbackDelayMillis())) {
            return;
        }
        failedBackSinceAlive = true;
        for (Lun l : luns.values()) {
            LunRecord r = l.record;
            if (l.owned() && r.failedOver() && peerId.equals(r.preferredOwner())) {
                LOG.info("controller {}: failing {} back to its preferred owner {}", id, r.name(), peerId);
                submitMove(l, peerId, "failback");
            }
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Ownership changes (ops thread)

    /**
     * The peer came (back): nothing this controller caches may depend on a mirror the peer lost. Writes go
     * through to disk while the peer's mirror is emptied and everything cached is destaged; then mirroring resumes.
     */
    private void resync() {
        if (state != State.RUNNING || peerState != PeerState.ALIVE) {
            return;
        }
        peerSynced = false;
        try {
            for (Lun l : luns.values()) {
                if (l.owned()) {
                    managementRequest(LinkFrame.OP_MIRROR_RESET, l.record.id(), null);
                    destageLun(l);
                    l.store.force();
                }
            }
            peerSynced = peerState == PeerState.ALIVE;
            LOG.info("controller {}: in sync with peer {}; mirroring writes", id, peerId);
        } catch (IOException e) {
            LOG.warn("controller {}: resync with {} failed ({}); writing through", id, peerId, e.getMessage());
        }
    }

    /** The peer is dead: take its LUNs, replaying the mirror of its write cache first. */
    private void takeOver() {
        if (state != State.RUNNING || peerState != PeerState.DEAD) {
            return;
        }
        for (Lun l : luns.values()) {
            if (!peerId.equals(l.record.owner())) {
                continue;
            }
            l.transitioning = true;
            recomputeAlua();
            try {
                l.diskLock.lock();
                try {
                    List<Extent> mirrored = l.mirror.snapshot();
                    for (Extent e : mirrored) {
                        writeToStore(l.store, e);
                    }
                    l.store.force();
                    l.mirror.clear();
                    LOG.warn("controller {}: took over {} from dead peer {}, replayed {} mirrored extent(s)", id,
                        l.record.name(), peerId, mirrored.size());
                } finally {
                    l.diskLock.unlock();
                }
                int lunId = l.record.id();
                metadata.update(m -> {
                    LunRecord cur = m.byId(lunId);
                    return cur == null ? m : m.with(cur.withOwner(id, true));
                });
                blockCache.invalidateLun(lunId);
                l.shippedPositions.clear();
                reloadMetadata();
            } catch (IOException e) {
                LOG.error("controller {}: takeover of {} failed", id, l.record.name(), e);
            } finally {
                l.transitioning = false;
            }
        }
        recomputeAlua();
    }

    private void submitMove(Lun l, String target, String why) {
        if (!l.moving.compareAndSet(false, true)) {
            return;
        }
        ops.execute(() -> {
            try {
                move(l, target);
            } catch (IOException e) {
                LOG.warn("controller {}: {} of {} to {} failed: {}", id, why, l.record.name(), target, e.getMessage());
            } finally {
                l.moving.set(false);
            }
        });
    }

    /** Moves ownership of an owned LUN to the peer: transitioning, drain, destage, metadata, peer reload. */
    private void move(Lun l, String target) throws IOException {
        if (!l.owned()) {
            throw new NotOwnerException(l.record.name(), l.record.owner());
        }
        if (target.equals(id)) {
            return;
        }
        if (peerState != PeerState.ALIVE) {
            throw new IOException("peer " + peerId + " is " + peerState.name().toLowerCase() + "; cannot move "
                + l.record.name() + " to it");
        }
        int lunId = l.record.id();
        l.transitioning = true;
        recomputeAlua();
        boolean committed = false;
        try {
            managementRequest(LinkFrame.OP_TRANSITION_BEGIN, lunId, null);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (l.inflight.get() > 0) {
                if (System.nanoTime() > deadline) {
                    throw new IOException(l.inflight.get() + " request(s) on " + l.record.name() + " did not drain");
                }
                Thread.onSpinWait();
                Thread.yield();
            }
            destageLun(l);
            l.store.force();
            metadata.update(m -> {
                LunRecord cur = m.byId(lunId);
                return cur == null ? m : m.with(cur.withOwner(target, false));
            });
            committed = true;
            l.cache.clear();
            blockCache.invalidateLun(lunId);
            l.shippedPositions.clear();
            balancer.reset(lunId);
            reloadMetadata();
            try {
                managementRequest(LinkFrame.OP_METADATA_CHANGED, lunId, null);
            } catch (IOException e) {
                LOG.warn("controller {}: peer did not confirm the move of {}: {}", id, l.record.name(), e.getMessage());
            }
            LOG.info("controller {}: ownership of {} moved to {}", id, l.record.name(), target);
        } finally {
            l.transitioning = false;
            if (!committed) {
                try {
                    managementRequest(LinkFrame.OP_TRANSITION_ABORT, lunId, null);
                } catch (IOException ignored) {
                    // the peer clears its transitioning state when it next reloads metadata
                }
            }
            recomputeAlua();
        }
    }

    private LinkFrame managementRequest(int op, int lun, byte[] payload) throws IOException {
        LinkFrame m = LinkFrame.message(LinkFrame.CHANNEL_MANAGEMENT, LinkFrame.MANAGEMENT, op, lun, 0, 0, 0, 0,
            payload == null ? null : Unpooled.wrappedBuffer(payload));
        try {
            LinkFrame r = link.request(m, 0).get(Math.max(2 * cfg.heartbeatTimeoutMillis(), 1000) + 500,
                TimeUnit.MILLISECONDS);
            r.release();
            if (r.status() != Status.GOOD) {
                throw new IOException("peer answered " + Status.name(r.status()));
            }
            return r;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException ? (IOException) e.getCause() : new IOException(e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("peer did not answer in time");
        }
    }

    /** Re-reads the metadata: opens new LUNs, closes deleted ones, fences LUNs taken from this controller. */
    synchronized void reloadMetadata() throws IOException {
        ArrayMetadata m = metadata.load();
        Map<Integer, LunRecord> seen = new HashMap<>();
        for (LunRecord r : m.luns()) {
            seen.put(r.id(), r);
            Lun l = luns.get(r.id());
            if (l == null) {
                BackingStore store;
                try {
                    store = BackingStores.open(r.backend(), dataDir, r.name(), r.bytes());
                } catch (IOException | RuntimeException e) {
                    // one LUN whose drive cannot be opened stays offline; the others are served
                    LOG.error("controller {}: LUN {} is offline: its {} store cannot be opened: {}", id, r.name(),
                        r.backend(), e.getMessage());
                    continue;
                }
                luns.put(r.id(), new Lun(r, store));
                continue;
            }
            LunRecord old = l.record;
            if (id.equals(old.owner()) && !id.equals(r.owner())) {
                // fenced: the LUN was moved or taken over; whatever is cached here is already on disk or replayed
                l.cache.clear();
                blockCache.invalidateLun(r.id());
            }
            if (!id.equals(old.owner()) && id.equals(r.owner())) {
                blockCache.invalidateLun(r.id());
                l.mirror.clear();
            }
            if (!Objects.equals(old.owner(), r.owner())) {
                l.shippedPositions.clear();
            }
            l.transitioning = false;
            l.record = r;
        }
        for (Lun l : new ArrayList<>(luns.values())) {
            if (!seen.containsKey(l.record.id())) {
                luns.remove(l.record.id());
                l.store.close();
                blockCache.invalidateLun(l.record.id());
            }
        }
        if (state == State.RUNNING) {
            recomputeAlua();
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Front end

    void onFrontEnd(ChannelHandlerContext ctx, FrontEndPort port, Session session, Frame frame) {
        State s = state;
        if (s == State.PAUSED) {
            backlog.add(() -> ctx.executor().execute(() -> onFrontEnd(ctx, port, session, frame)));
            return;
        }
        if (s != State.RUNNING) {
            frame.release();
            ctx.close();
            return;
        }
        try {
            handle(ctx, port, session, frame);
        } catch (RuntimeException e) {
            LOG.error("controller {}: {} failed", id, frame.describe(), e);
            port.reply(ctx, frame.reply(Status.MEDIUM_ERROR, Sense.IO_ERROR, 0, null));
        } finally {
            frame.release();
        }
    }

    private void handle(ChannelHandlerContext ctx, FrontEndPort port, Session session, Frame f) {
        int op = f.opcode();
        if (!known(op) || op == Opcode.ALUA_CHANGED) {
            port.reply(ctx, f.reply(Status.INVALID_OPCODE, Sense.NONE, 0, null));
            return;
        }
        if ((f.flags() & ~FrameHeader.FLAG_FUA) != 0 || f.fua() && op != Opcode.WRITE) {
            port.reply(ctx, f.reply(Status.INVALID_FIELD, Sense.BAD_FLAGS, 0, null));
            return;
        }
        if (op == Opcode.REGISTER) {
            String host = f.payload().toString(StandardCharsets.UTF_8);
            if (f.payloadLength() == 0 || f.payloadLength() > 255 || !host.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                port.reply(ctx, f.reply(Status.INVALID_FIELD, Sense.BAD_HOST_ID, 0, null));
                return;
            }
            session.host = host;
            port.reply(ctx, f.reply(Status.GOOD, Sense.NONE, 0, null));
            return;
        }
        String host = session.host;
        if (host == null) {
            port.reply(ctx, f.reply(Status.ACCESS_DENIED, Sense.NOT_REGISTERED, 0, null));
            return;
        }
        if (op == Opcode.REPORT_LUNS) {
            List<LunList.Entry> visible = new ArrayList<>();
            for (Lun l : luns.values()) {
                if (l.record.allows(host)) {
                    visible.add(new LunList.Entry(l.record.id(), l.record.bytes(), l.record.name()));
                }
            }
            visible.sort((a, b) -> Integer.compare(a.id(), b.id()));
            ByteBuf out = ctx.alloc().buffer();
            new LunList(visible).write(out);
            port.reply(ctx, f.reply(Status.GOOD, Sense.NONE, 0, out));
            return;
        }
        Lun l = luns.get(f.lun());
        if (l == null) {
            port.reply(ctx, f.reply(Status.INVALID_FIELD, Sense.UNKNOWN_LUN, 0, null));
            return;
        }
        LunRecord r = l.record;
        if (!r.allows(host)) {
            port.reply(ctx, f.reply(Status.ACCESS_DENIED, Sense.HOST_NOT_ALLOWED, 0, null));
            return;
        }
        switch (op) {
            case Opcode.INQUIRY: {
                ByteBuf out = ctx.alloc().buffer();
                new InquiryData(r.bytes(), r.blockSize(), Math.max(r.blockSize(), 4096), FrameHeader.MAX_TRANSFER,
                    InquiryData.FLAG_WRITE_CACHE | InquiryData.FLAG_DISCARD | InquiryData.FLAG_WRITE_ZEROES
                        | InquiryData.FLAG_FUA, hex(r.wwid()), r.name()).write(out);
                port.reply(ctx, f.reply(Status.GOOD, Sense.NONE, 0, out));
                return;
            }
            case Opcode.REPORT_TARGET_PORT_GROUPS: {
                ByteBuf out = ctx.alloc().buffer();
                long gen;
                List<PortGroupReport.Port> list;
                synchronized (aluaLock) {
                    gen = aluaGeneration;
                    list = portGroups(l, port);
                }
                new PortGroupReport(list).write(out);
                port.reply(ctx, f.reply(Status.GOOD, Sense.NONE, gen, out));
                return;
            }
            case Opcode.TEST_UNIT_READY:
                port.reply(ctx, f.reply(aluaState(l, id, port.isUp()).ioStatus(), Sense.NONE, 0, null));
                return;
            default:
                io(ctx, port, session, l, f);
        }
    }

    private static boolean known(int op) {
        return op >= Opcode.REGISTER && op <= Opcode.TEST_UNIT_READY || Opcode.isIo(op) || op == Opcode.ALUA_CHANGED;
    }

    private void io(ChannelHandlerContext ctx, FrontEndPort port, Session session, Lun l, Frame f) {
        int op = f.opcode();
        long cost = Math.max(MIN_REQUEST_COST, op == Opcode.READ || op == Opcode.WRITE ? Integer.toUnsignedLong(f.length()) : 0);
        boolean[] admitted = new boolean[1];
        byte[] data = op == Opcode.WRITE ? ByteBufUtil.getBytes(f.payload()) : null;
        Frame header = f.reply(Status.GOOD, Sense.NONE, 0, null);
        serve(l, op, f.fua(), f.offset(), f.length(), f.payloadLength(), data, port.index, () -> {
            FrontEndPort.FlakyMode fault = port.rollFlaky();
            if (fault == FrontEndPort.FlakyMode.DROP) {
                ctx.close();
                return DROPPED;
            }
            if (fault == FrontEndPort.FlakyMode.ERROR) {
                return IoResult.error(Status.TRANSPORT_ERROR, Sense.INJECTED);
            }
            // a host whose replies pile up unread (past the connection's high-water mark), or with too many
            // bytes of requests in progress, gets BUSY (a path status hosts retry) rather than the heap
            if (!ctx.channel().isWritable() || session.inflightBytes.addAndGet(cost) > SESSION_INFLIGHT_BYTES
                && session.inflightBytes.addAndGet(-cost) >= 0) {
                return IoResult.error(Status.BUSY, Sense.NONE);
            }
            admitted[0] = true;
            return null;
        }).whenComplete((res, err) -> {
            if (admitted[0]) {
                session.inflightBytes.addAndGet(-cost);
            }
            if (res == DROPPED) {
                return;
            }
            ByteBuf payload = res.data() == null ? null : Unpooled.wrappedBuffer(res.data());
            port.reply(ctx, header.reply(res.status(), res.sense(), res.position(), payload));
        });
    }

    // ------------------------------------------------------------------------------------------------
    // The owner's I/O

    private CompletableFuture<IoResult> executeAsOwner(Lun l, int op, boolean fua, long offset, int length, byte[] data,
                                                       boolean shipped) {
        if (l.transitioning || timersStalled(clock.nanos())) {
            return CompletableFuture.completedFuture(IoResult.error(Status.TRANSITIONING, Sense.OWNERSHIP_MOVING));
        }
        if (!l.owned()) {
            return CompletableFuture.completedFuture(IoResult.error(Status.NOT_OWNER, Sense.NONE));
        }
        l.inflight.incrementAndGet();
        if (shipped) {
            l.stats.shippedIn.increment();
            balancer.recordShipped(l.record.id());
        } else {
            balancer.recordLocal(l.record.id());
        }
        CompletableFuture<IoResult> f;
        try {
            switch (op) {
                case Opcode.READ:
                    l.stats.reads.increment();
                    l.stats.readBytes.add(length);
                    if (!l.fileBacked() || blockCache.cached(l.record.id(), offset, length)) {
                        f = CompletableFuture.completedFuture(IoResult.good(0, readOwned(l, offset, length)));
                    } else {
                        // a read that goes to the drive waits on a disk thread, never on an event loop
                        f = CompletableFuture.supplyAsync(() -> {
                            try {
                                return IoResult.good(0, readOwned(l, offset, length));
                            } catch (IOException e) {
                                LOG.error("controller {}: read of {} at {}+{} failed", id, l.record.name(), offset,
                                    length, e);
                                return IoResult.error(Status.MEDIUM_ERROR, Sense.IO_ERROR);
                            }
                        }, disk);
                    }
                    break;
                case Opcode.WRITE:
                    l.stats.writes.increment();
                    l.stats.writeBytes.add(length);
                    f = cachedWrite(l, Extent.data(offset, data, 0, length, 0), fua);
                    break;
                case Opcode.DISCARD:
                case Opcode.WRITE_ZEROES:
                    l.stats.otherOps.increment();
                    f = cachedWrite(l, Extent.zeroes(offset, Integer.toUnsignedLong(length), 0), false);
                    break;
                case Opcode.FLUSH:
                    l.stats.otherOps.increment();
                    f = CompletableFuture.supplyAsync(() -> {
                        try {
                            destageLun(l);
                            l.store.force();
                            return IoResult.good(0, null);
                        } catch (FencedException e) {
                            return IoResult.error(Status.TRANSITIONING, Sense.OWNERSHIP_MOVING);
                        } catch (IOException e) {
                            LOG.error("controller {}: flush of {} failed", id, l.record.name(), e);
                            return IoResult.error(Status.MEDIUM_ERROR, Sense.IO_ERROR);
                        }
                    }, disk);
                    break;
                default:
                    f = CompletableFuture.completedFuture(IoResult.error(Status.INVALID_OPCODE, Sense.NONE));
            }
        } catch (IOException e) {
            LOG.error("controller {}: {} on {} failed", id, Opcode.name(op), l.record.name(), e);
            f = CompletableFuture.completedFuture(IoResult.error(Status.MEDIUM_ERROR, Sense.IO_ERROR));
        } catch (RuntimeException e) {
            l.inflight.decrementAndGet();
            throw e;
        }
        return f.whenComplete((r, e) -> l.inflight.decrementAndGet());
    }

    private byte[] readOwned(Lun l, long offset, int length) throws IOException {
        // dirty extents first: if destage runs meanwhile, the disk read sees their data or the overlay supplies it
        List<Extent> dirty = l.cache.overlapping(offset, length);
        byte[] buf = new byte[length];
        if (l.fileBacked()) {
            blockCache.read(l.record.id(), l.store, offset, buf, 0, length);
        } else {
            l.store.read(offset, buf, 0, length);
        }
        ExtentMap.overlay(dirty, offset, buf, 0);
        return buf;
    }

    /**
     * A write enters the cache (and the NVRAM journal) under the next slot; it is acknowledged once mirrored
     * to the peer, or — FUA, peer down or mirror failed — once written through to disk.
     */
    private CompletableFuture<IoResult> cachedWrite(Lun l, Extent unslotted, boolean fua) throws IOException {
        if (l.cache.dataBytes() + (unslotted.isZeroes() ? 0 : unslotted.length()) > cfg.writeCacheBytes()) {
            return CompletableFuture.completedFuture(IoResult.error(Status.BUSY, Sense.CACHE_FULL));
        }
        Extent e;
        long epoch = l.record.epoch();
        synchronized (journalLock) {
            long slot = nextSlot++;
            e = new Extent(unslotted.offset(), unslotted.length(), unslotted.data(), unslotted.dataOffset(), slot);
            if (l.fileBacked()) {
                journal.append(l.record.id(), epoch, e);
                journalDirty = true;
            }
            l.cache.put(e);
        }
        if (fua || !peerSynced || peerState != PeerState.ALIVE) {
            return writeThrough(l, e);
        }
        l.stats.mirrorWrites.increment();
        ByteBuf payload = e.isZeroes() ? null : Unpooled.wrappedBuffer(e.data(), e.dataOffset(), (int) e.length());
        LinkFrame m = LinkFrame.message(LinkFrame.CHANNEL_MIRROR, LinkFrame.MIRROR_WRITE,
            e.isZeroes() ? LinkFrame.MIRROR_ZEROES : LinkFrame.MIRROR_DATA, l.record.id(), epoch,
            (int) Math.min(e.length(), Integer.MAX_VALUE), e.slot(), e.offset(), payload);
        if (e.isZeroes()) {
            m = new LinkFrame(m.channel(), m.kind(), m.op(), m.flags(), 0, m.lun(), m.epoch(), 0, 0, 0, e.slot(),
                e.offset(), Unpooled.copyLong(e.length()));
        }
        return link.request(m, l.record.id()).handle((r, err) -> {
            if (r != null) {
                int st = r.status();
                r.release();
                if (st == Status.GOOD) {
                    return CompletableFuture.completedFuture(IoResult.good(e.slot(), null));
                }
            }
            return writeThrough(l, e);
        }).thenCompose(x -> x);
    }

    /** Writes the still-current parts of a cached extent to disk, fsyncs, and drops them from the cache. */
    private CompletableFuture<IoResult> writeThrough(Lun l, Extent e) {
        l.stats.writeThroughs.increment();
        return CompletableFuture.supplyAsync(() -> {
            l.diskLock.lock();
            try {
                if (fenced(l)) {
                    return IoResult.error(Status.TRANSITIONING, Sense.OWNERSHIP_MOVING);
                }
                for (Extent part : l.cache.overlapping(e.offset(), e.length())) {
                    if (part.slot() == e.slot()) {
                        writeToStore(l.store, part);
                    }
                }
                l.store.force();
                invalidateBlocks(l, e);
                l.cache.removeIfCurrent(e);
                return IoResult.good(e.slot(), null);
            } catch (IOException ex) {
                LOG.error("controller {}: write-through to {} failed", id, l.record.name(), ex);
                return IoResult.error(Status.MEDIUM_ERROR, Sense.IO_ERROR);
            } finally {
                l.diskLock.unlock();
            }
        }, disk);
    }

    /**
     * Whether this controller must not write the LUN's disk now: it does not own it, or it was frozen and has
     * not yet re-read ownership (the peer may have taken over and written newer data to the shared drives).
     * Checked under the disk lock right before every owner's disk write.
     */
    /** A disk write refused because this controller may no longer own the LUN (see {@link #fenced}). */
    static final class FencedException extends IOException {
        FencedException(String lun) {
            super("not writing " + lun + ": ownership not confirmed");
        }
    }

    private boolean fenced(Lun l) {
        if (!l.owned() || timersStalled(clock.nanos())) {
            LOG.warn("controller {}: not writing {} to disk: {}", id, l.record.name(),
                l.owned() ? "timers stalled, ownership not re-read yet" : "not the owner any more");
            return true;
        }
        return false;
    }

    private void invalidateBlocks(Lun l, Extent e) {
        if (l.fileBacked()) {
            blockCache.invalidate(l.record.id(), e.offset(), e.length());
        }
    }

    private static void writeToStore(BackingStore store, Extent e) throws IOException {
        if (e.isZeroes()) {
            store.writeZeroes(e.offset(), e.length());
        } else {
            store.write(e.offset(), e.data(), e.dataOffset(), (int) e.length());
        }
    }

    /**
     * Writes every dirty extent of the LUN to its store and fsyncs. An extent its store refuses stays cached
     * (and journaled, see {@link #destageCycle}) and is reported; the others still go. Throws when any failed,
     * after trying them all.
     */
    private int destageLun(Lun l) throws IOException {
        l.diskLock.lock();
        try {
            if (fenced(l)) {
                throw new FencedException(l.record.name());
            }
            List<Extent> dirty = l.cache.snapshot();
            if (dirty.isEmpty()) {
                return 0;
            }
            List<Extent> written = new ArrayList<>(dirty.size());
            IOException first = null;
            int failures = 0;
            for (Extent e : dirty) {
                try {
                    writeToStore(l.store, e);
                    written.add(e);
                    if (!e.isZeroes()) {
                        l.stats.destagedBytes.add(e.length());
                    }
                } catch (IOException | RuntimeException ex) {
                    failures++;
                    if (first == null) {
                        first = new IOException("destage of " + l.record.name() + " at " + e.offset() + "+" + e.length()
                            + " failed: " + ex.getMessage(), ex);
                    }
                }
            }
            l.store.force();
            for (Extent e : written) {
                invalidateBlocks(l, e);
                l.cache.removeIfCurrent(e);
            }
            if (first != null) {
                throw new DestageException(failures, first);
            }
            return dirty.size();
        } finally {
            l.diskLock.unlock();
        }
    }

    /** Some extents of a LUN did not reach its drive; they stay in the cache. */
    static final class DestageException extends IOException {
        final int failures;

        DestageException(int failures, IOException first) {
            super(failures + " extent(s) kept in cache; first: " + first.getMessage(), first);
            this.failures = failures;
        }
    }

    /**
     * Background destage: everything the old journal segments hold reaches disk, then they are deleted. A LUN
     * whose drive refuses an extent does not hold up the others: its still-cached extents are journaled again
     * in the new segment (so the old ones can go), and it is tried again next cycle.
     */
    private void destageCycle() {
        if (state != State.RUNNING || timersStalled(clock.nanos())) {
            return;
        }
        long upTo;
        List<Path> oldSegments;
        try {
            synchronized (journalLock) {
                upTo = nextSlot - 1;
                oldSegments = journalDirty ? journal.roll() : List.of();
                journalDirty = false;
            }
        } catch (Throwable t) {
            LOG.error("controller {}: cannot roll the journal; destage waits", id, t);
            return;
        }
        boolean keepOld = false;
        for (Lun l : luns.values()) {
            if (!l.owned()) {
                continue;
            }
            try {
                destageLun(l);
                if (l.failingSinceNanos != 0) {
                    l.failingSinceNanos = 0;
                    LOG.warn("controller {}: destage of {} works again", id, l.record.name());
                }
                if (l.releasedUpTo < upTo && peerSynced) {
                    l.releasedUpTo = upTo;
                    link.send(LinkFrame.message(LinkFrame.CHANNEL_MIRROR, LinkFrame.MIRROR_RELEASE, 0, l.record.id(),
                        l.record.epoch(), 0, upTo, 0, null));
                }
            } catch (FencedException e) {
                keepOld = true;
            } catch (DestageException e) {
                if (l.failingSinceNanos == 0) {
                    l.failingSinceNanos = clock.nanos();
                    LOG.error("controller {}: {}: {}; retrying every cycle", id, l.record.name(), e.getMessage());
                }
                keepOld |= !rejournal(l);
            } catch (Throwable t) {
                LOG.error("controller {}: destage of {} failed; will retry", id, l.record.name(), t);
                keepOld |= !rejournal(l);
            }
        }
        try {
            if (keepOld) {
                synchronized (journalLock) {
                    journalDirty = true;
                }
            } else {
                CacheJournal.delete(oldSegments);
            }
        } catch (Throwable t) {
            LOG.error("controller {}: cannot delete destaged journal segments", id, t);
        }
    }

    /** Appends the LUN's still-cached extents to the current journal segment; false if that failed. */
    private boolean rejournal(Lun l) {
        if (!l.fileBacked()) {
            return true;
        }
        try {
            synchronized (journalLock) {
                for (Extent e : l.cache.snapshot()) {
                    journal.append(l.record.id(), l.record.epoch(), e);
                }
                journalDirty = true;
            }
            return true;
        } catch (IOException | RuntimeException e) {
            LOG.error("controller {}: cannot journal {}'s cached extents again; old segments kept", id, l.record.name(), e);
            return false;
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Shipping

    private CompletableFuture<IoResult> ship(Lun l, int op, boolean fua, long offset, int length, byte[] data, int port) {
        long t0 = clock.nanos();
        LinkFrame m = LinkFrame.message(LinkFrame.CHANNEL_SHIP, LinkFrame.SHIP_IO, op, l.record.id(), l.record.epoch(),
            length, port, offset, data == null ? null : Unpooled.wrappedBuffer(data)).withFlags(fua ? LinkFrame.FLAG_FUA : 0);
        return link.request(m, 0).handle((r, err) -> {
            if (r == null) {
                return IoResult.error(Status.NOT_OWNER, Sense.LINK_DOWN);
            }
            try {
                l.stats.shippedOut.increment();
                l.stats.shippedOutBytes.add(op == Opcode.READ || op == Opcode.WRITE ? length : 0);
                l.stats.shipLatencyNanos.recordValue(Math.max(0, Math.min(clock.nanos() - t0,
                    l.stats.shipLatencyNanos.getHighestTrackableValue())));
                if (r.status() != Status.GOOD) {
                    return IoResult.error(r.status(), r.sense());
                }
                if (op == Opcode.READ ? r.payload().readableBytes() != length : r.payload().isReadable()) {
                    LOG.warn("controller {}: shipped {} of {} bytes answered with {} bytes by {}; failing it", id,
                        Opcode.name(op), length, r.payload().readableBytes(), peerId);
                    return IoResult.error(Status.MEDIUM_ERROR, Sense.PAYLOAD_MISMATCH);
                }
                if (op == Opcode.WRITE || op == Opcode.WRITE_ZEROES || op == Opcode.DISCARD) {
                    l.shippedPositions.put(Extent.zeroes(offset, Integer.toUnsignedLong(length), r.source()));
                }
                return IoResult.good(r.source(), op == Opcode.READ ? ByteBufUtil.getBytes(r.payload()) : null);
            } finally {
                r.release();
            }
        });
    }

    /** Non-owner's record: the owner's storage position of the last shipped write covering {@code offset}, or -1. */
    public long shippedPosition(String lunName, long offset) {
        Lun l = lunByName(lunName);
        if (l == null) {
            return -1;
        }
        List<Extent> e = l.shippedPositions.overlapping(offset, 1);
        return e.isEmpty() ? -1 : e.get(0).slot();
    }

    // ------------------------------------------------------------------------------------------------
    // Other host-facing protocols

    /**
     * Runs {@code r} now if this controller is running, or when it resumes if it is paused (a frozen
     * controller answers nothing); false if it is stopped or killed.
     */
    public boolean runWhenServing(Runnable r) {
        State s = state;
        if (s == State.PAUSED) {
            backlog.add(r);
            return true;
        }
        if (s != State.RUNNING) {
            return false;
        }
        r.run();
        return true;
    }

    /**
     * Changes a LUN's reservation state in the array metadata (under its cross-process lock, so both
     * controllers see one order), then tells the peer. {@code change} returns the outcome and the new state;
     * returning the same state object writes nothing. Blocks on the metadata file: not for event loops.
     */
    public <T> T updateReservation(int lunId,
            java.util.function.Function<io.jmpio.emu.array.LunReservation,
                Map.Entry<T, io.jmpio.emu.array.LunReservation>> change) throws IOException {
        requireRunning();
        Object[] outcome = new Object[1];
        boolean[] changed = new boolean[1];
        metadata.update(m -> {
            LunRecord cur = m.byId(lunId);
            if (cur == null) {
                throw new IllegalArgumentException("no LUN " + lunId);
            }
            Map.Entry<T, io.jmpio.emu.array.LunReservation> e = change.apply(cur.reservation());
            outcome[0] = e.getKey();
            changed[0] = e.getValue() != cur.reservation();
            return changed[0] ? m.with(cur.withReservation(e.getValue())) : m;
        });
        if (changed[0]) {
            reloadMetadata();
            notifyPeerMetadata();
        }
        @SuppressWarnings("unchecked")
        T t = (T) outcome[0];
        return t;
    }

    /** Registers a protocol served with this controller (before {@link #start()}). */
    public void addFrontEnd(HostFrontEnd f) {
        frontEnds.add(f);
    }

    /** The LUNs this controller serves now (records as of its last metadata read). */
    public List<LunRecord> lunRecords() {
        List<LunRecord> out = new ArrayList<>();
        for (Lun l : luns.values()) {
            out.add(l.record);
        }
        out.sort((a, b) -> Integer.compare(a.id(), b.id()));
        return out;
    }

    /** The access state of a LUN through this controller's ports (UNAVAILABLE for one it does not know). */
    public AluaState accessState(int lunId) {
        Lun l = luns.get(lunId);
        return l == null ? AluaState.UNAVAILABLE : aluaState(l, id, true);
    }

    /**
     * One block request from a host on any protocol: checked as every request is ({@link IoCheck}), then
     * served by the owner path here or shipped to the owner. A paused controller holds it until it resumes.
     */
    public CompletableFuture<IoResult> hostIo(int lunId, int op, boolean fua, long offset, int length, byte[] data,
                                              int portIndex) {
        State s = state;
        if (s == State.PAUSED) {
            CompletableFuture<IoResult> later = new CompletableFuture<>();
            backlog.add(() -> hostIo(lunId, op, fua, offset, length, data, portIndex)
                .whenComplete((r, e) -> later.complete(r != null ? r : IoResult.error(Status.MEDIUM_ERROR, Sense.IO_ERROR))));
            return later;
        }
        if (s != State.RUNNING) {
            return CompletableFuture.completedFuture(IoResult.error(Status.UNAVAILABLE, Sense.NONE));
        }
        Lun l = luns.get(lunId);
        if (l == null) {
            return CompletableFuture.completedFuture(IoResult.error(Status.INVALID_FIELD, Sense.UNKNOWN_LUN));
        }
        return serve(l, op, fua, offset, length, data == null ? 0 : data.length, data, portIndex, () -> null);
    }

    /** Marks a request an injected fault dropped: nothing is answered. */
    private static final IoResult DROPPED = IoResult.error(Status.TRANSPORT_ERROR, Sense.INJECTED);

    /**
     * The one path of a host's block request, whatever its protocol: the checks ({@link IoCheck}, access
     * state), then {@code admit} (the front end's own refusals: injected faults, a full connection; null lets
     * it through), the controller's memory budget, and the owner path here or shipping to the owner.
     */
    private CompletableFuture<IoResult> serve(Lun l, int op, boolean fua, long offset, int length, long payloadLength,
                                              byte[] data, int portIndex, java.util.function.Supplier<IoResult> admit) {
        int check = IoCheck.check(op, offset, Integer.toUnsignedLong(length), payloadLength, l.record);
        if (check != 0) {
            l.stats.errors.increment();
            return CompletableFuture.completedFuture(IoResult.error(IoCheck.status(check), IoCheck.sense(check)));
        }
        AluaState st = aluaState(l, id, true);
        if (!st.servesIo()) {
            return CompletableFuture.completedFuture(IoResult.error(st.ioStatus(), st == AluaState.TRANSITIONING
                ? Sense.OWNERSHIP_MOVING : st == AluaState.STANDBY ? Sense.LINK_DOWN : Sense.NONE));
        }
        IoResult refused = admit.get();
        if (refused != null) {
            return CompletableFuture.completedFuture(refused);
        }
        long cost = Math.max(MIN_REQUEST_COST, op == Opcode.READ || op == Opcode.WRITE ? Integer.toUnsignedLong(length) : 0);
        if (inflightBytes.addAndGet(cost) > CONTROLLER_INFLIGHT_BYTES) {
            inflightBytes.addAndGet(-cost);
            return CompletableFuture.completedFuture(IoResult.error(Status.BUSY, Sense.NONE));
        }
        CompletableFuture<IoResult> result;
        try {
            result = l.owned() ? executeAsOwner(l, op, fua, offset, length, data, false)
                : ship(l, op, fua, offset, length, data, portIndex);
        } catch (RuntimeException e) {
            inflightBytes.addAndGet(-cost);
            throw e;
        }
        return result.handle((r, err) -> {
            inflightBytes.addAndGet(-cost);
            if (err != null) {
                LOG.error("controller {}: {} on {} failed", id, Opcode.name(op), l.record.name(), err);
                r = IoResult.error(Status.MEDIUM_ERROR, Sense.IO_ERROR);
            }
            if (r.status() != Status.GOOD) {
                l.stats.errors.increment();
            }
            return r;
        });
    }

    // ------------------------------------------------------------------------------------------------
    // Link events

    private byte[] helloPayload() {
        List<PeerInfo.PortInfo> list = new ArrayList<>();
        for (FrontEndPort p : ports) {
            list.add(new PeerInfo.PortInfo(p.address(), p.isUp()));
        }
        try {
            List<String> nvme = new ArrayList<>();
            for (HostFrontEnd f : frontEnds) {
                nvme.addAll(f.addresses());
            }
            return JSON.writeValueAsBytes(new PeerInfo(id, incarnation, adminAddress, list, nvme));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void announcePorts() {
        link.send(LinkFrame.message(LinkFrame.CHANNEL_MANAGEMENT, LinkFrame.MANAGEMENT, LinkFrame.OP_PEER_INFO, 0, 0, 0,
            0, 0, Unpooled.wrappedBuffer(helloPayload())));
        recomputeAlua();
    }

    private final class LinkEvents implements InterControllerLink.Handler {
        @Override
        public void onHello(byte[] payload) {
            if (state == State.PAUSED) {
                backlog.add(() -> onHello(payload));
                return;
            }
            try {
                PeerInfo info = JSON.readValue(payload, PeerInfo.class).checked(peerId, MAX_PORTS_PER_CONTROLLER);
                PeerInfo previous = peerInfo;
                peerInfo = info;
                if (previous != null && previous.incarnation() != info.incarnation() && peerState == PeerState.ALIVE
                    && state == State.RUNNING) {
                    LOG.info("controller {}: peer {} restarted; resynchronising", id, peerId);
                    ops.execute(Controller.this::resync);
                }
                recomputeAlua();
            } catch (IOException | IllegalArgumentException e) {
                LOG.warn("controller {}: refused the peer's description of itself: {}", id, e.getMessage());
            }
        }

        @Override
        public void onHeartbeat() {
            if (state == State.RUNNING) {
                monitor.linkHeartbeat(clock.nanos());
            }
        }

        @Override
        public void onManagementDown() {
            // the monitor notices the silence; nothing is decided on a closed socket alone
        }

        @Override
        public CompletableFuture<LinkFrame> onRequest(LinkFrame f) {
            State s = state;
            if (s == State.PAUSED) {
                CompletableFuture<LinkFrame> later = new CompletableFuture<>();
                backlog.add(() -> onRequest(f).whenComplete((r, e) -> later.complete(r)));
                return later;
            }
            if (s != State.RUNNING) {
                f.release();
                return null;
            }
            Lun l = luns.get(f.lun());
            switch (f.kind()) {
                case LinkFrame.SHIP_IO: {
                    if (l == null) {
                        f.release();
                        return CompletableFuture.completedFuture(f.reply(Status.INVALID_FIELD, Sense.UNKNOWN_LUN, 0, null));
                    }
                    int problem = IoCheck.check(f.op(), f.destination(), Integer.toUnsignedLong(f.length()),
                        f.payload().readableBytes(), l.record);
                    if (problem == 0 && (f.source() < 0 || f.source() >= MAX_PORTS_PER_CONTROLLER)) {
                        problem = Status.INVALID_FIELD << 16 | Sense.NONE;
                    }
                    if (problem != 0) {
                        LOG.warn("controller {}: refused shipped {} on {} at {}+{} ({} payload bytes) from {}: {}", id,
                            Opcode.name(f.op()), l.record.name(), f.destination(), Integer.toUnsignedLong(f.length()),
                            f.payload().readableBytes(), peerId, Status.name(IoCheck.status(problem)));
                        f.release();
                        return CompletableFuture.completedFuture(f.reply(IoCheck.status(problem), IoCheck.sense(problem),
                            0, null));
                    }
                    byte[] data = f.op() == Opcode.WRITE ? ByteBufUtil.getBytes(f.payload()) : null;
                    f.release();
                    return executeAsOwner(l, f.op(), (f.flags() & LinkFrame.FLAG_FUA) != 0, f.destination(), f.length(),
                        data, true).thenApply(r -> f.reply(r.status(), r.sense(), r.position(),
                            r.data() == null ? null : Unpooled.wrappedBuffer(r.data())));
                }
                case LinkFrame.MIRROR_WRITE: {
                    try {
                        if (l == null || l.owned() || !peerId.equals(l.record.owner())
                            || f.epoch() < (l.record.epoch() & 0xFFFFFFFFL)) {
                            // only the LUN's owner mirrors to its partner, and only for its current ownership
                            return CompletableFuture.completedFuture(f.reply(Status.NOT_OWNER, Sense.NONE, 0, null));
                        }
                        if (f.op() != LinkFrame.MIRROR_DATA && f.op() != LinkFrame.MIRROR_ZEROES) {
                            return CompletableFuture.completedFuture(f.reply(Status.INVALID_OPCODE, Sense.NONE, 0, null));
                        }
                        long covered = f.op() == LinkFrame.MIRROR_ZEROES && f.payload().readableBytes() == Long.BYTES
                            ? f.payload().getLong(f.payload().readerIndex()) : Integer.toUnsignedLong(f.length());
                        int problem = IoCheck.checkMirror(f.op() == LinkFrame.MIRROR_ZEROES, f.destination(), covered,
                            f.payload().readableBytes(), l.record);
                        if (problem != 0) {
                            LOG.warn("controller {}: refused mirrored extent of {} at {}+{} ({} payload bytes) from {}: {}",
                                id, l.record.name(), f.destination(), covered, f.payload().readableBytes(), peerId,
                                Status.name(IoCheck.status(problem)));
                            return CompletableFuture.completedFuture(f.reply(IoCheck.status(problem),
                                IoCheck.sense(problem), 0, null));
                        }
                        if (f.op() == LinkFrame.MIRROR_ZEROES) {
                            l.mirror.put(Extent.zeroes(f.destination(), f.payload().getLong(f.payload().readerIndex()),
                                f.source()));
                        } else {
                            byte[] data = ByteBufUtil.getBytes(f.payload());
                            l.mirror.put(Extent.data(f.destination(), data, 0, data.length, f.source()));
                        }
                        return CompletableFuture.completedFuture(f.reply(Status.GOOD, Sense.NONE, 0, null));
                    } finally {
                        f.release();
                    }
                }
                case LinkFrame.MIRROR_RELEASE:
                    f.release();
                    if (l != null && !l.owned() && peerId.equals(l.record.owner())) {
                        l.mirror.releaseUpTo(f.source());
                    }
                    return null;
                case LinkFrame.MANAGEMENT:
                    return management(f, l);
                default:
                    f.release();
                    return CompletableFuture.completedFuture(f.reply(Status.INVALID_OPCODE, Sense.NONE, 0, null));
            }
        }

        private CompletableFuture<LinkFrame> management(LinkFrame f, Lun l) {
            byte[] payload = ByteBufUtil.getBytes(f.payload());
            f.release();
            switch (f.op()) {
                case LinkFrame.OP_PEER_INFO:
                    onHello(payload);
                    return null;
                case LinkFrame.OP_TRANSITION_BEGIN:
                case LinkFrame.OP_TRANSITION_ABORT:
                    if (l == null || !peerId.equals(l.record.owner())) {
                        // only the owner moves a LUN away; anything else would freeze a LUN it cannot move
                        LOG.warn("controller {}: refused a transition of LUN {} from {}, which does not own it", id,
                            f.lun(), peerId);
                        return CompletableFuture.completedFuture(f.reply(l == null ? Status.INVALID_FIELD
                            : Status.NOT_OWNER, l == null ? Sense.UNKNOWN_LUN : Sense.NONE, 0, null));
                    }
                    l.transitioning = f.op() == LinkFrame.OP_TRANSITION_BEGIN;
                    l.transitionSinceNanos = clock.nanos();
                    recomputeAlua();
                    return CompletableFuture.completedFuture(f.reply(Status.GOOD, Sense.NONE, 0, null));
                case LinkFrame.OP_MIRROR_RESET:
                    if (l == null || !peerId.equals(l.record.owner())) {
                        return CompletableFuture.completedFuture(f.reply(l == null ? Status.INVALID_FIELD
                            : Status.NOT_OWNER, l == null ? Sense.UNKNOWN_LUN : Sense.NONE, 0, null));
                    }
                    l.mirror.clear();
                    return CompletableFuture.completedFuture(f.reply(Status.GOOD, Sense.NONE, 0, null));
                case LinkFrame.OP_METADATA_CHANGED:
                    return CompletableFuture.supplyAsync(() -> {
                        try {
                            reloadMetadata();
                            return f.reply(Status.GOOD, Sense.NONE, 0, null);
                        } catch (IOException e) {
                            LOG.error("controller {}: cannot reload metadata", id, e);
                            return f.reply(Status.MEDIUM_ERROR, Sense.IO_ERROR, 0, null);
                        }
                    }, ops);
                default:
                    return CompletableFuture.completedFuture(f.reply(Status.INVALID_OPCODE, Sense.NONE, 0, null));
            }
        }
    }

    // ------------------------------------------------------------------------------------------------
    // ALUA

    /** The ALUA state of controller {@code c}'s ports for LUN {@code l}, as this controller sees it. */
    private AluaState aluaState(Lun l, String c, boolean portUp) {
        if (!portUp) {
            return AluaState.UNAVAILABLE;
        }
        if (c.equals(id) ? state != State.RUNNING : peerState == PeerState.DEAD || peerInfo == null) {
            return AluaState.UNAVAILABLE;
        }
        if (l.transitioning || c.equals(id) && timersStalled(clock.nanos())) {
            // Until the timer has re-read ownership after a freeze, nothing is served on possibly stale state.
            return AluaState.TRANSITIONING;
        }
        if (c.equals(l.record.owner())) {
            return AluaState.ACTIVE_OPTIMIZED;
        }
        return peerState == PeerState.ALIVE ? AluaState.ACTIVE_NON_OPTIMIZED : AluaState.STANDBY;
    }

    private List<PortGroupReport.Port> portGroups(Lun l, FrontEndPort reporting) {
        List<PortGroupReport.Port> out = new ArrayList<>();
        for (String c : ArrayConfig.PAIR) {
            int group = ArrayConfig.PAIR.indexOf(c) + 1;
            int prefFlag = c.equals(l.record.preferredOwner()) ? PortGroupReport.FLAG_PREFERRED : 0;
            if (c.equals(id)) {
                for (FrontEndPort p : ports) {
                    out.add(new PortGroupReport.Port(group, group * 16 + p.index + 1, aluaState(l, c, p.isUp()),
                        prefFlag | (p == reporting ? PortGroupReport.FLAG_REPORTING_PORT : 0), c, p.address()));
                }
            } else if (peerInfo != null) {
                int i = 0;
                for (PeerInfo.PortInfo p : peerInfo.ports()) {
                    out.add(new PortGroupReport.Port(group, group * 16 + ++i, aluaState(l, c, p.up()), prefFlag, c,
                        p.address()));
                }
            }
        }
        return out;
    }

    /** Recomputes every LUN's port states; hosts registered here get a notice for each LUN that changed. */
    private void recomputeAlua() {
        synchronized (aluaLock) {
            recomputeAluaLocked();
        }
    }

    private void recomputeAluaLocked() {
        if (state != State.RUNNING) {
            return;
        }
        List<Integer> changed = new ArrayList<>();
        for (Lun l : luns.values()) {
            List<String> row = new ArrayList<>();
            for (PortGroupReport.Port p : portGroups(l, null)) {
                row.add(p.address() + "=" + p.state().code());
            }
            if (!row.equals(aluaTable.put(l.record.id(), row))) {
                changed.add(l.record.id());
            }
        }
        boolean removed = aluaTable.keySet().retainAll(luns.keySet());
        if (changed.isEmpty() && !removed) {
            return;
        }
        for (HostFrontEnd f : frontEnds) {
            f.accessChanged();
        }
        if (changed.isEmpty()) {
            return;
        }
        aluaGeneration++;
        for (int lunId : changed) {
            Lun l = luns.get(lunId);
            for (FrontEndPort p : ports) {
                for (Channel ch : p.sessions) {
                    Session s = ch.attr(FrontEndHandler.SESSION).get();
                    if (s != null && s.host != null && l.record.allows(s.host) && ch.isActive()) {
                        ch.writeAndFlush(new Frame(Opcode.ALUA_CHANGED, FrameHeader.FLAG_NOTICE, FrameHeader.NOTICE_TAG,
                            lunId, Status.GOOD, Sense.NONE, 0, 0, aluaGeneration, null));
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Management

    private Lun lunByName(String name) {
        for (Lun l : luns.values()) {
            if (l.record.name().equals(name)) {
                return l;
            }
        }
        return null;
    }

    private Lun requireLun(String name) throws IOException {
        Lun l = lunByName(name);
        if (l == null) {
            throw new java.nio.file.NoSuchFileException("no LUN named '" + name + "'");
        }
        return l;
    }

    private void requireRunning() throws IOException {
        if (state != State.RUNNING) {
            throw new IOException("controller " + id + " is " + state.name().toLowerCase());
        }
    }

    /** Creates a LUN (metadata first, then both controllers open it). */
    public LunRecord createLun(LunSpec spec) throws IOException {
        requireRunning();
        BackingStores.checkKind(spec.backend());
        if (!ArrayConfig.PAIR.contains(spec.owner())) {
            throw new IllegalArgumentException("unknown owner '" + spec.owner() + "' (A or B)");
        }
        if (metadata.load().byName(spec.name()) != null) {
            throw new IllegalArgumentException("a LUN named '" + spec.name() + "' already exists");
        }
        LunStorage.provision(spec, dataDir, cfg.maxLunBytes());
        LunRecord[] created = new LunRecord[1];
        try {
            metadata.update(m -> {
                if (m.byName(spec.name()) != null) {
                    throw new IllegalArgumentException("a LUN named '" + spec.name() + "' already exists");
                }
                created[0] = io.jmpio.emu.array.LunRecords.create(m.nextId(), spec);
                return m.with(created[0]);
            });
        } catch (IOException | RuntimeException e) {
            if (created[0] == null || metadata.load().byName(spec.name()) == null) {
                BackingStores.destroy(spec.backend(), dataDir, spec.name()); // no record: no drive either
            }
            throw e;
        }
        reloadMetadata();
        notifyPeerMetadata();
        return created[0];
    }

    private static byte[] hex(String s) {
        byte[] out = new byte[16];
        for (int i = 0; i < 16 && 2 * i + 1 < s.length(); i++) {
            out[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }

    public void deleteLun(String name) throws IOException {
        requireRunning();
        Lun l = requireLun(name);
        LunRecord r = l.record;
        metadata.update(m -> m.without(r.id()));
        reloadMetadata();
        notifyPeerMetadata();
        BackingStores.destroy(r.backend(), dataDir, r.name());
    }

    public void resizeLun(String name, long bytes) throws IOException {
        requireRunning();
        Lun l = requireLun(name);
        if (bytes <= 0 || bytes % l.record.blockSize() != 0) {
            throw new IllegalArgumentException("new size must be a positive multiple of " + l.record.blockSize()
                + " bytes, got " + bytes);
        }
        LunStorage.checkSize(bytes, cfg.maxLunBytes());
        int lunId = l.record.id();
        if (l.owned()) {
            destageLun(l);
        }
        l.store.resize(bytes);
        metadata.update(m -> m.with(m.byId(lunId).withBytes(bytes)));
        blockCache.invalidateLun(lunId);
        reloadMetadata();
        notifyPeerMetadata();
    }

    public void setAllowedHosts(String name, List<String> hosts) throws IOException {
        requireRunning();
        int lunId = requireLun(name).record.id();
        if (hosts.size() > 256) {
            throw new IllegalArgumentException(hosts.size() + " allowed hosts; at most 256");
        }
        for (String h : hosts) {
            if (h == null || h.isEmpty() || h.length() > 223 || !h.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                throw new IllegalArgumentException("'" + h + "' is not a host id (1-223 printable characters)");
            }
        }
        metadata.update(m -> m.with(m.byId(lunId).withAllowedHosts(hosts)));
        reloadMetadata();
        notifyPeerMetadata();
    }

    /** Moves ownership; only the owner can (the admin endpoint forwards to it). Waits for the move. */
    public void moveLun(String name, String target) throws IOException {
        requireRunning();
        if (!ArrayConfig.PAIR.contains(target)) {
            throw new IllegalArgumentException("unknown controller '" + target + "' (A or B)");
        }
        Lun l = requireLun(name);
        if (target.equals(l.record.owner())) {
            return;
        }
        if (!l.owned()) {
            throw new NotOwnerException(name, l.record.owner());
        }
        if (!l.moving.compareAndSet(false, true)) {
            throw new IOException("LUN " + name + " is already moving");
        }
        try {
            ops.submit(() -> {
                move(l, target);
                return null;
            }).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException ? (IOException) e.getCause() : new IOException(e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("move of " + name + " did not finish in 30 s");
        } finally {
            l.moving.set(false);
        }
    }

    private void notifyPeerMetadata() {
        if (peerState == PeerState.ALIVE) {
            try {
                managementRequest(LinkFrame.OP_METADATA_CHANGED, 0, null);
            } catch (IOException e) {
                LOG.warn("controller {}: peer did not confirm a metadata change: {}", id, e.getMessage());
            }
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Faults

    private FrontEndPort port(String address) {
        for (FrontEndPort p : ports) {
            if (p.address().equals(address)) {
                return p;
            }
        }
        return null;
    }

    public boolean hasPort(String address) {
        if (port(address) != null) {
            return true;
        }
        for (HostFrontEnd f : frontEnds) {
            if (f.addresses().contains(address)) {
                return true;
            }
        }
        return false;
    }

    private FrontEndPort requirePort(String address) {
        FrontEndPort p = port(address);
        if (p == null) {
            throw new IllegalArgumentException("controller " + id + " has no port " + address + " (ports: "
                + portAddresses() + ")");
        }
        return p;
    }

    public void setPortDown(String address, boolean down) throws IOException {
        for (HostFrontEnd f : frontEnds) {
            if (f.setPortDown(address, down)) {
                return;
            }
        }
        requirePort(address).setAdminDown(down);
        announcePorts();
    }

    public void setPortLatency(String address, long millis) {
        for (HostFrontEnd f : frontEnds) {
            if (f.setPortLatency(address, millis)) {
                return;
            }
        }
        requirePort(address).setLatencyMillis(millis);
    }

    public void setPortFlaky(String address, double rate, String mode) {
        if (rate < 0 || rate > 1) {
            throw new IllegalArgumentException("flaky rate must be within 0..1, got " + rate);
        }
        if (!List.of("error", "drop", "mixed").contains(mode.toLowerCase(java.util.Locale.ROOT))) {
            throw new IllegalArgumentException("unknown flaky mode '" + mode + "' (error, drop, mixed)");
        }
        for (HostFrontEnd f : frontEnds) {
            if (f.setPortFlaky(address, rate, mode.toLowerCase(java.util.Locale.ROOT))) {
                return;
            }
        }
        FrontEndPort.FlakyMode m;
        try {
            m = FrontEndPort.FlakyMode.valueOf(mode.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown flaky mode '" + mode + "' (error, drop, mixed)");
        }
        requirePort(address).setFlaky(rate, m);
    }

    public void setLinkLatency(long millis) {
        link.setLatencyMillis(millis);
    }

    public void partitionLink() {
        link.partition();
    }

    public void healLink() {
        link.heal();
    }

    // ------------------------------------------------------------------------------------------------
    // Status

    /** This controller's own view, as the admin endpoint reports it. */
    public Map<String, Object> localStatus() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("state", state.name().toLowerCase());
        m.put("transport", transport.kind());
        m.put("admin", adminAddress);
        Map<String, Object> linkInfo = new LinkedHashMap<>();
        linkInfo.put("address", link.boundAddress().getHostString() + ":" + link.boundAddress().getPort());
        linkInfo.put("peer", peerId);
        linkInfo.put("peerState", peerState.name().toLowerCase());
        linkInfo.put("mirroring", peerSynced);
        linkInfo.put("partitioned", link.isPartitioned());
        linkInfo.put("latencyMs", link.latencyMillis());
        linkInfo.put("channels", Map.of("management", 1, "ship", link.dataChannels(), "mirror", link.dataChannels()));
        linkInfo.put("connectedChannels", link.connectedChannels());
        m.put("link", linkInfo);
        List<Object> portList = new ArrayList<>();
        List<Object> sessions = new ArrayList<>();
        for (FrontEndPort p : ports) {
            Map<String, Object> pm = new LinkedHashMap<>();
            pm.put("address", p.address());
            pm.put("up", p.isUp());
            pm.put("sessions", p.sessions.size());
            pm.put("latencyMs", p.latencyMillis());
            pm.put("flakyRate", p.flakyRate());
            pm.put("flakyMode", p.flakyMode().name().toLowerCase());
            pm.put("requests", p.requests.sum());
            pm.put("errors", p.errors.sum());
            pm.put("injectedFaults", p.injected.sum());
            portList.add(pm);
            for (Channel ch : p.sessions) {
                Session s = ch.attr(FrontEndHandler.SESSION).get();
                if (s != null) {
                    sessions.add(Map.of("host", s.host == null ? "" : s.host, "port", p.address(), "remote", s.remote,
                        "connectedAtMillis", s.connectedAtMillis));
                }
            }
        }
        for (HostFrontEnd f : frontEnds) {
            sessions.addAll(f.sessions());
        }
        m.put("ports", portList);
        m.put("sessions", sessions);
        List<Object> lunList = new ArrayList<>();
        List<Lun> sorted = new ArrayList<>(luns.values());
        sorted.sort((a, b) -> Integer.compare(a.record.id(), b.record.id()));
        for (Lun l : sorted) {
            LunRecord r = l.record;
            Map<String, Object> lm = new LinkedHashMap<>();
            lm.put("name", r.name());
            lm.put("id", r.id());
            lm.put("bytes", r.bytes());
            lm.put("blockSize", r.blockSize());
            lm.put("nsid", r.id() + 1);
            lm.put("backend", r.backend());
            lm.put("wwid", r.wwid());
            lm.put("owner", r.owner());
            lm.put("preferredOwner", r.preferredOwner());
            lm.put("epoch", r.epoch());
            lm.put("failedOver", r.failedOver());
            lm.put("transitioning", l.transitioning);
            lm.put("allowedHosts", r.allowedHosts());
            Map<String, String> alua = new LinkedHashMap<>();
            if (state == State.RUNNING) {
                for (PortGroupReport.Port p : portGroups(l, null)) {
                    alua.put(p.address(), p.state().label());
                }
            }
            lm.put("alua", alua);
            lm.put("dirtyBytes", l.cache.dataBytes());
            lm.put("mirroredBytes", l.mirror.dataBytes());
            lm.put("shippedWriteRanges", l.shippedPositions.size());
            lm.put("stats", l.stats.toMap());
            lunList.add(lm);
        }
        m.put("luns", lunList);
        m.put("aluaGeneration", aluaGeneration);
        m.put("readCacheBytes", blockCache.weightedBytes());
        return m;
    }
}
