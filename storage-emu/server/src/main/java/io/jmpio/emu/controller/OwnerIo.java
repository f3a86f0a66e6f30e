package io.jmpio.emu.controller;

import io.jmpio.emu.cache.Extent;
import io.jmpio.emu.cache.ExtentMap;
import io.jmpio.emu.controller.PeerMonitor.PeerState;
import io.jmpio.emu.link.LinkFrame;
import io.jmpio.emu.store.BackingStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The owner's I/O on its LUNs: reads through the dirty cache and the block cache, writes into the cache and
 * the NVRAM journal, mirrored to the peer (or written through when they cannot be), flushes.
 */
final class OwnerIo {
    private static final Logger LOG = LoggerFactory.getLogger(OwnerIo.class);

    /** A disk write refused because this controller may no longer own the LUN (see {@link #fenced}). */
    static final class FencedException extends IOException {
        FencedException(String lun) {
            super("not writing " + lun + ": ownership not confirmed");
        }
    }

    private final Controller c;
    /** A full or failing disk fails every request alike: told once, then summed up (not a line per request). */
    private final RepeatedFailure ioFailure;

    OwnerIo(Controller controller) {
        this.c = controller;
        this.ioFailure = new RepeatedFailure(LOG, "controller " + controller.id + ": host I/O to the drives or journal");
    }

    CompletableFuture<IoResult> execute(Lun l, int op, boolean fua, long offset, int length, byte[] data,
                                        boolean shipped) {
        return execute(l, op, fua, offset, length, data, shipped, false);
    }

    /**
     * @param peerKeepsCopy a write the peer shipped and holds a copy of: mirrored, it is not sent back to the peer's
     *                      mirror but answered {@link IoResult#mirrorAtPeer}, and the peer puts its copy there
     */
    CompletableFuture<IoResult> execute(Lun l, int op, boolean fua, long offset, int length, byte[] data,
                                        boolean shipped, boolean peerKeepsCopy) {
        // counted before the checks, so that a move (which marks the LUN transitioning, then waits for this count
        // to reach zero) either sees this request or this request sees the move: a write admitted after the
        // move's destage would be dropped with the cache when ownership changes
        l.inflight.incrementAndGet();
        if (l.transitioning || c.timersStalled(c.clock.nanos()) || c.ownerFence.closed()) {
            l.inflight.decrementAndGet();
            return CompletableFuture.completedFuture(IoResult.error(Status.TRANSITIONING, Sense.OWNERSHIP_MOVING));
        }
        if (!l.owned()) {
            l.inflight.decrementAndGet();
            return CompletableFuture.completedFuture(IoResult.error(Status.NOT_OWNER, Sense.NONE));
        }
        if (shipped) {
            l.stats.shippedIn.increment();
            c.balancer.recordShipped(l.id());
        } else {
            c.balancer.recordLocal(l.id());
        }
        CompletableFuture<IoResult> f;
        try {
            switch (op) {
                case Opcode.READ:
                    l.stats.reads.increment();
                    l.stats.readBytes.add(length);
                    if (!l.fileBacked()) {
                        f = CompletableFuture.completedFuture(IoResult.good(readDirect(l, offset, length)));
                    } else if (c.blockCache.cached(l.id(), offset, length)) {
                        f = CompletableFuture.completedFuture(IoResult.good(0, read(l, offset, length)));
                    } else {
                        // a read that goes to the drive waits on a disk thread, never on an event loop
                        f = CompletableFuture.supplyAsync(() -> {
                            try {
                                return IoResult.good(0, read(l, offset, length));
                            } catch (IOException e) {
                                ioFailure.failed(c.clock.nanos(), "READ of " + l.name() + " at " + offset + "+" + length, e);
                                return IoResult.error(Status.MEDIUM_ERROR, Sense.IO_ERROR);
                            }
                        }, c.disk);
                    }
                    break;
                case Opcode.WRITE:
                    l.stats.writes.increment();
                    l.stats.writeBytes.add(length);
                    f = cachedWrite(l, Extent.data(offset, data, 0, length, 0), fua, peerKeepsCopy && shipped && !fua);
                    break;
                case Opcode.DISCARD:
                case Opcode.WRITE_ZEROES:
                    l.stats.otherOps.increment();
                    f = cachedWrite(l, Extent.zeroes(offset, Integer.toUnsignedLong(length), 0), false, false);
                    break;
                case Opcode.FLUSH:
                    l.stats.otherOps.increment();
                    f = CompletableFuture.supplyAsync(() -> {
                        try {
                            c.destager.destageLun(l);
                            l.store.force();
                            return IoResult.good(0, null);
                        } catch (FencedException e) {
                            return IoResult.error(Status.TRANSITIONING, Sense.OWNERSHIP_MOVING);
                        } catch (IOException e) {
                            ioFailure.failed(c.clock.nanos(), "FLUSH of " + l.name(), e);
                            return IoResult.error(Status.MEDIUM_ERROR, Sense.IO_ERROR);
                        }
                    }, c.disk);
                    break;
                default:
                    f = CompletableFuture.completedFuture(IoResult.error(Status.INVALID_OPCODE, Sense.NONE));
            }
        } catch (IOException e) {
            ioFailure.failed(c.clock.nanos(), Opcode.name(op) + " of " + l.name() + " at " + offset + "+" + length, e);
            f = CompletableFuture.completedFuture(IoResult.error(Status.MEDIUM_ERROR, Sense.IO_ERROR));
        } catch (RuntimeException e) {
            l.inflight.decrementAndGet();
            throw e;
        }
        if (l.inflightDebug != null) {
            CompletableFuture<IoResult> tracked = f;
            l.inflightDebug.put(tracked, Opcode.name(op) + " " + offset + "+" + length + (shipped ? " shipped" : "")
                + " since " + c.clock.nanos());
            f = f.whenComplete((r, e) -> l.inflightDebug.remove(tracked));
        }
        return f.whenComplete((r, e) -> l.inflight.decrementAndGet());
    }

