package io.jmpio.emu.controller;

import io.jmpio.emu.cache.Extent;
import io.jmpio.emu.cache.ExtentMap;
import io.jmpio.emu.controller.PeerMonitor.PeerState;
import io.jmpio.emu.link.LinkFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The non-owner's side of I/O: requests shipped to the owner over the link, and the owner's storage position
 * of every shipped write, kept correlated by LBA range. A position is used while its write waits for destage:
 * a read of a range that shipped writes cover and whose mirror copies are current is answered here, from the
 * mirror, without a round trip; a takeover checks that every position is in the mirror it replays. Positions
 * go when the owner releases their slots (destaged), revokes them (an unmirrored write), or ownership changes.
 */
final class Shipper {
    private static final Logger LOG = LoggerFactory.getLogger(Shipper.class);

    private final Controller c;

    Shipper(Controller controller) {
        this.c = controller;
    }

    /** Ships one request; {@code data} (a write's) becomes the link message's payload, no copy made. */
    CompletableFuture<IoResult> ship(Lun l, int op, boolean fua, long offset, int length, ByteBuf data, int port) {
        if (op == Opcode.READ) {
            byte[] mirrored = readFromMirror(l, offset, length);
            if (mirrored != null) {
                l.stats.mirrorReads.increment();
                return CompletableFuture.completedFuture(IoResult.good(0, mirrored));
            }
            ByteBuf local = null;
            try {
                local = c.localReads.read(l, offset, length);
            } catch (java.io.IOException e) {
                LOG.warn("controller {}: reading {} at {}+{} here failed ({}); shipping it", c.id, l.name(), offset,
                    length, e.toString());
            }
            if (local != null) {
                l.stats.localReads.increment();
                return CompletableFuture.completedFuture(IoResult.good(local));
            }
        }
        long t0 = c.clock.nanos();
        long epoch = l.record.epoch();
        // the mirror copy the owner would otherwise send back: taken before the payload goes (the link releases it)
        byte[] mirrorCopy = op == Opcode.WRITE && !fua ? ByteBufUtil.getBytes(data, data.readerIndex(), length) : null;
        LinkFrame m = LinkFrame.message(LinkFrame.CHANNEL_SHIP, LinkFrame.SHIP_IO, op, l.id(), epoch,
            length, port, offset, data).withFlags(fua ? LinkFrame.FLAG_FUA
                : mirrorCopy != null ? LinkFrame.FLAG_MIRROR_HERE : 0);
        return c.link.request(m, 0).handle((r, err) -> {
            if (r == null) {
                return IoResult.error(Status.NOT_OWNER, Sense.LINK_DOWN);
            }
            try {
                l.stats.shippedOut.increment();
                l.stats.shippedOutBytes.add(op == Opcode.READ || op == Opcode.WRITE ? length : 0);
                l.stats.shipLatencyNanos.recordValue(Math.max(0, Math.min(c.clock.nanos() - t0,
                    l.stats.shipLatencyNanos.getHighestTrackableValue())));
                if (r.status() != Status.GOOD) {
                    return IoResult.error(r.status(), r.sense());
                }
                if (op == Opcode.READ && (r.flags() & LinkFrame.FLAG_READ_LEASE) != 0) {
                    c.localReads.granted(l, r.destination(), epoch, t0);
                }
                if (op == Opcode.READ ? r.payload().readableBytes() != length : r.payload().isReadable()) {
                    LOG.warn("controller {}: shipped {} of {} bytes answered with {} bytes by {}; failing it", c.id,
                        Opcode.name(op), length, r.payload().readableBytes(), c.peerId);
                    return IoResult.error(Status.MEDIUM_ERROR, Sense.PAYLOAD_MISMATCH);
                }
                IoResult refused = keepMirrorCopyIfLeftHere(r, l, epoch, offset, mirrorCopy);
                if (refused != null) {
                    return refused;
                }
                boolean mirrored = (r.flags() & LinkFrame.FLAG_MIRRORED) != 0;
                if (mirrored && op != Opcode.READ && op != Opcode.FLUSH) {
                    record(l, offset, Integer.toUnsignedLong(length), r.source(), t0);
                }
                // the read's data stays in the link frame it came in; the host's connection sends that slice on
                return op == Opcode.READ ? IoResult.good(r.payload().retain())
                    : new IoResult(Status.GOOD, Sense.NONE, r.source(), null, mirrored);
            } finally {
                r.release();
            }
        });
    }

