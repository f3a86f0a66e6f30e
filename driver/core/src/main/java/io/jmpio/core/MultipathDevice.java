package io.jmpio.core;

import io.jmpio.api.BalancingPolicy;
import io.jmpio.api.BlockDevice;
import io.jmpio.api.DeviceInfo;
import io.jmpio.api.IoCallback;
import io.jmpio.api.IoErrorKind;
import io.jmpio.api.IoOp;
import io.jmpio.netty.NettyTransport;
import io.jmpio.transport.AccessState;
import io.jmpio.transport.Discovery;
import io.jmpio.transport.PathSession;
import io.jmpio.transport.PathTransport;
import io.jmpio.transport.PathTransports;
import io.jmpio.transport.PortInfo;
import io.jmpio.transport.TargetInfo;
import io.jmpio.transport.TransportContext;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import io.netty.channel.EventLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The multipath block device: one LUN or namespace reached over every port the target reports, through a
 * path transport (the array protocol, NVMe/TCP). {@link #open} discovers the paths from any portal, opens a
 * control session on each, and starts the I/O queues, the path checker, the periodic scan and the statistics
 * tick. Requests go to the usable paths of the active group (ALUA port group, ANA state), chosen among them
 * by the balancing policy; a path that fails is failed for every queue and what it held is re-issued elsewhere.
 */
public final class MultipathDevice implements BlockDevice {
    private static final Logger LOG = LoggerFactory.getLogger(MultipathDevice.class);
    /** Discard and write-zeroes ranges are sent in pieces of at most this many bytes (the frame's u32 length). */
    static final long MAX_RANGE_PIECE = 1L << 30;
    private static final int MAX_EVENTS = 64;

    final MultipathConfig config;
    final Ticker ticker;
    final NettyTransport ioTransport;
    private final NettyTransport adminTransport;
    private final ScheduledExecutorService scheduler;
    private final ExecutorService probePool;
    private final IoQueue[] queues;
    private final ThreadLocal<IoQueue> currentQueue = new ThreadLocal<>();
    final CopyOnWriteArrayList<Path> paths = new CopyOnWriteArrayList<>();
    private final Object topologyLock = new Object();
    private final GroupSelector selector;
    volatile Topology topology = Topology.EMPTY;
    private final Policies policies;
    volatile BalancingPolicy policy;
    volatile String policyName;
    private volatile Map<String, String> policyOptions;
    final PathStats stats = new PathStats();
    final AtomicInteger parkedCount = new AtomicInteger();
    volatile boolean closed;
    private final CompletableFuture<Void> closedFuture = new CompletableFuture<>();
    private final AtomicBoolean refreshRunning = new AtomicBoolean();
    private final AtomicBoolean refreshAgain = new AtomicBoolean();
    private final Deque<String> events = new ArrayDeque<>();
    private long windowStartNanos;
    private volatile DeviceInfo info;
    private final PathTransport transport;
    private final TransportContext context;
    /** Whether the last refresh heard every port (array reports); if not, the periodic scan rediscovers. */
    private volatile boolean reportsListEveryPort = true;

    private MultipathDevice(MultipathConfig config, Policies policies, BalancingPolicy policy) {
        this.config = config;
        this.ticker = config.ticker();
        this.policies = policies;
        this.policy = policy;
        this.policyName = config.policy();
        this.policyOptions = Map.copyOf(config.policyOptions());
        this.selector = new GroupSelector(config.failback(), ticker);
        this.ioTransport = NettyTransport.create("jmpio-io", config.ioQueues());
        this.adminTransport = NettyTransport.create("jmpio-admin", 1);
        this.transport = PathTransports.from(config.pluginLoader()).create(config.transport());
        this.context = new TransportContext(config.hostId(), hostIdentifier(config.hostId()), config.lun(),
            config.ioQueues(), adminTransport.group(), adminTransport.channelClass(), config.connectTimeoutMillis(),
            Math.max(config.probeTimeoutMillis(), 1000), Math.max(5000, 10 * config.checkIntervalMillis()));
        this.scheduler = Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("jmpio-check", true));
        this.probePool = Executors.newCachedThreadPool(new DefaultThreadFactory("jmpio-probe", true));
        List<IoQueue> qs = new ArrayList<>();
        for (EventExecutor e : ioTransport.group()) {
            IoQueue q = new IoQueue(this, (EventLoop) e, qs.size());
            qs.add(q);
            e.execute(() -> currentQueue.set(q));
        }
        this.queues = qs.toArray(new IoQueue[0]);
    }

    /**
     * Attaches: finds the LUN through the first portal that answers, reads its port groups, registers the
     * host on every path, and starts serving. Fails with a message naming the problem (no portal reachable,
     * LUN unknown, registration refused, unknown policy).
     */
    public static MultipathDevice open(MultipathConfig config) throws IOException {
        config.validate();
        Policies policies = Policies.from(config.pluginLoader());
        BalancingPolicy policy = policies.create(config.policy(), config.policyOptions());
        MultipathDevice d = new MultipathDevice(config, policies, policy);
        try {
            d.discover();
            d.start();
        } catch (IOException | RuntimeException e) {
            d.close();
            throw e;
        }
        return d;
    }

    // ------------------------------------------------------------------------------------------------
    // Discovery, registration, port-group reports

    private void discover() throws IOException {
        List<String> errors = new ArrayList<>();
        for (String portal : config.portals()) {
            try {
                Discovery d = transport.discover(context, portal);
                TargetInfo t = d.target();
                info = new DeviceInfo(config.name(), t.id(), t.sizeBytes(), t.logicalBlockSize(), t.physicalBlockSize(),
                    t.maxTransferBytes(), t.volatileWriteCache(), t.discard(), t.writeZeroes(), t.fua());
                applyReport(d.ports(), true, false);
                event("attached " + d.description() + " over " + transport.name() + ": " + d.ports().size()
                    + " ports reported");
                return;
            } catch (IOException | RuntimeException e) {
                errors.add(portal + ": " + e.getMessage());
            }
        }
        throw new IOException("cannot attach " + (config.lun() == null ? "" : "'" + config.lun() + "' ") + "over "
            + transport.name() + ": " + String.join("; ", errors));
    }

    /** The 16-byte host identifier sent with the host's name: derived from it, so the same on every path and run. */
    static byte[] hostIdentifier(String hostName) {
        java.util.UUID u = java.util.UUID.nameUUIDFromBytes(("jmpio-host:" + hostName).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return java.nio.ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits()).array();
    }

    private static String label(AccessState s) {
        return s.label();
    }

    /**
     * Takes in ports and their states: new ports become paths, states are updated; when {@code everyPort},
     * ports missing from the list have gone and fail.
     */
    private void applyReport(List<PortInfo> ports, boolean everyPort, boolean byScan) {
        List<Path> gone = new ArrayList<>();
        synchronized (topologyLock) {
            if (everyPort) {
                for (Path p : paths) {
                    p.reported = false;
                }
            }
            for (PortInfo port : ports) {
                Path p = pathAt(port.address());
                if (p == null) {
                    p = new Path(paths.size(), port);
                    paths.add(p);
                    if (byScan) {
                        event("discovered path " + p.id + " (" + p.address + ") by scan");
                        probeSoon(p);
                    }
                }
                p.reported = true;
                p.preferred = port.preferred();
                p.group = port.group();
                if (p.access != port.state()) {
                    if (!closed && p.everUp) {
                        event("path " + p.id + " " + label(p.access) + " -> " + label(port.state()));
                    }
                    p.access = port.state();
                }
            }
            if (everyPort) {
                for (Path p : paths) {
                    if (!p.reported && p.health == Path.Health.UP) {
                        gone.add(p);
                    }
                }
            }
            republishLocked();
        }
        for (Path p : gone) {
            pathFailed(p, "no longer reported by the target");
        }
    }

    private Path pathAt(String address) {
        for (Path p : paths) {
            if (p.address.equals(address)) {
                return p;
            }
        }
        return null;
    }

    /** Asks for a fresh port-group report; concurrent asks collapse into one more report after the current. */
    void requestRefresh(String why) {
        if (closed) {
            return;
        }
        if (!refreshRunning.compareAndSet(false, true)) {
            refreshAgain.set(true);
            return;
        }
        LOG.debug("refreshing access states: {}", why);
        try {
            probePool.execute(this::runRefresh);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            refreshRunning.set(false);
        }
    }

    private void runRefresh() {
        try {
            do {
                refreshAgain.set(false);
                refreshOnce();
            } while (refreshAgain.get() && !closed);
        } finally {
            refreshRunning.set(false);
        }
        if (refreshAgain.get()) {
            requestRefresh("asked again meanwhile");
        }
    }

    /** Asks the paths' sessions for their states, up paths first; a report naming every port ends it. */
    private void refreshOnce() {
        List<Path> order = new ArrayList<>();
        for (Path p : paths) {
            if (p.health == Path.Health.UP) {
                order.add(0, p);
            } else {
                order.add(p);
            }
        }
        boolean everyPort = false;
        for (Path p : order) {
            PathSession s = p.session;
            if (s == null || !s.isOpen() || closed) {
                continue;
            }
            try {
                PathSession.Report r = s.report();
                applyReport(r.ports(), r.everyPort(), true);
                if (r.everyPort()) {
                    everyPort = true;
                    break;
                }
            } catch (IOException | RuntimeException e) {
                LOG.debug("state report from {} failed: {}", p.id, e.getMessage());
            }
        }
        reportsListEveryPort = everyPort;
    }

    /** The periodic scan: fresh states, and (when reports name only their own port) the portals asked again. */
    private void scan() {
        requestRefresh("periodic scan");
        if (reportsListEveryPort || closed) {
            return;
        }
        for (String portal : config.portals()) {
            try {
                applyReport(transport.discover(context, portal).ports(), true, true);
                return;
            } catch (IOException | RuntimeException e) {
                LOG.debug("rescan through {} failed: {}", portal, e.getMessage());
            }
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Path checker

    private void start() throws IOException {
        CountDownLatch first = new CountDownLatch(paths.size());
        for (Path p : paths) {
            p.probing.set(true);
            probePool.execute(() -> {
                try {
                    probe(p);
                } finally {
                    first.countDown();
                }
            });
        }
        try {
            first.await(config.connectTimeoutMillis() + 2 * config.probeTimeoutMillis() + 500, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while checking paths");
        }
        synchronized (topologyLock) {
            for (Path p : paths) {
                p.recovered = false;
            }
            // the first choice is the best group once every path was checked, not whichever answered first
            // (manual failback would otherwise keep I/O on a worse group it happened to see first)
            selector.requestFailback();
            republishLocked();
        }
        long queueTick = Math.max(5, Math.min(100, config.ioTimeoutMillis() / 4));
        for (IoQueue q : queues) {
            q.loop.scheduleAtFixedRate(q::tick, queueTick, queueTick, TimeUnit.MILLISECONDS);
        }
        scheduler.scheduleWithFixedDelay(guard(this::checkTick), config.checkIntervalMillis(), config.checkIntervalMillis(),
            TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(guard(this::statsTick), 1000, 1000, TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(guard(() -> probePool.execute(guard(this::scan))), config.scanIntervalMillis(),
            config.scanIntervalMillis(), TimeUnit.MILLISECONDS);
        windowStartNanos = ticker.nanos();
        int up = 0;
        for (Path p : paths) {
            up += p.health == Path.Health.UP ? 1 : 0;
        }
        event("serving: " + up + " of " + paths.size() + " paths up, policy " + policyName);
    }

    private static Runnable guard(Runnable r) {
        return () -> {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.error("periodic task failed", e);
            }
        };
    }

    private void checkTick() {
        for (Path p : paths) {
            if (p.health != Path.Health.OFFLINE) {
                probeSoon(p);
            }
        }
        synchronized (topologyLock) {
            if (selector.failbackPending()) {
                republishLocked();
            }
        }
    }

    private void probeSoon(Path p) {
        if (closed || !p.probing.compareAndSet(false, true)) {
            return;
        }
        try {
            probePool.execute(() -> probe(p));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            p.probing.set(false);
        }
    }

    /** A probe on the path's control session (opening it first when needed). */
    private void probe(Path p) {
        try {
            PathSession s = p.session;
            if (s == null || !s.isOpen()) {
                closeSession(p);
                s = transport.openPath(context, portOf(p), () -> requestRefresh("notice from " + p.id));
                p.session = s;
            }
            probeAnswered(p, s.probe());
        } catch (PathSession.AccessDeniedException e) {
            closeSession(p);
            if (p.health == Path.Health.UP) {
                pathFailed(p, e.getMessage());
            } else if (p.health == Path.Health.FAILED) {
                p.reason = e.getMessage();
            }
        } catch (IOException | RuntimeException e) {
            closeSession(p);
            if (p.health == Path.Health.UP) {
                pathFailed(p, "probe: " + e.getMessage());
            } else if (p.health == Path.Health.FAILED) {
                p.reason = "probe: " + e.getMessage();
            }
        } finally {
            p.probing.set(false);
        }
    }

    private static PortInfo portOf(Path p) {
        return new PortInfo(p.address, p.id, p.controller, p.group, p.portId, p.access, p.preferred, false);
    }

    private void probeAnswered(Path p, PathSession.Probe probe) {
        boolean stale = probe.servesIo() != p.access.servesIo();
        if (probe.state() != null && probe.state() != p.access && !closed) {
            // the probe told the state itself (NVMe: the path's ANA state): take it as it is
            synchronized (topologyLock) {
                if (p.everUp) {
                    event("path " + p.id + " " + label(p.access) + " -> " + label(probe.state()));
                }
                p.access = probe.state();
                p.group = groupOf(p, probe.state());
                republishLocked();
            }
            stale = true;
        }
        if (p.health == Path.Health.FAILED && !closed) {
            synchronized (topologyLock) {
                if (p.health != Path.Health.FAILED) {
                    return;
                }
                p.health = Path.Health.UP;
                p.reason = "";
                p.recovered = p.everUp;
                event("path " + p.id + " (" + p.address + ") " + (p.everUp ? "restored" : "up"));
                p.everUp = true;
                republishLocked();
            }
            stale = true;
        }
        if (stale) {
            requestRefresh("probe of " + p.id + (probe.state() == null ? (probe.servesIo() ? ": serves I/O" : ": does not serve I/O")
                : ": " + label(probe.state())));
        }
    }

    /** A path's group after a state change its probe told: transports grouping by state move it, others keep it. */
    private int groupOf(Path p, AccessState state) {
        return reportsListEveryPort ? p.group : state == AccessState.OPTIMIZED ? 1 : state == AccessState.NON_OPTIMIZED ? 2 : 3;
    }

    private void closeSession(Path p) {
        PathSession s = p.session;
        p.session = null;
        if (s != null) {
            try {
                s.close();
            } catch (RuntimeException e) {
                LOG.debug("closing the session of {}", p.id, e);
            }
        }
    }

    /** Fails a path for every queue (idempotent); what its connections held is re-issued elsewhere. */
    void pathFailed(Path p, String reason) {
        synchronized (topologyLock) {
            if (p.health != Path.Health.UP) {
                return;
            }
            p.health = Path.Health.FAILED;
            p.reason = reason;
            p.failures.incrementAndGet();
            event("path " + p.id + " (" + p.address + ") failed: " + reason);
            republishLocked();
        }
        abandonEverywhere(p, reason);
    }

    private void abandonEverywhere(Path p, String reason) {
        for (IoQueue q : queues) {
            try {
                q.loop.execute(() -> q.abandon(p, reason));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                LOG.debug("queue {} already stopped", q.index);
            }
        }
    }

    /** Recomputes the active group; a change goes to the policy and wakes requests waiting for a path. */
    private void republishLocked() {
        Topology old = topology;
        Topology t = selector.select(paths);
        if (t.sameRoute(old)) {
            return;
        }
        topology = t;
        StringBuilder ids = new StringBuilder();
        for (Path p : t.usable) {
            ids.append(ids.length() == 0 ? "" : ",").append(p.id);
        }
        if (t.usable.length == 0) {
            event(t.waitForTransition ? "no usable path: waiting for the access-state transition" : "no usable path");
        } else {
            event("I/O on " + groupName(t.activeGroup) + " (" + t.activeState.label() + "): " + ids);
        }
        try {
            policy.pathsChanged(t.views);
        } catch (RuntimeException e) {
            LOG.error("policy {} threw on a path change", policyName, e);
        }
        if (t.usable.length > 0) {
            for (IoQueue q : queues) {
                try {
                    q.loop.execute(q::releaseParked);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    LOG.debug("queue {} already stopped", q.index);
                }
            }
        }
    }

    private String groupName(int group) {
        if (group == Topology.MARGINAL_GROUP) {
            return "the marginal group";
        }
        for (Path p : paths) {
            if (p.group == group) {
                return "group " + group + " (controller " + p.controller + ")";
            }
        }
        return "group " + group;
    }

    // ------------------------------------------------------------------------------------------------
    // Statistics and marginal paths

    private void statsTick() {
        long now = ticker.nanos();
        stats.roll(now);
        for (Path p : paths) {
            p.stats.roll(now);
        }
        evaluateMarginal(now);
    }

    /**
     * Moves paths whose error rate, failure count or latency over the window is far worse than their peers'
     * to the marginal group, and puts marginal paths back on probation when their recheck time comes.
     */
    private void evaluateMarginal(long now) {
        boolean changed = false;
        synchronized (topologyLock) {
            for (Path p : paths) {
                if (p.marginal && now - p.marginalUntilNanos >= 0) {
                    p.marginal = false;
                    event("path " + p.id + " leaves the marginal group on probation");
                    changed = true;
                }
            }
            if (changed) {
                republishLocked();
            }
        }
        if (now - windowStartNanos < TimeUnit.MILLISECONDS.toNanos(config.marginalWindowMillis())) {
            return;
        }
        windowStartNanos = now;
        int n = paths.size();
        long[] ios = new long[n];
        long[] errors = new long[n];
        long[] mean = new long[n];
        int[] fails = new int[n];
        List<Long> means = new ArrayList<>();
        for (Path p : paths) {
            long i = p.stats.ios.sum();
            long e = p.stats.pathErrors.sum();
            long l = p.stats.latencySumNanos.sum();
            int f = p.failures.get();
            ios[p.index] = i - p.windowIos;
            errors[p.index] = e - p.windowErrors;
            fails[p.index] = f - p.windowFailures;
            mean[p.index] = ios[p.index] > 0 ? (l - p.windowLatencyNanos) / ios[p.index] : 0;
            p.windowIos = i;
            p.windowErrors = e;
            p.windowLatencyNanos = l;
            p.windowFailures = f;
            if (ios[p.index] >= config.marginalMinIos()) {
                means.add(mean[p.index]);
            }
        }
        changed = false;
        synchronized (topologyLock) {
            for (Path p : paths) {
                if (p.marginal || p.health == Path.Health.OFFLINE) {
                    continue;
                }
                int i = p.index;
                long attempts = ios[i] + errors[i];
                String why = null;
                if (config.marginalErrorRate() > 0 && attempts >= config.marginalMinIos()
                    && errors[i] >= config.marginalErrorRate() * attempts) {
                    why = String.format("%d errors in %d requests", errors[i], attempts);
                } else if (fails[i] >= 3) {
                    why = fails[i] + " failures";
                } else if (config.marginalLatencyFactor() > 0 && ios[i] >= config.marginalMinIos() && means.size() > 1) {
                    long peers = medianWithout(means, mean[i]);
                    if (peers > 0 && mean[i] > config.marginalLatencyFactor() * peers
                        && mean[i] > TimeUnit.MILLISECONDS.toNanos(config.marginalLatencyFloorMillis())) {
                        why = String.format("mean latency %.2f ms against %.2f ms on the other paths", mean[i] / 1e6, peers / 1e6);
                    }
                }
                if (why != null) {
                    p.marginal = true;
                    p.marginalStrikes++;
                    long recheck = TimeUnit.MILLISECONDS.toNanos(config.marginalRecheckMillis()) << Math.min(p.marginalStrikes - 1, 6);
                    p.marginalUntilNanos = now + recheck;
                    event("path " + p.id + " is marginal (" + why + " in " + config.marginalWindowMillis()
                        + " ms); recheck in " + TimeUnit.NANOSECONDS.toMillis(recheck) + " ms");
                    changed = true;
                } else if (attempts >= config.marginalMinIos() && errors[i] == 0 && fails[i] == 0) {
                    p.marginalStrikes = 0;
                }
            }
            if (changed) {
                republishLocked();
            }
        }
    }

    private static long medianWithout(List<Long> values, long own) {
        List<Long> others = new ArrayList<>(values);
        others.remove(Long.valueOf(own));
        if (others.isEmpty()) {
            return 0;
        }
        others.sort(null);
        return others.get(others.size() / 2);
    }

    // ------------------------------------------------------------------------------------------------
    // BlockDevice

    @Override
    public DeviceInfo info() {
        return info;
    }

    public String name() {
        return config.name();
    }

    @Override
    public void read(long offset, int length, IoCallback callback) {
        submit(IoOp.READ, offset, length, null, false, callback);
    }

    @Override
    public void write(long offset, ByteBuf data, boolean fua, IoCallback callback) {
        submit(IoOp.WRITE, offset, data.readableBytes(), data, fua, callback);
    }

    @Override
    public void flush(IoCallback callback) {
        submit(IoOp.FLUSH, 0, 0, null, false, callback);
    }

    @Override
    public void discard(long offset, long length, IoCallback callback) {
        submitRange(IoOp.DISCARD, offset, length, callback);
    }

    @Override
    public void writeZeroes(long offset, long length, IoCallback callback) {
        submitRange(IoOp.WRITE_ZEROES, offset, length, callback);
    }

    private void submitRange(IoOp op, long offset, long length, IoCallback callback) {
        if (length <= MAX_RANGE_PIECE) {
            submit(op, offset, length, null, false, callback);
            return;
        }
        String problem = checkRange(op, offset, length);
        if (problem != null) {
            new Request(op, offset, 0, null, false, callback, 0).fail(kindOfProblem(problem), problem);
            return;
        }
        int pieces = (int) ((length + MAX_RANGE_PIECE - 1) / MAX_RANGE_PIECE);
        RangeCompletion joined = new RangeCompletion(pieces, callback);
        for (long at = offset; at < offset + length; at += MAX_RANGE_PIECE) {
            submit(op, at, Math.min(MAX_RANGE_PIECE, offset + length - at), null, false, joined);
        }
    }

    /** Completes a split range once every piece has, failing with the first piece's failure. */
    private static final class RangeCompletion implements IoCallback {
        private final AtomicInteger left;
        private final IoCallback callback;
        private volatile io.jmpio.api.BlockIoException failure;

        RangeCompletion(int pieces, IoCallback callback) {
            this.left = new AtomicInteger(pieces);
            this.callback = callback;
        }

        @Override
        public void completed(ByteBuf data) {
            finishOne();
        }

        @Override
        public void failed(io.jmpio.api.BlockIoException error) {
            if (failure == null) {
                failure = error;
            }
            finishOne();
        }

        private void finishOne() {
            if (left.decrementAndGet() == 0) {
                if (failure != null) {
                    callback.failed(failure);
                } else {
                    callback.completed(null);
                }
            }
        }
    }

    private void submit(IoOp op, long offset, long length, ByteBuf data, boolean fua, IoCallback callback) {
        Request r = new Request(op, offset, (int) Math.min(length, Integer.MAX_VALUE), data, fua, callback, ticker.nanos());
        if (closed) {
            r.fail(IoErrorKind.DEVICE_CLOSED, "device " + name() + " is detached");
            return;
        }
        String problem = checkRange(op, offset, length);
        if (problem != null) {
            r.fail(kindOfProblem(problem), problem);
            return;
        }
        IoQueue q = currentQueue.get();
        if (q == null) {
            q = queues[(int) Math.floorMod(Thread.currentThread().getId(), (long) queues.length)];
        }
        q.submit(r);
    }

    private static IoErrorKind kindOfProblem(String problem) {
        return problem.startsWith("out of range") ? IoErrorKind.OUT_OF_RANGE : IoErrorKind.INVALID_REQUEST;
    }

    /** Null when the request fits the device, else what is wrong (starting "out of range" for range errors). */
    private String checkRange(IoOp op, long offset, long length) {
        if (op == IoOp.FLUSH) {
            return null;
        }
        DeviceInfo di = info;
        int bs = di.logicalBlockSize();
        if (length <= 0) {
            return op + " of " + length + " bytes: length must be positive";
        }
        if (offset < 0 || offset % bs != 0 || length % bs != 0) {
            return op + " at " + offset + " of " + length + " bytes: offset and length must be multiples of " + bs;
        }
        if ((op == IoOp.READ || op == IoOp.WRITE) && length > di.maxTransferBytes()) {
            return op + " of " + length + " bytes exceeds the maximum transfer of " + di.maxTransferBytes() + " bytes";
        }
        if (offset + length > di.sizeBytes() || offset + length < 0) {
            return "out of range: " + op + " at " + offset + " of " + length + " bytes ends past the device size of "
                + di.sizeBytes() + " bytes";
        }
        return null;
    }

    @Override
    public int queueCount() {
        return queues.length;
    }

    @Override
    public Executor queueExecutor(int queue) {
        return queues[queue].loop;
    }

    // ------------------------------------------------------------------------------------------------
    // Live control

    /** Switches the balancing policy with I/O running. Unknown names and options fail with the known ones. */
    public void setPolicy(String name, Map<String, String> options) {
        BalancingPolicy p = policies.create(name, options);
        p.pathsChanged(topology.views);
        policy = p;
        policyName = name;
        policyOptions = Map.copyOf(options);
        event("policy switched to " + name + (options.isEmpty() ? "" : " " + options));
    }

    private volatile Map<String, Object> bridge;

    /** Paths the checker finds answering now (marginal ones included). */
    public int pathsUp() {
        int n = 0;
        for (Path p : paths) {
            if (p.health == Path.Health.UP) {
                n++;
            }
        }
        return n;
    }

    /** The controller whose paths carry I/O now ("A", "B"), or "none" while no path is usable. */
    public String activeController() {
        Topology t = topology;
        return t.usable.length == 0 ? "none" : t.usable[0].controller;
    }

    /** The access state of the paths carrying I/O ("optimized", ...), or "none". */
    public String activeAccess() {
        Topology t = topology;
        return t.usable.length == 0 || t.activeState == null ? "none" : t.activeState.label();
    }

    /** What serves this device to the kernel or clients (name, location, details), shown in status. */
    public void bridgeAttached(Map<String, Object> description) {
        bridge = description == null ? null : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(description));
    }

    public String policyName() {
        return policyName;
    }

    /** Takes a path out of use ({@code offline}) or gives it back to the checker; by id ("A0") or address. */
    public void setPathOffline(String idOrAddress, boolean offline) {
        Path p = findPath(idOrAddress);
        if (offline) {
            synchronized (topologyLock) {
                if (p.health == Path.Health.OFFLINE) {
                    return;
                }
                p.health = Path.Health.OFFLINE;
                p.reason = "taken offline by the operator";
                event("path " + p.id + " offline (operator)");
                republishLocked();
            }
            abandonEverywhere(p, "taken offline");
        } else {
            synchronized (topologyLock) {
                if (p.health != Path.Health.OFFLINE) {
                    return;
                }
                p.health = Path.Health.FAILED;
                p.reason = "online again, waiting for its check";
                event("path " + p.id + " online (operator); checking");
            }
            probeSoon(p);
        }
    }

    private Path findPath(String idOrAddress) {
        List<String> ids = new ArrayList<>();
        for (Path p : paths) {
            if (p.id.equalsIgnoreCase(idOrAddress) || p.address.equals(idOrAddress)) {
                return p;
            }
            ids.add(p.id);
        }
        throw new IllegalArgumentException("no path '" + idOrAddress + "' (paths: " + String.join(", ", ids) + ")");
    }

    /** Moves I/O to the best group now (what manual failback waits for). */
    public void failback() {
        synchronized (topologyLock) {
            selector.requestFailback();
            event("failback requested");
            republishLocked();
        }
    }

    public CompletableFuture<Void> closedFuture() {
        return closedFuture;
    }

    public boolean isClosed() {
        return closed;
    }

    private void event(String text) {
        LOG.info("{}: {}", config.name(), text);
        synchronized (events) {
            events.addLast(Instant.now() + " " + text);
            while (events.size() > MAX_EVENTS) {
                events.removeFirst();
            }
        }
    }

    /** A short account of why no path is usable: each path with its state. */
    String noPathReason() {
        List<String> parts = new ArrayList<>();
        for (Path p : paths) {
            parts.add(p.id + " " + describeState(p));
        }
        return parts.isEmpty() ? "no paths" : String.join(", ", parts);
    }

    private static String describeState(Path p) {
        switch (p.health) {
            case OFFLINE: return "offline";
            case FAILED: return "failed (" + p.reason + ")";
            default: return p.marginal ? "marginal" : p.access.label();
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Status

    /** The device's topology and statistics as a tree of maps and lists (rendered as JSON or text). */
    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        DeviceInfo di = info;
        Topology t = topology;
        m.put("device", config.name());
        m.put("lun", config.lun());
        m.put("transport", transport.name());
        m.put("wwid", di == null ? null : di.wwid());
        m.put("sizeBytes", di == null ? 0 : di.sizeBytes());
        m.put("blockSize", di == null ? 0 : di.logicalBlockSize());
        m.put("hostId", config.hostId());
        m.put("bridge", bridge);
        Map<String, Object> pol = new LinkedHashMap<>();
        pol.put("name", policyName);
        pol.put("options", policyOptions);
        m.put("policy", pol);
        m.put("failback", config.failback().toString());
        m.put("noPathRetry", config.noPathRetry().toString());
        m.put("queues", queues.length);
        m.put("queued", parkedCount.get());
        m.put("activeGroup", t.activeGroup);
        m.put("usablePaths", t.usable.length);
        m.put("stats", statsOf(stats, -1, -1));
        List<Map<String, Object>> groups = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        for (Path p : paths) {
            if (!ids.contains(p.group)) {
                ids.add(p.group);
            }
        }
        ids.sort(null);
        boolean anyMarginal = paths.stream().anyMatch(p -> p.marginal);
        if (anyMarginal) {
            ids.add(Topology.MARGINAL_GROUP);
        }
        for (int g : ids) {
            Map<String, Object> gm = new LinkedHashMap<>();
            List<Map<String, Object>> members = new ArrayList<>();
            AccessState best = null;
            String controller = null;
            for (Path p : paths) {
                boolean inGroup = g == Topology.MARGINAL_GROUP ? p.marginal : p.group == g && !p.marginal;
                if (!inGroup) {
                    continue;
                }
                controller = controller == null ? p.controller
                    : java.util.Arrays.asList(controller.split("\\+")).contains(p.controller) ? controller : controller + "+" + p.controller;
                if (p.health == Path.Health.UP && (best == null || GroupSelector.rank(p.access) > GroupSelector.rank(best))) {
                    best = p.access;
                }
                members.add(pathStatus(p, t));
            }
            gm.put("group", g == Topology.MARGINAL_GROUP ? "marginal" : g);
            gm.put("controller", controller);
            gm.put("access", best == null ? "unusable" : best.label());
            gm.put("status", t.activeGroup == g && t.usable.length > 0 ? "active" : best != null ? "enabled" : "failed");
            gm.put("paths", members);
            groups.add(gm);
        }
        m.put("groups", groups);
        synchronized (events) {
            m.put("events", new ArrayList<>(events));
        }
        return m;
    }

    private Map<String, Object> pathStatus(Path p, Topology t) {
        Map<String, Object> pm = new LinkedHashMap<>();
        pm.put("id", p.id);
        pm.put("address", p.address);
        pm.put("controller", p.controller);
        pm.put("group", p.group);
        pm.put("portId", p.portId);
        pm.put("access", p.access.label());
        pm.put("health", p.health.name().toLowerCase());
        pm.put("reason", p.reason);
        pm.put("marginal", p.marginal);
        pm.put("inUse", t.contains(p));
        pm.put("inFlight", p.inFlight.get());
        pm.putAll(statsOf(p.stats, p.stats.pathErrors.sum(), p.stats.retries.sum()));
        return pm;
    }

    private static Map<String, Object> statsOf(PathStats s, long errors, long retries) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ios", s.ios.sum());
        m.put("reads", s.readIos.sum());
        m.put("writes", s.writeIos.sum());
        m.put("bytes", s.bytes.sum());
        m.put("iops", Math.round(s.iops()));
        m.put("p50Micros", s.p50Nanos() / 1000);
        m.put("p99Micros", s.p99Nanos() / 1000);
        if (errors >= 0) {
            m.put("errors", errors);
            m.put("retries", retries);
        }
        return m;
    }

    /** Prometheus text exposition of the device's and each path's counters and latency quantiles. */
    public String prometheus() {
        StringBuilder sb = new StringBuilder();
        String dev = "device=\"" + config.name() + "\"";
        sb.append("# HELP jmpio_device_ios_total Requests completed by the device.\n# TYPE jmpio_device_ios_total counter\n");
        sb.append("jmpio_device_ios_total{").append(dev).append("} ").append(stats.ios.sum()).append('\n');
        sb.append("# HELP jmpio_device_bytes_total Bytes moved by completed requests.\n# TYPE jmpio_device_bytes_total counter\n");
        sb.append("jmpio_device_bytes_total{").append(dev).append("} ").append(stats.bytes.sum()).append('\n');
        sb.append("# HELP jmpio_device_queued Requests waiting for a usable path.\n# TYPE jmpio_device_queued gauge\n");
        sb.append("jmpio_device_queued{").append(dev).append("} ").append(parkedCount.get()).append('\n');
        sb.append("# HELP jmpio_device_usable_paths Paths I/O is sent to now.\n# TYPE jmpio_device_usable_paths gauge\n");
        sb.append("jmpio_device_usable_paths{").append(dev).append("} ").append(topology.usable.length).append('\n');
        summary(sb, "jmpio_device_latency_seconds", "Request latency as the application sees it, retries included.",
            dev, stats);
        sb.append("# HELP jmpio_path_ios_total Requests completed on the path.\n# TYPE jmpio_path_ios_total counter\n");
        for (Path p : paths) {
            sb.append("jmpio_path_ios_total{").append(pathLabels(p)).append("} ").append(p.stats.ios.sum()).append('\n');
        }
        sb.append("# HELP jmpio_path_errors_total Path failures: transport errors, timeouts, lost connections.\n");
        sb.append("# TYPE jmpio_path_errors_total counter\n");
        for (Path p : paths) {
            sb.append("jmpio_path_errors_total{").append(pathLabels(p)).append("} ").append(p.stats.pathErrors.sum()).append('\n');
        }
        sb.append("# HELP jmpio_path_in_flight Requests outstanding on the path.\n# TYPE jmpio_path_in_flight gauge\n");
        for (Path p : paths) {
            sb.append("jmpio_path_in_flight{").append(pathLabels(p)).append("} ").append(p.inFlight.get()).append('\n');
        }
        sb.append("# HELP jmpio_path_up 1 when the path is up (checked and not offline).\n# TYPE jmpio_path_up gauge\n");
        for (Path p : paths) {
            sb.append("jmpio_path_up{").append(pathLabels(p)).append("} ").append(p.health == Path.Health.UP ? 1 : 0).append('\n');
        }
        sb.append("# HELP jmpio_path_latency_seconds Latency of requests on the path.\n# TYPE jmpio_path_latency_seconds summary\n");
        for (Path p : paths) {
            quantiles(sb, "jmpio_path_latency_seconds", pathLabels(p), p.stats);
        }
        return sb.toString();
    }

    private String pathLabels(Path p) {
        return "device=\"" + config.name() + "\",path=\"" + p.id + "\",address=\"" + p.address + "\",controller=\""
            + p.controller + "\",access=\"" + p.access.label() + "\"";
    }

    private static void summary(StringBuilder sb, String name, String help, String labels, PathStats s) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(" summary\n");
        quantiles(sb, name, labels, s);
    }

    private static void quantiles(StringBuilder sb, String name, String labels, PathStats s) {
        for (double q : new double[] {0.5, 0.9, 0.99, 0.999}) {
            sb.append(name).append('{').append(labels).append(",quantile=\"").append(q).append("\"} ")
                .append(s.totalPercentile(q * 100) / 1e9).append('\n');
        }
        sb.append(name).append("_sum{").append(labels).append("} ").append(s.totalSumSeconds()).append('\n');
        sb.append(name).append("_count{").append(labels).append("} ").append(s.totalCount()).append('\n');
    }

    // ------------------------------------------------------------------------------------------------
    // Detach

    /**
     * Detaches: stops the checker, fails every queued, backing-off and in-flight request with
     * DEVICE_CLOSED, closes every connection. Never waits on a path.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        for (IoQueue q : queues) {
            if (q.loop.inEventLoop()) {
                // Called from an I/O callback: finish on another thread so this loop is not waited on by itself.
                Thread t = new Thread(this::finishClose, "jmpio-detach");
                t.setDaemon(true);
                t.start();
                return;
            }
        }
        finishClose();
    }

    private void finishClose() {
        event("detaching");
        scheduler.shutdownNow();
        for (IoQueue q : queues) {
            try {
                q.loop.submit(() -> q.abortAll("device " + name() + " detached")).await(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (java.util.concurrent.RejectedExecutionException e) {
                LOG.debug("queue {} already stopped", q.index);
            }
        }
        probePool.shutdownNow();
        for (Path p : paths) {
            closeSession(p);
        }
        transport.close();
        ioTransport.close();
        adminTransport.close();
        closedFuture.complete(null);
    }
}