    /** A read of a store held in memory, with the cache's dirty extents over it. */
    private ByteBuf readDirect(Lun l, long offset, int length) throws IOException {
        return readOverlaid(l.store, offset, length, l.cache.overlapping(offset, length));
    }

    /**
     * {@code store}'s range with {@code overlay} copied over it, straight into a pooled direct buffer (the
     * caller's to send or release): the one copy a read needs, and the buffer a host's connection writes from (a
     * heap array would be zeroed, filled, and copied again to be sent). The owner's reads and the non-owner's
     * under its lease both read this way.
     */
    static ByteBuf readOverlaid(BackingStore store, long offset, int length, List<Extent> overlay) throws IOException {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(length, length);
        try {
            store.read(offset, buf, 0, length);
            ExtentMap.overlay(overlay, offset, buf, 0);
            return buf.writerIndex(length);
        } catch (IOException | RuntimeException e) {
            buf.release();
            throw e;
        }
    }

    private byte[] read(Lun l, long offset, int length) throws IOException {
        // dirty extents first: if destage runs meanwhile, the disk read sees their data or the overlay supplies it
        List<Extent> dirty = l.cache.overlapping(offset, length);
        byte[] buf = new byte[length];
        if (l.fileBacked()) {
            c.blockCache.read(l.id(), l.store, offset, buf, 0, length);
        } else {
            l.store.read(offset, buf, 0, length);
        }
        ExtentMap.overlay(dirty, offset, buf, 0);
        return buf;
    }

    /**
     * A write enters the cache (and the NVRAM journal) under the next slot and is mirrored to the peer while
     * the pair is in sync — FUA writes too, so that the mirror a takeover replays never holds an older copy
     * of a range than the disk. It is acknowledged once mirrored (FUA: and written through); when it cannot be
     * mirrored it is written through, and acknowledged once the peer no longer reads that range from its mirror.
     * A write the peer shipped and keeps a copy of is mirrored by the peer itself, on the reply (see
     * {@code LinkFrame.FLAG_MIRROR_HERE}): the host hears of it only once both copies exist, as for any other.
     */
    private CompletableFuture<IoResult> cachedWrite(Lun l, Extent unslotted, boolean fua, boolean peerKeepsCopy)
        throws IOException {
        if (l.cache.dataBytes() + (unslotted.isZeroes() ? 0 : unslotted.length()) > c.cfg.writeCacheBytes()) {
            return CompletableFuture.completedFuture(IoResult.error(Status.BUSY, Sense.CACHE_FULL));
        }
        long epoch = l.record.epoch();
        Extent e = c.nvram.admit(l, epoch, unslotted);
        ioFailure.worked();
        if (!c.peerSynced || c.peerState != PeerState.ALIVE) {
            return unmirrored(l, e);
        }
        l.stats.mirrorWrites.increment();
        c.destagedMark.sendingToMirror(e.slot());
        if (peerKeepsCopy) {
            return CompletableFuture.completedFuture(IoResult.mirrorAtPeer(e.slot()));
        }
        ByteBuf payload = e.isZeroes() ? null : Unpooled.wrappedBuffer(e.data(), e.dataOffset(), (int) e.length());
        LinkFrame m = LinkFrame.message(LinkFrame.CHANNEL_MIRROR, LinkFrame.MIRROR_WRITE,
            e.isZeroes() ? LinkFrame.MIRROR_ZEROES : LinkFrame.MIRROR_DATA, l.id(), epoch,
            (int) Math.min(e.length(), Integer.MAX_VALUE), e.slot(), e.offset(), payload);
        if (e.isZeroes()) {
            m = new LinkFrame(m.channel(), m.kind(), m.op(), m.flags(), 0, m.lun(), m.epoch(), 0, 0, 0, e.slot(),
                e.offset(), Unpooled.copyLong(e.length()));
        }
        return c.link.request(m, l.id()).handle((r, err) -> {
            if (r != null) {
                int st = r.status();
                r.release();
                if (st == Status.GOOD) {
                    return fua ? writeThrough(l, e).thenApply(w -> w.status() == Status.GOOD ? IoResult.mirrored(e.slot()) : w)
                        : CompletableFuture.completedFuture(IoResult.mirrored(e.slot()));
                }
            }
            return unmirrored(l, e);
        }).thenCompose(x -> x);
    }

