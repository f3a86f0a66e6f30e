package io.jmpio.transport.nvme;

import io.jmpio.transport.AccessState;
import io.jmpio.transport.PathSession;
import io.jmpio.transport.PortInfo;
import io.jmpio.transport.QueueChannel;
import io.jmpio.transport.QueueListener;
import io.jmpio.transport.TransportContext;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.util.List;

/**
 * One path: an I/O controller association on one port (its admin queue with keep-alive and an AER
 * outstanding) that the I/O queues of this path join. Probes are a Keep Alive and the ANA log; an ANA or
 * namespace notice goes to the core, which re-reads the states.
 */
final class NvmePath implements PathSession {
    private final TransportContext ctx;
    private final PortInfo port;
    private final String subnqn;
    private final Namespace ns;
    private final AdminQueue admin;
    private final int grantedQueues;
    /** The port offers queues without SQ flow control (TREQ bit 2): I/O queues connect that way. */
    private final boolean sqFlowOff;
    /**
     * The namespace is checked to be the one attached (its NGUID) after a namespace notice and every
     * {@link #IDENTITY_RECHECK_NANOS}: a namespace deleted and another created under its NSID fails the path rather
     * than taking the device's writes (Linux's host drops such a namespace too).
     */
    private volatile boolean identityDue;
    private volatile long identityCheckedNanos = System.nanoTime();
    static final long IDENTITY_RECHECK_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);

    NvmePath(TransportContext ctx, PortInfo port, String subnqn, Namespace expected, Runnable notices, boolean sqFlowOff)
            throws IOException {
        this.ctx = ctx;
        this.sqFlowOff = sqFlowOff;
        this.port = port;
        this.subnqn = subnqn;
        this.admin = AdminQueue.open(ctx, port.address(), subnqn, false, dw0 -> {
            int type = dw0 & 7;
            int info = dw0 >>> 8 & 0xFF;
            if (type == 2 && info == 0x00) {
                identityDue = true; // namespace attribute change: the next probe checks it is still the one attached
            }
            if (type == 2 && (info == 0x03 || info == 0x00)) {
                notices.run(); // ANA change or namespace attribute change: re-read the states
            }
        });
        try {
            this.ns = readAttached(expected);
            int wanted = Math.max(1, ctx.ioQueues()) - 1;
            int granted = admin.setFeature(Sqe.FEAT_NUM_QUEUES, wanted | wanted << 16);
            this.grantedQueues = Math.max(1, Math.min(granted & 0xFFFF, granted >>> 16 & 0xFFFF) + 1);
        } catch (IOException | RuntimeException e) {
            admin.close();
            throw e;
        }
    }

    @Override
    public boolean isOpen() {
        return admin.isOpen();
    }

    /** Fails when the NSID no longer names the namespace attached (see {@link #identityDue}). */
    private void checkIdentity() throws IOException {
        long now = System.nanoTime();
        boolean noticed = identityDue;
        if (!noticed && now - identityCheckedNanos < IDENTITY_RECHECK_NANOS) {
            return;
        }
        identityDue = false;
        identityCheckedNanos = now;
        if (noticed) {
            admin.log(Sqe.LOG_CHANGED_NS, 0xFFFFFFFF, 4096, 0); // read (RAE 0): the controller reports the next change too
        }
        readAttached(ns);
    }

    /** The namespace under {@code attached}'s NSID here, refused unless it is that namespace (same NGUID). */
    private Namespace readAttached(Namespace attached) throws IOException {
        Namespace here;
        try {
            here = Namespace.read(admin, attached.nsid());
        } catch (Namespace.NotVisible e) {
            throw new AccessDeniedException(e.getMessage());
        }
        if (!here.id().equals(attached.id())) {
            throw new IOException(port.address() + " serves another namespace under NSID " + attached.nsid() + " (id "
                + here.id() + "; the device is namespace " + attached.id() + ")");
        }
        return here;
    }

    private AccessState state() throws IOException {
        if (!ns.ana()) {
            return AccessState.OPTIMIZED;
        }
        return AnaLog.stateOf(admin.log(Sqe.LOG_ANA, 0xFFFFFFFF, ns.anaLogLength(), 0), ns.anagrpid());
    }

    @Override
    public Probe probe() throws IOException {
        admin.keepAliveNow();
        checkIdentity();
        AccessState s = state();
        return new Probe(s, s.servesIo());
    }

    @Override
    public Report report() throws IOException {
        AccessState s = state();
        return new Report(List.of(new PortInfo(port.address(), port.id(), port.controller(), NvmeTcpTransport.groupOf(s),
            port.portId(), s, port.preferred(), true)), false);
    }

    @Override
    public QueueChannel openQueue(EventLoop loop, Class<? extends Channel> channelClass, int queueIndex,
                                  QueueListener listener) {
        int qid = queueIndex % grantedQueues + 1;
        int depth = Math.max(2, Math.min(128, ns.maxCommands() == 0 ? 128 : ns.maxCommands()));
        NvmeQueueChannel c = new NvmeQueueChannel(ns, listener, port.address());
        boolean[] digests = NvmeTcpTransport.digests(ctx);
        QueuePair q = new QueuePair(qid, depth, 0, admin.cntlid(), subnqn, ctx.hostName(), ctx.hostIdentifier(), digests[0],
            digests[1], ns.inCapsuleLimit(), c);
        if (sqFlowOff) {
            q.withoutSqFlowControl();
        }
        c.attach(q);
        loop.execute(() -> q.connect(loop, channelClass, io.jmpio.netty.HostPort.parse(port.address()), ctx.connectTimeoutMillis()));
        return c;
    }

    @Override
    public void close() {
        admin.close();
    }
}