    /**
     * When the owner's reply {@code r} to a shipped write carries {@link LinkFrame#FLAG_MIRROR_HERE}, it cached the
     * write in slot {@code r.source()} and left its mirror copy to us: the copy goes into the mirror before the host
     * hears of the write. Returns null when there was nothing to keep or it was kept, else the write's failure: the
     * owner claims a copy never offered, or the LUN changed hands or the owner was found dead since the write was
     * shipped (a takeover replays the mirror as it was; the host retries).
     */
    private IoResult keepMirrorCopyIfLeftHere(LinkFrame r, Lun l, long epoch, long offset, byte[] copy) {
        if ((r.flags() & LinkFrame.FLAG_MIRROR_HERE) == 0) {
            return null;
        }
        long slot = r.source();
        if (copy == null) {
            LOG.warn("controller {}: {} answered a shipped request of {} with a mirror copy to keep that was never"
                + " offered; failing it", c.id, c.peerId, l.name());
            return IoResult.error(Status.MEDIUM_ERROR, Sense.PAYLOAD_MISMATCH);
        }
        // a peer found dead may be taken over (its mirror replayed) any moment: a copy put in now could be missed;
        // one only unheard on the link (partitioned) is not taken over, and a resync empties what it finds
        if (l.owned() || !c.peerId.equals(l.record.owner()) || l.record.epoch() != epoch
            || c.peerState == PeerState.DEAD) {
            // one line per write would flood the log in a takeover; the host sees "transitioning" and retries
            LOG.debug("controller {}: not keeping the mirror copy of a write shipped to {} on {} at {} (ownership"
                + " changed or the peer was found dead); failing it for the host to retry", c.id, c.peerId, l.name(),
                offset);
            l.stats.mirrorCopiesRefused.increment();
            return IoResult.error(Status.TRANSITIONING, Sense.OWNERSHIP_MOVING);
        }
        l.mirror.put(Extent.data(offset, copy, 0, copy.length, slot));
        l.stats.mirrorCopiesKept.increment();
        return null;
    }

    /**
     * A write whose data the host sends later: the owner reserves room for it first (so the host is asked for
     * its data only when the owner can take it), then each chunk goes to the owner as it arrives, on one
     * shipping channel so they stay in order, and the commit executes it there.
     */
    CompletableFuture<HostWrite> openStream(Lun l, boolean fua, long offset, int length, int port) {
        long t0 = c.clock.nanos();
        LinkFrame m = LinkFrame.message(LinkFrame.CHANNEL_SHIP, LinkFrame.SHIP_STREAM, LinkFrame.STREAM_RESERVE, l.id(),
            l.record.epoch(), length, port, offset, null).withFlags(fua ? LinkFrame.FLAG_FUA : 0);
        return c.link.request(m, 0).handle((r, err) -> {
            if (r == null) {
                return HostWrite.refused(IoResult.error(Status.NOT_OWNER, Sense.LINK_DOWN));
            }
            r.release();
            if (r.status() != Status.GOOD) {
                return HostWrite.refused(IoResult.error(r.status(), r.sense()));
            }
            return new StreamedWrite(l, r.source(), offset, length, fua, t0);
        });
    }

    private final class StreamedWrite implements HostWrite {
        private final Lun l;
        private final long token;
        private final int route;
        private final long offset;
        private final int length;
        private final long t0;
        private final long epoch;
        /** The mirror copy offered to the owner (writes without FUA), filled as the chunks go; else null. */
        private final byte[] mirrorCopy;
        private final List<CompletableFuture<LinkFrame>> sent = new java.util.ArrayList<>();