    private CompletableFuture<IoResult> unmirrored(Lun l, Extent e) {
        CompletableFuture<Void> revoked = c.grants.revokeThrough(l, e.slot());
        return writeThrough(l, e).thenCompose(r -> r.status() != Status.GOOD ? CompletableFuture.completedFuture(r)
            : c.destagedMark.beforeUnmirroredAck().handle((x, err) -> {
                if (err == null) {
                    return r;
                }
                // the mirror may still hold an older copy of this range that a takeover would replay
                Throwable cause = err;
                while (cause.getCause() != null && !(cause instanceof IOException)) {
                    cause = cause.getCause();
                }
                if (cause instanceof FencedException) {
                    return IoResult.error(Status.TRANSITIONING, Sense.OWNERSHIP_MOVING);
                }
                LOG.error("controller {}: cannot destage ahead of an unmirrored write to {}: {}", c.id, l.name(),
                    cause.toString());
                return IoResult.error(Status.MEDIUM_ERROR, Sense.IO_ERROR);
            })).thenCombine(revoked, (r, x) -> r);
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
                        if (fenced(l)) {
                            // frozen between two parts: the next may land over what the peer wrote since
                            return IoResult.error(Status.TRANSITIONING, Sense.OWNERSHIP_MOVING);
                        }
                        writeToStore(l.store, part);
                    }
                }
                l.store.force();
                invalidateBlocks(l, e);
                l.cache.removeIfCurrent(e);
                return IoResult.good(e.slot(), null);
            } catch (IOException ex) {
                LOG.error("controller {}: write-through to {} failed", c.id, l.name(), ex);
                return IoResult.error(Status.MEDIUM_ERROR, Sense.IO_ERROR);
            } finally {
                l.diskLock.unlock();
            }
        }, c.disk);
    }

    /**
     * Whether this controller must not write the LUN's disk now: it does not own it, or it was frozen and has
     * not yet re-read ownership (the peer may have taken over and written newer data to the shared drives).
     * Checked under the disk lock right before every owner's disk write.
     */
    boolean fenced(Lun l) {
        if (c.diskFenced) {
            LOG.warn("controller {}: not writing {} to disk: the controller is {}", c.id, l.name(),
                c.state.name().toLowerCase(java.util.Locale.ROOT));
            return true;
        }
        if (!l.owned() || c.timersStalled(c.clock.nanos()) || c.ownerFence.closed()) {
            LOG.warn("controller {}: not writing {} to disk: {}", c.id, l.name(),
                !l.owned() ? "not the owner any more" : c.ownerFence.closed()
                    ? "the peer has not yet seen it alive after a gap in its heartbeats"
                    : "timers stalled, ownership not re-read yet");
            return true;
        }
        return false;
    }

    void invalidateBlocks(Lun l, Extent e) {
        if (l.fileBacked()) {
            c.blockCache.invalidate(l.id(), e.offset(), e.length());
        }
    }

    static void writeToStore(BackingStore store, Extent e) throws IOException {
        if (e.isZeroes()) {
            store.writeZeroes(e.offset(), e.length());
        } else {
            store.write(e.offset(), e.data(), e.dataOffset(), (int) e.length());
        }
    }
}
