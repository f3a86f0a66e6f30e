package io.jmpio.emu.controller;

import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.LunRecord;
import io.jmpio.emu.array.LunReservation;
import io.jmpio.emu.array.LunSpec;
import io.jmpio.emu.array.MetadataStore;
import io.jmpio.emu.cache.BlockCache;
import io.jmpio.emu.controller.PeerMonitor.PeerState;
import io.jmpio.emu.link.InterControllerLink;
import io.jmpio.emu.link.LinkSecurity;
import io.netty.buffer.ByteBuf;
import io.jmpio.netty.NettyTransport;
import io.jmpio.emu.security.SecretFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One controller of the pair: its life cycle (start, kill, pause, resume, shutdown), and the calls the front
 * ends, the admin endpoint and fault injection make on it. The jobs behind those live beside it, each in one
 * class: {@link HostRequests} (the one route of a host's request),
 * {@link PeerWatch} (the timer round: heartbeats and the verdict on the peer), the host front end (NVMe/TCP,
 * a {@link HostFrontEnd} in its own package), {@link OwnerIo} and {@link Destager} with {@link Nvram} (the
 * owner's cache), {@link Shipper}, {@link LocalReads} and {@link MirrorGrants} (shipping, reads under the
 * owner's lease, shipped-write positions), {@link LinkMessages} (what the peer sends), {@link AccessTable}
 * (ALUA/ANA), {@link Ownership} (resync, takeover, moves), {@link MetadataFollower} (the LUNs open here, kept in
 * step with the metadata), {@link LunAdmin}, {@link PortFaultVerbs} and {@link StatusReport}.
 *
 * <p>Threads besides the event loops: {@code timer} (heartbeats, mailbox, peer verdicts, failback and
 * auto-transfer checks; never blocks on disk), {@code ops} (takeover, moves, resync: the slow, serialised state
 * changes), {@code destage} and {@code disk} (media writes and fsyncs).
 */
public final class Controller {
    private static final Logger LOG = LoggerFactory.getLogger(Controller.class);

    public enum State { STOPPED, RUNNING, PAUSED, KILLED }

    /**
     * The host-facing protocol served by this controller (NVMe/TCP): started and stopped with it, and told
     * when the access state of any LUN through this controller, or the set of LUNs, changed.
     */
    public interface HostFrontEnd {
        void bind() throws IOException;

        void close();

        /** Called with the access table's lock held: must not block; hand work to an event loop. */
        void accessChanged();

        /** Every port of this protocol ("host:port"), up or down (fault verbs name them). */
        List<String> addresses();

        /** The ports hosts can connect to now, told to the peer so that its discovery lists them too. */
        default List<String> upAddresses() {
            return addresses();
        }

        /** The hosts connected now, as status entries (host, port, remote, connectedAtMillis, ...). */
        List<Map<String, Object>> sessions();

        /** Fault: take one of this protocol's ports down or up; false when {@code address} is not one of them. */
        boolean setPortDown(String address, boolean down) throws IOException;

        /** Fault: delay every command on the port; false when not one of its ports. */
        boolean setPortLatency(String address, long millis);

        /** Fault: fail (error), drop the connection (drop) or either (mixed) for a share of I/O commands. */
        boolean setPortFlaky(String address, double rate, String mode);

        /** Each port's state, faults and counters, for status. */
        List<Map<String, Object>> portStatus();

        /** I/O counters by host identity (reads, writes, bytes, errors), for the hosts this protocol counts. */
        default Map<String, Map<String, Long>> hostStatistics() {
            return Map.of();
        }
    }

    /** Thrown by management calls that only the LUN's owner can carry out. */
    public static final class NotOwnerException extends IOException {
        public final String owner;

        NotOwnerException(String lun, String owner) {
            super("LUN " + lun + " is owned by controller " + owner);
            this.owner = owner;
        }
    }

    /** Front-end ports a controller can have (a shipped request names the one it came in on). */
    static final int MAX_PORTS_PER_CONTROLLER = 8;

    final String id;
    final String peerId;
    final ArrayConfig cfg;
    final NettyTransport transport;
    final Clock clock;
    final Path dataDir;
    final MetadataStore metadata;
    final List<HostFrontEnd> frontEnds = new CopyOnWriteArrayList<>();
    final ConcurrentHashMap<Integer, Lun> luns = new ConcurrentHashMap<>();
    final BlockCache blockCache;
    /** What a paused controller holds until it resumes, and in which order it runs then. */
    final PauseGate pauseGate = new PauseGate();

    final LinkMessages links;
    final InterControllerLink link;
    final Nvram nvram;
    final OwnerIo ownerIo;
    final Destager destager;
    final Shipper shipper;
    final LocalReads localReads;
    final MirrorGrants grants;
    final WriteStreams streams;
    final AccessTable access;
    final Ownership ownership;
    final OwnerFence ownerFence;
    final LunAdmin admin;
    private final HostRegistry hosts;
    private final HostRequests requests;
    private final PeerWatch watch;
    private final StatusReport status;
    private final MetadataFollower follower;
    private final PortFaultVerbs portFaults;

    volatile State state = State.STOPPED;
    /**
     * Set the moment this controller is killed or paused: from then on it writes nothing more to the shared
     * drives, not even the rest of a destage under way (each extent checks it), so a peer that takes over never
     * has its newer data overwritten by this controller's older copy. Cleared by start and by resume (after
     * the metadata is read again, which fences a controller whose LUNs were taken meanwhile).
     */
    volatile boolean diskFenced;
    volatile long incarnation;
    Mailbox mailbox;
    final DestagedMark destagedMark;
    PeerMonitor monitor;
    OwnershipBalancer balancer;
    volatile PeerState peerState = PeerState.PARTITIONED;
    volatile boolean peerSynced;
    /** The peer runs in this process (so memory LUNs are the same memory on both; see {@link LocalReads}). */
    volatile boolean peerInProcess;
    volatile long peerAliveSinceNanos;
    volatile PeerInfo peerInfo;
    volatile boolean failedBackSinceAlive;
    volatile String adminAddress = "";
    /**
     * When this controller's own timer last ran: a gap longer than the peer's timeout means a freeze. Tests set
     * it back to freeze the controller at an exact point of its work.
     */
    volatile long lastTickNanos;
    ScheduledExecutorService timer;
    ScheduledExecutorService ops;
    private ScheduledExecutorService destageTimer;
    ExecutorService disk;

    public Controller(String id, ArrayConfig cfg, NettyTransport transport, Clock clock) throws IOException {
        this.id = id;
        this.peerId = ArrayConfig.peerOf(id);
        this.cfg = cfg;
        this.transport = transport;
        this.clock = clock;
        this.dataDir = cfg.dataDir();
        this.metadata = new MetadataStore(dataDir);
        this.blockCache = new BlockCache(cfg.readCacheBytes());
        this.nvram = new Nvram(id, dataDir.resolve("nvram").resolve(id), clock);
        this.links = new LinkMessages(this);
        this.ownerIo = new OwnerIo(this);
        this.destager = new Destager(this);
        this.destagedMark = new DestagedMark(this);
        this.shipper = new Shipper(this);
        this.localReads = new LocalReads(this);
        this.grants = new MirrorGrants(this, TimeUnit.MILLISECONDS.toNanos(cfg.heartbeatTimeoutMillis()));
        this.access = new AccessTable(this);
        this.streams = new WriteStreams(this);
        this.ownership = new Ownership(this);
        this.ownerFence = new OwnerFence(this);
        this.admin = new LunAdmin(this);
        this.hosts = new HostRegistry(this);
        this.requests = new HostRequests(this);
        this.watch = new PeerWatch(this);
        this.status = new StatusReport(this);
        this.follower = new MetadataFollower(this);
        this.portFaults = new PortFaultVerbs(this);
        this.link = new InterControllerLink(id, peerId, transport,
            new InetSocketAddress(cfg.linkListenAddress(), cfg.portFor(id, 1)), cfg.linkChannels(),
            Math.max(2 * cfg.heartbeatTimeoutMillis(), 1000), links, links::helloPayload, linkSecurity(cfg));
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

    /** Every front-end port ("host:port"), up or down. */
    public List<String> portAddresses() {
        List<String> out = new ArrayList<>();
        for (HostFrontEnd f : frontEnds) {
            out.addAll(f.addresses());
        }
        return out;
    }

    /** The front-end ports hosts can connect to now. */
    List<String> upPortAddresses() {
        List<String> out = new ArrayList<>();
        for (HostFrontEnd f : frontEnds) {
            out.addAll(f.upAddresses());
        }
        return out;
    }

    public InetSocketAddress linkAddress() {
        return link.boundAddress();
    }

    public void setPeerLinkAddress(InetSocketAddress address) {
        link.setPeerAddress(address);
    }

    /** The peer controller runs in this process: a memory LUN is the same memory on both. */
    public void setPeerInProcess() {
        peerInProcess = true;
    }

    /** The peer's front-end ports that are up, as it told us over the link; empty if unknown. */
    public List<String> peerFrontEndAddresses() {
        PeerInfo p = peerInfo;
        return p == null ? List.of() : p.ports();
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
            throw new IllegalStateException("controller " + id + " is already " + state.name().toLowerCase(Locale.ROOT));
        }
        incarnation = ThreadLocalRandom.current().nextLong();
        diskFenced = false;
        mailbox = new Mailbox(dataDir, id, peerId);
        boolean peerRunning;
        try {
            peerRunning = new PeerAtStart(this).joinPeer();
        } catch (IOException | RuntimeException e) {
            mailbox.close();
            throw e;
        }
        ownerFence.start(mailbox.peer());
        nvram.open(metadata, dataDir);
        nvram.markInUse();
        luns.clear();
        reloadMetadata();
        if (!peerRunning) {
            // the peer is not running either: the whole array was down, which is a power loss to its hosts
            admin.powerLost();
            reloadMetadata();
        }
        long now = clock.nanos();
        lastTickNanos = now;
        monitor = new PeerMonitor(TimeUnit.MILLISECONDS.toNanos(cfg.heartbeatTimeoutMillis()), now);
        balancer = new OwnershipBalancer(cfg.autoTransferThreshold(),
            TimeUnit.MILLISECONDS.toNanos(cfg.autoTransferWindowMillis()), cfg.autoTransferMinIos(), now);
        peerState = PeerState.PARTITIONED;
        peerSynced = false;
        timer = Executors.newSingleThreadScheduledExecutor(daemon("jmpio-" + id + "-timer"));
        ops = Executors.newSingleThreadScheduledExecutor(daemon("jmpio-" + id + "-ops"));
        destageTimer = Executors.newSingleThreadScheduledExecutor(daemon("jmpio-" + id + "-destage"));
        disk = Executors.newFixedThreadPool(2, daemon("jmpio-" + id + "-disk"));
        try {
            for (HostFrontEnd f : frontEnds) {
                f.bind();
            }
            link.start();
        } catch (IOException e) {
            for (HostFrontEnd f : frontEnds) {
                f.close();
            }
            link.stop();
            shutdownExecutors();
            throw e;
        }
        state = State.RUNNING;
        timer.scheduleWithFixedDelay(watch::tick, 0, cfg.heartbeatIntervalMillis(), TimeUnit.MILLISECONDS);
        destageTimer.scheduleWithFixedDelay(destager::cycle, cfg.destageIntervalMillis(), cfg.destageIntervalMillis(),
            TimeUnit.MILLISECONDS);
        access.recompute();
        LOG.info("controller {} started: ports {}, link {}, {} LUN(s)", id, portAddresses(),
            link.boundAddress().getPort(), luns.size());
    }

    private static ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + (n.incrementAndGet() > 1 ? "-" + n.get() : ""));
            t.setDaemon(true);
            return t;
        };
    }

    /** Abrupt stop, as a controller that loses power: no destage; the peer takes over from its mirror. */
    public synchronized void kill() {
        if (state == State.KILLED || state == State.STOPPED) {
            return;
        }
        diskFenced = true;
        awaitDiskIdle();
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
        for (HostFrontEnd f : frontEnds) {
            quietly("closing " + f.addresses(), f::close);
        }
        boolean emptied = true;
        for (Lun l : luns.values()) {
            if (l.owned()) {
                try {
                    destager.destageLun(l);
                    l.store.force();
                } catch (IOException | RuntimeException e) {
                    LOG.error("controller {}: destage of {} at shutdown failed; the journal keeps it", id, l.name(), e);
                    nvram.keepDirty();
                    emptied = false;
                }
            }
        }
        if (emptied) {
            nvram.markEmptied();
        }
        stopServing();
    }

    /** Closes everything this controller serves with; each step runs even if an earlier one failed. */
    private void stopServing() {
        for (HostFrontEnd f : frontEnds) {
            quietly("closing " + f.addresses(), f::close);
        }
        quietly("stopping the link", link::stop);
        quietly("stopping executors", this::shutdownExecutors);
        pauseGate.clear(); // dropped: the connections they would answer are closed
        streams.clear();
        for (Lun l : luns.values()) {
            l.cache.clear();
            l.mirror.clear();
            quietly("closing " + l.name(), () -> {
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
                nvram.close();
                if (mailbox != null) {
                    mailbox.close();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        access.clear();
    }

    void quietly(String what, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            LOG.warn("controller {}: {} failed: {}", id, what, e.toString());
        }
    }

    private void shutdownExecutors() {
        ExecutorService[] all = {timer, ops, destageTimer, disk};
        for (ExecutorService e : all) {
            if (e != null) {
                e.shutdownNow();
            }
        }
        // a task under way (a metadata write, a resync) finishes before the controller counts as stopped, so
        // nothing of it lands in the data directory afterwards; bounded, so a stuck task cannot hang a stop
        for (ExecutorService e : all) {
            try {
                if (e != null && !e.awaitTermination(5, TimeUnit.SECONDS)) {
                    LOG.warn("controller {}: a background task did not end within 5 s of the stop", id);
                }
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Fault: alive but silent — no heartbeats, no answers. What arrives (hosts' PDUs, the peer's messages) is held
     * until {@link #resume()}, which re-reads ownership first and then runs it in arrival order against what it
     * finds: a host command whose connection closed meanwhile is dropped, and a request that had already reached
     * the I/O route is answered "transitioning", as a thawed process answers.
     */
    public synchronized void pause() {
        if (state != State.RUNNING) {
            throw new IllegalStateException("controller " + id + " is " + state.name().toLowerCase(Locale.ROOT)
                + ", not running");
        }
        pauseGate.close();
        diskFenced = true;
        awaitDiskIdle();
        state = State.PAUSED;
        LOG.warn("controller {} paused", id);
    }

    /**
     * Waits until no disk write of this controller is under way (each holds its LUN's disk lock), so none lands
     * after the heartbeats stop and the peer may take over. Bounded: a drive that hangs does not hang the fault.
     */
    private void awaitDiskIdle() {
        for (Lun l : luns.values()) {
            try {
                if (l.diskLock.tryLock(5, TimeUnit.SECONDS)) {
                    l.diskLock.unlock();
                } else {
                    LOG.warn("controller {}: a disk write of {} is still under way", id, l.name());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Ends a pause. The metadata is read again first: a peer that took over meanwhile fences this controller. */
    public synchronized void resume() throws IOException {
        if (state != State.PAUSED) {
            throw new IllegalStateException("controller " + id + " is " + state.name().toLowerCase(Locale.ROOT)
                + ", not paused");
        }
        reloadMetadata();
        diskFenced = false;
        monitor.restartObservation(clock.nanos());
        lastTickNanos = clock.nanos();
        peerState = PeerState.PARTITIONED;
        peerSynced = false;
        forgetPositions();
        state = State.RUNNING;
        // before anything held runs: the peer may find this controller dead on what it saw during the pause
        ownerFence.closeAfterGap("a pause");
        pauseGate.open();
        access.recompute();
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
    // Timers and the peer

    boolean timersStalled(long now) {
        return now - lastTickNanos > TimeUnit.MILLISECONDS.toNanos(cfg.heartbeatTimeoutMillis());
    }

    /** Shipped-write positions are only believed while the peer was watched without a break. */
    void forgetPositions() {
        for (Lun l : luns.values()) {
            shipper.forget(l);
        }
    }

    void resync() {
        ownership.resync();
    }

    /** Re-reads the metadata: opens new LUNs, closes deleted ones, fences LUNs taken from this controller. */
    synchronized void reloadMetadata() throws IOException {
        follower.reload();
    }

    void requireRunning() throws IOException {
        if (state != State.RUNNING) {
            throw new IOException("controller " + id + " is " + state.name().toLowerCase(Locale.ROOT));
        }
    }

    // ------------------------------------------------------------------------------------------------
    // A host's request

    /** Whether this controller is paused (frozen: it answers nothing until it resumes). */
    public boolean paused() {
        return pauseGate.closed();
    }

    /**
     * Runs {@code r} now if this controller is running, or when it resumes if it is paused (a frozen
     * controller answers nothing); false if it is stopped or killed.
     */
    public boolean runWhenServing(Runnable r) {
        if (pauseGate.closed() && pauseGate.hold(r)) {
            return true;
        }
        State s = state;
        if (s != State.RUNNING) {
            return false;
        }
        r.run();
        return true;
    }

    /** Registers a protocol served with this controller (before {@link #start()}). */
    public void addFrontEnd(HostFrontEnd f) {
        frontEnds.add(f);
    }

    /** The record of LUN {@code id} as of this controller's last metadata read, or null (looked up per command). */
    public LunRecord lunRecord(int id) {
        Lun l = luns.get(id);
        return l == null ? null : l.record;
    }

    /** The named LUN's record, or null; a LUN the partner has just created is found too. */
    public LunRecord lunRecord(String name) throws IOException {
        Lun l = admin.find(name);
        return l == null ? null : l.record;
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
        return l == null ? AluaState.UNAVAILABLE : access.state(l, id, true);
    }

    /**
     * One block request from a host on any protocol: checked as every request is ({@link IoCheck}), then
     * served by the owner path here or shipped to the owner. A paused controller holds it until it resumes.
     */
    public CompletableFuture<IoResult> hostIo(int lunId, int op, boolean fua, long offset, int length, ByteBuf data,
                                              int portIndex) {
        return requests.hostIo(lunId, op, fua, offset, length, data, portIndex);
    }

    /**
     * A host's write whose data comes after the command (NVMe R2T): checked as {@link #hostIo} checks it, and
     * begun once the owner has room for it; a refusal says why not (retryable statuses for a full cache).
     */
    public CompletableFuture<HostWrite> beginHostWrite(int lunId, boolean fua, long offset, int length, int portIndex) {
        return requests.beginHostWrite(lunId, fua, offset, length, portIndex);
    }

    /** Non-owner's record: the owner's storage position of the last shipped write covering {@code offset}, or -1. */
    public long shippedPosition(String lunName, long offset) {
        Lun l = admin.byName(lunName);
        return l == null ? -1 : shipper.position(l, offset);
    }

    // ------------------------------------------------------------------------------------------------
    // Management

    /** Creates a LUN (metadata first, then both controllers open it). */
    public LunRecord createLun(LunSpec spec) throws IOException {
        return admin.create(spec);
    }

    public void deleteLun(String name) throws IOException {
        admin.delete(name);
    }

    public void resizeLun(String name, long bytes) throws IOException {
        admin.resize(name, bytes);
    }

    public void setAllowedHosts(String name, List<String> hosts) throws IOException {
        admin.setAllowedHosts(name, hosts);
    }

    /** Moves ownership; only the owner can (the admin endpoint forwards to it). Waits for the move. */
    public void moveLun(String name, String target) throws IOException {
        admin.move(name, target);
    }

    /**
     * Changes a LUN's reservation state in the array metadata (under its cross-process lock, so both
     * controllers see one order), then tells the peer. {@code change} returns the outcome and the new state;
     * returning the same state object writes nothing. Blocks on the metadata file: not for event loops.
     */
    public <T> T updateReservation(int lunId, Function<LunReservation, Map.Entry<T, LunReservation>> change)
            throws IOException {
        return admin.updateReservation(lunId, change);
    }

    /**
     * Records a host's connection (its NQN and 16-byte host identifier, hex) in the array metadata: hosts are
     * registered with the array, not just with a connection. Done on the ops thread; never blocks the caller.
     */
    public void registerHost(String nqn, String hostIdHex) {
        hosts.register(nqn, hostIdHex);
    }

    /** The hosts registered with the array (from the metadata). */
    public List<io.jmpio.emu.array.HostRecord> registeredHosts() throws IOException {
        return metadata.load().hosts();
    }

    // ------------------------------------------------------------------------------------------------
    // Faults

    public boolean hasPort(String address) {
        return portFaults.hasPort(address);
    }

    public void setPortDown(String address, boolean down) throws IOException {
        portFaults.setPortDown(address, down);
    }

    public void setPortLatency(String address, long millis) {
        portFaults.setPortLatency(address, millis);
    }

    /** Fails (error), drops the connection (drop) or either (mixed) for a share {@code rate} of I/O commands. */
    public void setPortFlaky(String address, double rate, String mode) {
        portFaults.setPortFlaky(address, rate, mode);
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

    /** This controller's own view, as the admin endpoint reports it. */
    public Map<String, Object> localStatus() {
        return status.render();
    }
}