        StreamedWrite(Lun l, long token, long offset, int length, boolean fua, long t0) {
            this.l = l;
            this.token = token;
            this.route = (int) (token ^ token >>> 32) | 1;
            this.offset = offset;
            this.length = length;
            this.t0 = t0;
            this.epoch = l.record.epoch();
            this.mirrorCopy = fua ? null : new byte[length];
        }

        @Override
        public IoResult refusal() {
            return null;
        }

        @Override
        public void data(long at, io.netty.buffer.ByteBuf chunk) {
            int n = chunk.readableBytes();
            if (mirrorCopy != null && at >= 0 && at + n <= length) {
                chunk.getBytes(chunk.readerIndex(), mirrorCopy, (int) at, n);
            }
            sent.add(c.link.request(LinkFrame.message(LinkFrame.CHANNEL_SHIP, LinkFrame.SHIP_STREAM,
                LinkFrame.STREAM_DATA, l.id(), l.record.epoch(), n, token, at, chunk.retainedSlice()), route));
        }

        @Override
        public CompletableFuture<IoResult> commit() {
            return CompletableFuture.allOf(sent.toArray(new CompletableFuture<?>[0])).handle((x, e) -> {
                IoResult failed = null;
                for (CompletableFuture<LinkFrame> f : sent) {
                    // a part the link could not carry (no channel, or it went down) completed exceptionally: the
                    // write fails as a path error, which the host retries on another path
                    LinkFrame r = f.isCompletedExceptionally() ? null : f.getNow(null);
                    if (r != null) {
                        r.release();
                    }
                    if (failed == null && (r == null || r.status() != Status.GOOD)) {
                        failed = r == null ? IoResult.error(Status.NOT_OWNER, Sense.LINK_DOWN)
                            : IoResult.error(r.status(), r.sense());
                    }
                }
                if (failed != null) {
                    abort();
                    return CompletableFuture.completedFuture(failed);
                }
                return c.link.request(LinkFrame.message(LinkFrame.CHANNEL_SHIP, LinkFrame.SHIP_STREAM,
                    LinkFrame.STREAM_COMMIT, l.id(), l.record.epoch(), length, token, 0, null)
                    .withFlags(mirrorCopy != null ? LinkFrame.FLAG_MIRROR_HERE : 0), route).handle((r, err) -> {
                        if (r == null) {
                            return IoResult.error(Status.NOT_OWNER, Sense.LINK_DOWN);
                        }
                        r.release();
                        l.stats.shippedOut.increment();
                        l.stats.shippedOutBytes.add(length);
                        l.stats.streamedWrites.increment();
                        l.stats.shipLatencyNanos.recordValue(Math.max(0, Math.min(c.clock.nanos() - t0,
                            l.stats.shipLatencyNanos.getHighestTrackableValue())));
                        if (r.status() != Status.GOOD) {
                            return IoResult.error(r.status(), r.sense());
                        }
                        IoResult refused = keepMirrorCopyIfLeftHere(r, l, epoch, offset, mirrorCopy);
                        if (refused != null) {
                            return refused;
                        }
                        boolean mirrored = (r.flags() & LinkFrame.FLAG_MIRRORED) != 0;
                        if (mirrored) {
                            record(l, offset, length, r.source(), t0);
                        }
                        return new IoResult(Status.GOOD, Sense.NONE, r.source(), null, mirrored);
                    });
            }).thenCompose(f -> f);
        }

        @Override
        public void abort() {
            c.link.send(LinkFrame.message(LinkFrame.CHANNEL_SHIP, LinkFrame.SHIP_STREAM, LinkFrame.STREAM_ABORT, l.id(),
                l.record.epoch(), 0, token, 0, null));
        }
    }

    private void record(Lun l, long offset, long length, long slot, long shippedAtNanos) {
        synchronized (l.shippedPositions) {
            if (slot <= l.positionsRevokedUpTo) {
                // the owner revoked this slot before its reply got here: a newer write of the range may not be
                // in the mirror, so the position must not be believed
                l.stats.positionsRevoked.increment();
                return;
            }
            l.positionShippedAt.put(slot, shippedAtNanos);
            l.shippedPositions.put(Extent.zeroes(offset, length, slot));
        }
    }

