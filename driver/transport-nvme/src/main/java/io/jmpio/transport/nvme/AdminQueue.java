package io.jmpio.transport.nvme;

import io.jmpio.netty.FailureText;
import io.jmpio.transport.TransportContext;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin queue of one controller (an association): connects and enables it as the specification says
 * (Property Get CAP, Set CC, wait for CSTS.RDY), then offers the admin commands the host needs, blocking with
 * the context's command timeout. An I/O controller also keeps alive at half its KATO and keeps one
 * Asynchronous Event Request outstanding, whose notices go to {@code events}.
 */
final class AdminQueue implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AdminQueue.class);
    /** Admin queue entries (Linux uses 32). */
    static final int ADMIN_SQSIZE = 32;

    /** One admin command's result. */
    record Result(int status, int dw0, int dw1, byte[] data) {
        boolean ok() {
            return status == 0;
        }
    }

    private final TransportContext ctx;
    private final String address;
    private final String subnqn;
    private final boolean discovery;
    private final QueuePair queue;
    private final CompletableFuture<Integer> connected = new CompletableFuture<>();
    private volatile String closedReason;
    private volatile IntConsumer events;
    private volatile Runnable onClose;
    private ScheduledFuture<?> keepAlive;
    private byte[] identify;

    private AdminQueue(TransportContext ctx, String address, String subnqn, boolean discovery) {
        this.ctx = ctx;
        this.address = address;
        this.subnqn = subnqn;
        this.discovery = discovery;
        int kato = discovery ? 0 : (int) Math.max(1000, ctx.keepAliveMillis());
        boolean[] digests = NvmeTcpTransport.digests(ctx);
        this.queue = new QueuePair(0, ADMIN_SQSIZE, kato, 0xFFFF, subnqn, ctx.hostName(), ctx.hostIdentifier(), digests[0],
            digests[1], 8192, new QueuePair.Listener() {
                @Override
                public void ready(QueuePair q, int cntlid) {
                    connected.complete(cntlid);
                }

                @Override
                public void closed(QueuePair q, String reason, boolean fault, List<QueuePair.Command> unanswered) {
                    closedReason = reason;
                    connected.completeExceptionally(new IOException(reason));
                    for (QueuePair.Command c : unanswered) {
                        if (c.attachment instanceof CompletableFuture) {
                            if (c.dataOut != null && c.dataOut.refCnt() > 0) {
                                c.dataOut.release(); // the command's completion, which releases it, will not run
                            }
                            ((CompletableFuture<?>) c.attachment).completeExceptionally(new IOException(
                                "admin queue to " + address + " closed: " + reason));
                        }
                    }
                    if (keepAlive != null) {
                        keepAlive.cancel(false);
                    }
                    Runnable r = onClose;
                    if (r != null) {
                        r.run();
                    }
                }
            });
    }

    /**
     * Connects to {@code address}, enables the controller of {@code subnqn} and identifies it. For an I/O
     * controller also starts keep-alive and asynchronous events ({@code events} gets each notice's DW0).
     */
    static AdminQueue open(TransportContext ctx, String address, String subnqn, boolean discovery, IntConsumer events)
            throws IOException {
        AdminQueue a = new AdminQueue(ctx, address, subnqn, discovery);
        a.events = events;
        EventLoop loop = ctx.controlGroup().next();
        try {
            InetSocketAddress to = io.jmpio.netty.HostPort.parse(address);
            loop.execute(() -> a.queue.connect(loop, ctx.channelClass(), to, ctx.connectTimeoutMillis()));
            a.connected.get(ctx.connectTimeoutMillis() + 1000, TimeUnit.MILLISECONDS);
            a.enable();
            a.identify = a.identify(1, 0);
            if (!discovery) {
                a.startKeepAlive();
                a.startEvents();
            }
            return a;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            a.close();
            throw new IOException("interrupted while connecting to " + address);
        } catch (ExecutionException e) {
            a.close();
            throw new IOException(FailureText.of(e.getCause()), e.getCause());
        } catch (TimeoutException e) {
            a.close();
            throw new IOException("no ICResp and Connect answer from " + address + " within " + ctx.connectTimeoutMillis() + " ms");
        } catch (IOException | RuntimeException e) {
            a.close();
            throw e;
        }
    }

    String address() {
        return address;
    }

    int cntlid() {
        return queue.cntlid();
    }

    boolean isOpen() {
        return queue.state() == QueuePair.State.READY;
    }

    String closedReason() {
        return closedReason;
    }

    void onClose(Runnable r) {
        this.onClose = r;
    }

    /** Identify Controller data (4096 B), read at open. */
    byte[] controllerData() {
        return identify;
    }

    // ------------------------------------------------------------------------------------------------
    // Commands

    /** Sends a command and completes with its result (data-in copied out). */
    CompletableFuture<Result> command(Sqe sqe, ByteBuf dataOut, int dataInLength) {
        CompletableFuture<Result> f = new CompletableFuture<>();
        QueuePair.Command c = new QueuePair.Command(sqe.buf(), dataOut, dataInLength, (status, dw0, dw1, data) -> {
            byte[] bytes = data == null ? new byte[0] : ByteBufUtil.getBytes(data);
            if (data != null) {
                data.release();
            }
            if (dataOut != null) {
                dataOut.release();
            }
            f.complete(new Result(status, dw0, dw1, bytes));
        }, f);
        try {
            queue.loop().execute(() -> queue.submit(c));
        } catch (RuntimeException e) {
            f.completeExceptionally(new IOException("admin queue to " + address + " is closed"));
        }
        return f;
    }

    Result call(Sqe sqe, ByteBuf dataOut, int dataInLength, String what) throws IOException {
        try {
            return command(sqe, dataOut, dataInLength).get(ctx.commandTimeoutMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted during " + what);
        } catch (ExecutionException e) {
            throw new IOException(what + " on " + address + ": " + FailureText.of(e.getCause()), e.getCause());
        } catch (TimeoutException e) {
            queue.loop().execute(() -> queue.close(what + " unanswered for " + ctx.commandTimeoutMillis() + " ms", true));
            throw new IOException(what + " on " + address + ": no answer within " + ctx.commandTimeoutMillis() + " ms");
        }
    }

    private Result require(Sqe sqe, ByteBuf dataOut, int dataInLength, String what) throws IOException {
        Result r = call(sqe, dataOut, dataInLength, what);
        if (!r.ok()) {
            throw new IOException(what + " on " + address + " failed: " + Sqe.describe(r.status()));
        }
        return r;
    }

    private Sqe sqe(int opcode) {
        return Sqe.of(io.netty.buffer.ByteBufAllocator.DEFAULT, opcode);
    }

    long propertyGet(int offset, boolean eightBytes) throws IOException {
        Result r = require(sqe(Sqe.FABRICS).u8(Sqe.NSID_OFFSET, Sqe.FCTYPE_PROPERTY_GET)
            .u8(Sqe.CDW10, eightBytes ? 1 : 0).dw(Sqe.CDW11, offset), null, 0, "Property Get 0x" + Integer.toHexString(offset));
        return eightBytes ? (r.dw0() & 0xFFFFFFFFL) | (long) r.dw1() << 32 : r.dw0() & 0xFFFFFFFFL;
    }

    void propertySet(int offset, long value) throws IOException {
        require(sqe(Sqe.FABRICS).u8(Sqe.NSID_OFFSET, Sqe.FCTYPE_PROPERTY_SET).u8(Sqe.CDW10, 0).dw(Sqe.CDW11, offset)
            .u64(Sqe.CDW12, value), null, 0, "Property Set 0x" + Integer.toHexString(offset));
    }

    /** CC.EN as the specification asks: CC without EN, then with it, then CSTS.RDY within CAP.TO. */
    private void enable() throws IOException {
        long cap = propertyGet(Sqe.PROP_CAP, true);
        if ((cap >>> 48 & 0xF) > 0) {
            throw new IOException(address + ": the controller's smallest memory page is larger than 4 KiB (CAP 0x"
                + Long.toHexString(cap) + ")");
        }
        int css = (cap >>> 43 & 1) != 0 ? 6 : 0;
        long cc = 4L << 20 | 6L << 16 | (long) css << 4;
        propertySet(Sqe.PROP_CC, cc);
        propertySet(Sqe.PROP_CC, cc | 1);
        long timeoutMillis = Math.max(1000, (cap >>> 24 & 0xFF) * 500);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (true) {
            long csts = propertyGet(Sqe.PROP_CSTS, false);
            if ((csts & 2) != 0) {
                throw new IOException(address + ": controller fatal status while enabling (CSTS 0x" + Long.toHexString(csts) + ")");
            }
            if ((csts & 1) != 0) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException(address + ": controller not ready within " + timeoutMillis + " ms (CAP.TO)");
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while enabling " + address);
            }
        }
    }

    byte[] identify(int cns, int nsid) throws IOException {
        return require(sqe(Sqe.ADMIN_IDENTIFY).nsid(nsid).dw(Sqe.CDW10, cns), null, 4096,
            "Identify CNS " + cns).data();
    }

    /** Identify of a namespace, or null when the controller says it is not one this host may see. */
    byte[] identifyNamespace(int cns, int nsid) throws IOException {
        Result r = call(sqe(Sqe.ADMIN_IDENTIFY).nsid(nsid).dw(Sqe.CDW10, cns), null, 4096, "Identify CNS " + cns);
        if ((r.status() & 0x7FF) == Sqe.SC_INVALID_NS) {
            return null;
        }
        if (!r.ok()) {
            throw new IOException("Identify CNS " + cns + " on " + address + " failed: " + Sqe.describe(r.status()));
        }
        return r.data();
    }

    /** Get Log Page: {@code length} bytes (a multiple of 4) from byte {@code offset}; RAE 0 re-arms the log's events. */
    byte[] log(int lid, int nsid, int length, long offset) throws IOException {
        int numd = length / 4 - 1;
        return require(sqe(Sqe.ADMIN_GET_LOG).nsid(nsid).dw(Sqe.CDW10, lid | (numd & 0xFFFF) << 16)
            .dw(Sqe.CDW11, numd >>> 16).u64(Sqe.CDW12, offset), null, length, "Get Log Page 0x" + Integer.toHexString(lid)).data();
    }

    int setFeature(int fid, int value) throws IOException {
        return require(sqe(Sqe.ADMIN_SET_FEATURES).dw(Sqe.CDW10, fid).dw(Sqe.CDW11, value), null, 0,
            "Set Features 0x" + Integer.toHexString(fid)).dw0();
    }

    /** One Keep Alive round trip (also the cheapest probe). */
    void keepAliveNow() throws IOException {
        require(sqe(Sqe.ADMIN_KEEP_ALIVE), null, 0, "Keep Alive");
    }

    private void startKeepAlive() {
        long every = Math.max(100, Math.max(1000, ctx.keepAliveMillis()) / 2);
        keepAlive = queue.loop().scheduleAtFixedRate(() -> {
            if (!isOpen()) {
                return;
            }
            command(sqe(Sqe.ADMIN_KEEP_ALIVE), null, 0).orTimeout(Math.max(1000, ctx.keepAliveMillis()), TimeUnit.MILLISECONDS)
                .whenComplete((r, e) -> {
                    if (e != null || !r.ok()) {
                        queue.loop().execute(() -> queue.close("Keep Alive " + (e != null ? "unanswered" : "failed: "
                            + Sqe.describe(r.status())), true));
                    }
                });
        }, every, every, TimeUnit.MILLISECONDS);
    }

    /** Asks for the notices the controller offers that the host acts on, and keeps one AER outstanding. */
    private void startEvents() throws IOException {
        int oaes = java.nio.ByteBuffer.wrap(identify).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(92);
        int wanted = oaes & (1 << 8 | 1 << 11 | 1 << 31);
        if (wanted == 0) {
            return;
        }
        setFeature(Sqe.FEAT_ASYNC_EVENT, wanted);
        armAer();
    }

    private void armAer() {
        command(sqe(Sqe.ADMIN_ASYNC_EVENT), null, 0).whenComplete((r, e) -> {
            if (e != null || !isOpen()) {
                return;
            }
            if (!r.ok()) {
                LOG.debug("AER on {} ended: {}", address, Sqe.describe(r.status()));
                return; // as Linux: no new AER after an error status
            }
            IntConsumer ev = events;
            if (ev != null) {
                try {
                    ev.accept(r.dw0());
                } catch (RuntimeException x) {
                    LOG.warn("handling an asynchronous event from {} failed", address, x);
                }
            }
            armAer();
        });
    }

    @Override
    public void close() {
        try {
            queue.loop().execute(() -> queue.close("closed by the host", false));
        } catch (RuntimeException e) {
            // the event loop is gone: so is the connection
        }
    }
}
