package io.jmpio.core;

import io.jmpio.api.BalancingPolicy;
import io.jmpio.api.BlockDevice;
import io.jmpio.api.DeviceInfo;
import io.jmpio.api.IoCallback;
import io.jmpio.api.IoErrorKind;
import io.jmpio.api.IoOp;
import io.jmpio.netty.FailureText;
import io.jmpio.netty.NettyTransport;
import io.jmpio.transport.Discovery;
import io.jmpio.transport.PathTransport;
import io.jmpio.transport.PathTransports;
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
import java.util.concurrent.atomic.AtomicInteger;
import io.netty.channel.EventLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The multipath block device: one LUN or namespace reached over every port the target reports, through a
 * path transport (NVMe/TCP, or another plugin). {@link #open} discovers the paths from any portal, opens a
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
    final NettyTransport adminTransport;
    final ScheduledExecutorService scheduler;
    final ExecutorService probePool;
    final IoQueue[] queues;
    private final ThreadLocal<IoQueue> currentQueue = new ThreadLocal<>();
    final CopyOnWriteArrayList<Path> paths = new CopyOnWriteArrayList<>();
    final Object topologyLock = new Object();
    final GroupSelector selector;
    volatile Topology topology = Topology.EMPTY;
    private final Policies policies;
    /** One instance of the policy per I/O queue: what a policy counts and learns stays on its queue's core. */
    volatile BalancingPolicy[] policy;
    volatile String policyName;
    volatile Map<String, String> policyOptions;
    final PathStats stats;
    final AtomicInteger parkedCount = new AtomicInteger();
    volatile boolean closed;
    private final CompletableFuture<Void> closedFuture = new CompletableFuture<>();
    final Deque<String> events = new ArrayDeque<>();
    long windowStartNanos;
    volatile DeviceInfo info;
    final PathTransport transport;
    /** What was attached, as the transport names it ("lun0", "NQN namespace 1"). */
    volatile String targetName;
    /** The state-transition time the target advertised (NVMe ANATT), 0 when it said none. */
    volatile long targetTransitionMillis;
    final TransportContext context;
    /** What the I/O queues see of this device (QueueHost is theirs; its methods stay off the public API). */
    private final QueueHost queueHost = new QueueHost() {
        @Override public String name() { return MultipathDevice.this.name(); }
        @Override public boolean closed() { return closed; }
        @Override public Topology topology() { return topology; }
        @Override public BalancingPolicy policy(int queue) {
            BalancingPolicy[] p = policy;
            return p[queue % p.length];
        }
        @Override public String policyName() { return policyName; }
        @Override public MultipathConfig config() { return config; }
        @Override public Ticker ticker() { return ticker; }
        @Override public PathStats stats() { return stats; }
        @Override public AtomicInteger parked() { return parkedCount; }
        @Override public String noPathReason() { return MultipathDevice.this.noPathReason(); }
        @Override public long transitionTimeoutMillis() {
            long anatt = targetTransitionMillis;
            return anatt > 0 ? Math.max(2 * anatt, 1000) : config.transitionTimeoutMillis();
        }
        @Override public void requestRefresh(String why) { MultipathDevice.this.requestRefresh(why); }
        @Override public void pathFailed(Path p, String reason) { MultipathDevice.this.pathFailed(p, reason); }
        @Override public Class<? extends io.netty.channel.Channel> ioChannelClass() { return ioTransport.channelClass(); }
    };
    final StateRefresh refresh = new StateRefresh(this);
    final PathChecker checker = new PathChecker(this);
    private final MarginalDetector marginal = new MarginalDetector(this);
    private final StatusReport statusReport = new StatusReport(this);

    private MultipathDevice(MultipathConfig config, Policies policies, BalancingPolicy[] policy) {
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
            Math.max(config.probeTimeoutMillis(), 1000), Math.max(5000, 10 * config.checkIntervalMillis()),
            config.transportOptions());
        this.scheduler = Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("jmpio-check", true));
        this.probePool = Executors.newCachedThreadPool(new DefaultThreadFactory("jmpio-probe", true));
        List<IoQueue> qs = new ArrayList<>();
        for (EventExecutor e : ioTransport.group()) {
            IoQueue q = new IoQueue(queueHost, (EventLoop) e, qs.size());
            qs.add(q);
            e.execute(() -> currentQueue.set(q));
        }
        this.queues = qs.toArray(new IoQueue[0]);
        this.stats = new PathStats(queues.length);
    }

    /**
     * Attaches: finds the LUN through the first portal that answers, reads its port groups, registers the
     * host on every path, and starts serving. Fails with a message naming the problem (no portal reachable,
     * LUN unknown, registration refused, unknown policy).
     */
    public static MultipathDevice open(MultipathConfig config) throws IOException {
        config.validate();
        Policies policies = Policies.from(config.pluginLoader());
        BalancingPolicy[] policy = perQueue(policies, config.ioQueues(), config.policy(), config.policyOptions());
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
        long deadline = ticker.nanos() + TimeUnit.MILLISECONDS.toNanos(config.lossTimeoutMillis());
        List<String> errors = new ArrayList<>();
        int round = 0;
        while (true) {
            errors.clear();
            boolean refused = false;
            for (String portal : config.portals()) {
                try {
                    Discovery d = transport.discover(context, portal);
                    TargetInfo t = d.target();
                    targetName = t.name();
                targetTransitionMillis = t.transitionMillis();
                    info = new DeviceInfo(config.name(), t.id(), t.sizeBytes(), t.logicalBlockSize(), t.physicalBlockSize(),
                        t.maxTransferBytes(), t.volatileWriteCache(), t.discard(), t.writeZeroes(), t.fua());
                    refresh.applyReport(d.ports(), true, false);
                    event("attached " + d.description() + " over " + transport.name() + ": " + d.ports().size()
                        + " ports reported" + (round == 0 ? "" : " (after " + round + " retries)"));
                    return;
                } catch (PathTransport.TargetRefusedException e) {
                    refused = true;
                    errors.add(portal + ": " + FailureText.of(e));
                } catch (IOException | RuntimeException e) {
                    errors.add(portal + ": " + FailureText.of(e));
                }
            }
            // a slow or restarting target is not a missing one: ask again until the loss timeout
            if (refused || ticker.nanos() + TimeUnit.MILLISECONDS.toNanos(config.reconnectDelayMillis()) - deadline > 0) {
                break;
            }
            round++;
            event("attach: no portal answered (" + String.join("; ", errors) + "); trying again in "
                + config.reconnectDelayMillis() + " ms");
            try {
                Thread.sleep(config.reconnectDelayMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while attaching");
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

    // ------------------------------------------------------------------------------------------------
    // Path checker

    private void start() throws IOException {
        CountDownLatch first = new CountDownLatch(paths.size());
        for (Path p : paths) {
            p.probing.set(true);
            probePool.execute(() -> {
                try {
                    checker.probe(p);
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
        scheduler.scheduleWithFixedDelay(guard(checker::checkTick), config.checkIntervalMillis(), config.checkIntervalMillis(),
            TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(guard(marginal::statsTick), 1000, 1000, TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(guard(() -> probePool.execute(guard(refresh::scan))), config.scanIntervalMillis(),
            config.scanIntervalMillis(), TimeUnit.MILLISECONDS);
        windowStartNanos = ticker.nanos();
        int up = 0;
        for (Path p : paths) {
            up += p.health == Path.Health.UP ? 1 : 0;
        }
        event("serving: " + up + " of " + paths.size() + " paths up, policy " + policyName);
    }

    static Runnable guard(Runnable r) {
        return () -> {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.error("periodic task failed", e);
            }
        };
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

    void abandonEverywhere(Path p, String reason) {
        for (IoQueue q : queues) {
            try {
                q.loop.execute(() -> q.abandon(p, reason));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                LOG.debug("queue {} already stopped", q.index);
            }
        }
    }

    /**
     * The policy {@code name}, one instance per I/O queue (each queue selects and completes on its own instance,
     * so no policy state is shared between cores on the I/O path).
     */
    private static BalancingPolicy[] perQueue(Policies policies, int queues, String name, Map<String, String> options) {
        BalancingPolicy[] p = new BalancingPolicy[Math.max(1, queues)];
        for (int i = 0; i < p.length; i++) {
            p[i] = policies.create(name, options);
        }
        return p;
    }

    /** Recomputes the active group; a change goes to the policy and wakes requests waiting for a path. */
    void republishLocked() {
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
        BalancingPolicy[] instances = policy;
        for (int q = 0; q < instances.length; q++) {
            try {
                instances[q].pathsChanged(t.viewsOf(q));
            } catch (RuntimeException e) {
                LOG.error("policy {} threw on a path change", policyName, e);
            }
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

    String groupName(int group) {
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
        IoQueue q = currentQueue.get();
        int len = (int) Math.min(length, Integer.MAX_VALUE);
        // on a queue's own thread, a pooled request (given back on this thread when done); else a new one
        Request r = q != null ? q.requests.take(op, offset, len, data, fua, callback, ticker.nanos())
            : new Request(op, offset, len, data, fua, callback, ticker.nanos());
        if (closed) {
            r.fail(IoErrorKind.DEVICE_CLOSED, "device " + name() + " is detached");
            return;
        }
        String problem = checkRange(op, offset, length);
        if (problem != null) {
            r.fail(kindOfProblem(problem), problem);
            return;
        }
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
        BalancingPolicy[] p = perQueue(policies, queues.length, name, options);
        for (int q = 0; q < p.length; q++) {
            p[q].pathsChanged(topology.viewsOf(q));
        }
        policy = p;
        policyName = name;
        policyOptions = Map.copyOf(options);
        event("policy switched to " + name + (options.isEmpty() ? "" : " " + options));
    }

    volatile Map<String, Object> bridge;

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

    /** Takes a path out of use ({@code offline}) or gives it back to the checker; by id ("P1") or address. */
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
            checker.probeSoon(p);
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

    void event(String text) {
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

    static String describeState(Path p) {
        switch (p.health) {
            case OFFLINE: return "offline";
            case FAILED: return "failed (" + p.reason + ")";
            default: return p.marginal ? "marginal" : p.access.label();
        }
    }

    /** The device's topology and statistics as a tree of maps and lists (rendered as JSON or text). */
    public Map<String, Object> status() {
        return statusReport.status();
    }

    /** Prometheus text exposition of the device's and each path's counters and latency quantiles. */
    public String prometheus() {
        return statusReport.prometheus();
    }

    /** Asks for fresh access states (a notice, a stale reply); concurrent asks collapse into one more read. */
    void requestRefresh(String why) {
        refresh.requestRefresh(why);
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
            checker.closeSession(p);
        }
        transport.close();
        ioTransport.close();
        adminTransport.close();
        closedFuture.complete(null);
    }
}