    /**
     * The range's data from the mirror, when every byte of it was written by a shipped write whose position
     * is still held, within its lease, and the mirror holds that slot or a newer one for it; else null.
     */
    private byte[] readFromMirror(Lun l, long offset, int length) {
        if (c.peerState != PeerState.ALIVE || l.shippedPositions.isEmpty()) {
            return null;
        }
        List<Extent> positions = l.shippedPositions.overlapping(offset, length);
        if (!covers(positions, offset, length)) {
            return null;
        }
        long now = c.clock.nanos();
        for (Extent p : positions) {
            Long shippedAt = l.positionShippedAt.get(p.slot());
            if (shippedAt == null || now - shippedAt >= c.grants.leaseNanos()) {
                return null;
            }
        }
        List<Extent> mirrored = l.mirror.overlapping(offset, length);
        if (!covers(mirrored, offset, length) || !newerOrSame(mirrored, positions)) {
            return null;
        }
        byte[] buf = new byte[length];
        ExtentMap.overlay(mirrored, offset, buf, 0);
        return buf;
    }

    /** Whether the clipped, offset-ordered extents cover [offset, offset + length) without a gap. */
    private static boolean covers(List<Extent> parts, long offset, long length) {
        long at = offset;
        for (Extent e : parts) {
            if (e.offset() != at) {
                return false;
            }
            at = e.end();
        }
        return at == offset + length;
    }

    /** Whether every byte's mirror slot is at least its position's slot (both lists cover the same range). */
    private static boolean newerOrSame(List<Extent> mirrored, List<Extent> positions) {
        int i = 0;
        int j = 0;
        while (i < mirrored.size() && j < positions.size()) {
            Extent m = mirrored.get(i);
            Extent p = positions.get(j);
            if (m.slot() < p.slot()) {
                return false;
            }
            if (m.end() <= p.end()) {
                i++;
            }
            if (p.end() <= m.end()) {
                j++;
            }
        }
        return true;
    }

    /** The owner destaged (released) its slots up to {@code slot}: their positions go too. */
    void released(Lun l, long slot) {
        l.shippedPositions.releaseUpTo(slot);
        l.positionShippedAt.headMap(slot, true).clear();
    }

    /**
     * The owner acknowledges a write its mirror lacks (slot {@code slot}): no position at or below it is read any
     * more, neither those held nor those whose replies are still on their way.
     */
    void revoked(Lun l, long slot) {
        synchronized (l.shippedPositions) {
            l.positionsRevokedUpTo = Math.max(l.positionsRevokedUpTo, slot);
            released(l, slot);
        }
        l.stats.positionsRevoked.increment();
    }

    /** Ownership or the peer changed: every position goes (the revocation mark stays: slots only grow). */
    void forget(Lun l) {
        synchronized (l.shippedPositions) {
            l.shippedPositions.clear();
            l.positionShippedAt.clear();
        }
        c.localReads.drop(l);
    }

    /**
     * Takeover, before the mirror is replayed: every write this controller shipped and was told is mirrored,
     * and whose slot was not released, must be in the mirror (at that slot or a newer one). Returns how many
     * are missing, each reported: an acknowledged write that the replay would not restore.
     */
    int missingFromMirror(Lun l) {
        int missing = 0;
        for (Extent p : l.shippedPositions.snapshot()) {
            List<Extent> mirrored = l.mirror.overlapping(p.offset(), p.length());
            if (!covers(mirrored, p.offset(), p.length()) || !newerOrSame(mirrored, List.of(p))) {
                missing++;
                LOG.error("controller {}: {} at {}+{}: the shipped write in the owner's slot {} is not in the mirror",
                    c.id, l.name(), p.offset(), p.length(), p.slot());
            }
        }
        return missing;
    }

    /** Non-owner's record: the owner's storage position of the last shipped write covering {@code offset}, or -1. */
    long position(Lun l, long offset) {
        List<Extent> e = l.shippedPositions.overlapping(offset, 1);
        return e.isEmpty() ? -1 : e.get(0).slot();
    }
}
