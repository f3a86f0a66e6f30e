package io.jmpio.emu.controller;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.jmpio.emu.cache.Extent;
import io.jmpio.emu.controller.PeerMonitor.PeerState;
import io.jmpio.emu.link.InterControllerLink;
import io.jmpio.emu.link.LinkFrame;
import io.jmpio.netty.FailureText;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What arrives from the peer over the link, each message checked before it touches anything: shipped I/O
 * (executed as owner), mirror writes and releases, position revocations, management (peer description,
 * transitions, mirror resets, metadata changes); and this controller's own description for the peer.
 */
final class LinkMessages implements InterControllerLink.Handler {
    private static final Logger LOG = LoggerFactory.getLogger(LinkMessages.class);
    /** More reads than one tick of the fastest controller could answer: a report above it is not believed. */
    static final long MAX_LOCAL_READS_PER_REPORT = 1L << 32;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Controller c;

    LinkMessages(Controller controller) {
        this.c = controller;
    }

    /** This controller as the peer is told of it: id, incarnation, admin address, the front-end ports that are up. */
    byte[] helloPayload() {
        try {
            return JSON.writeValueAsBytes(new PeerInfo(c.id, c.incarnation, c.adminAddress, c.upPortAddresses()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void announcePorts() {
        c.link.send(LinkFrame.message(LinkFrame.CHANNEL_MANAGEMENT, LinkFrame.MANAGEMENT, LinkFrame.OP_PEER_INFO, 0, 0,
            0, 0, 0, Unpooled.wrappedBuffer(helloPayload())));
        c.access.recompute();
    }

    @Override
    public void onHello(byte[] payload) {
        if (!c.pauseGate.closed() || !c.pauseGate.hold(() -> hello(payload))) {
            hello(payload);
        }
    }

    private void hello(byte[] payload) {
        try {
            PeerInfo info = JSON.readValue(payload, PeerInfo.class).checked(c.peerId, Controller.MAX_PORTS_PER_CONTROLLER);
            PeerInfo previous = c.peerInfo;
            c.peerInfo = info;
            if (previous == null || !previous.ports().equals(info.ports())) {
                // the peer's ports changed: the discovery logs change with them
                for (Controller.HostFrontEnd f : c.frontEnds) {
                    f.accessChanged();
                }
            }
            if (previous != null && previous.incarnation() != info.incarnation()) {
                // a restarted owner starts unsynchronised: nothing granted by its previous life is read any more
                for (Lun l : c.luns.values()) {
                    c.shipper.forget(l);
                }
                if (c.peerState == PeerState.ALIVE && c.state == Controller.State.RUNNING) {
                    LOG.info("controller {}: peer {} restarted; resynchronising", c.id, c.peerId);
                    c.ops.execute(c::resync);
                }
            }
            c.access.recompute();
        } catch (IOException | IllegalArgumentException e) {
            LOG.warn("controller {}: refused the peer's description of itself: {}", c.id, FailureText.of(e));
        }
    }

    @Override
    public void onHeartbeat() {
        if (c.state == Controller.State.RUNNING) {
            c.monitor.linkHeartbeat(c.clock.nanos());
        }
    }

    @Override
    public void onManagementDown() {
        // the monitor notices the silence; nothing is decided on a closed socket alone
    }

    @Override
    public CompletableFuture<LinkFrame> onRequest(LinkFrame f) {
        if (c.pauseGate.closed()) { // a volatile read per message, no allocation while running
            CompletableFuture<LinkFrame> held = c.pauseGate.answerOnResume(() -> {
                CompletableFuture<LinkFrame> r = request(f); // null: nothing to answer
                return r == null ? CompletableFuture.completedFuture(null) : r;
            });
            if (held != null) {
                return held;
            }
        }
        return request(f);
    }

    private CompletableFuture<LinkFrame> request(LinkFrame f) {
        Controller.State s = c.state;
        if (s != Controller.State.RUNNING) {
            f.release();
            return null;
        }
        Lun l = c.luns.get(f.lun());
        switch (f.kind()) {
            case LinkFrame.SHIP_IO:
                return shipped(f, l);
            case LinkFrame.SHIP_STREAM:
                return c.streams.onMessage(f, l);
            case LinkFrame.MIRROR_WRITE:
                return mirrorWrite(f, l);
            case LinkFrame.MIRROR_RELEASE:
                f.release();
                if (l != null && !l.owned() && c.peerId.equals(l.record.owner())) {
                    l.mirror.releaseUpTo(f.source());
                    c.shipper.released(l, f.source());
                }
                return null;
            case LinkFrame.MANAGEMENT:
                return management(f, l);
            default:
                f.release();
                return done(f.reply(Status.INVALID_OPCODE, Sense.NONE, 0, null));
        }
    }

    private static CompletableFuture<LinkFrame> done(LinkFrame reply) {
        return CompletableFuture.completedFuture(reply);
    }

    private CompletableFuture<LinkFrame> shipped(LinkFrame f, Lun l) {
        if (l == null) {
            f.release();
            return done(f.reply(Status.INVALID_FIELD, Sense.UNKNOWN_LUN, 0, null));
        }
        int problem = IoCheck.check(f.op(), f.destination(), Integer.toUnsignedLong(f.length()),
            f.payload().readableBytes(), l.record);
        if (problem == 0 && (f.source() < 0 || f.source() >= Controller.MAX_PORTS_PER_CONTROLLER)) {
            problem = Status.INVALID_FIELD << 16 | Sense.NONE;
        }
        if (problem != 0) {
            LOG.warn("controller {}: refused shipped {} on {} at {}+{} ({} payload bytes) from {}: {}", c.id,
                Opcode.name(f.op()), l.name(), f.destination(), Integer.toUnsignedLong(f.length()),
                f.payload().readableBytes(), c.peerId, Status.name(IoCheck.status(problem)));
            f.release();
            return done(f.reply(IoCheck.status(problem), IoCheck.sense(problem), 0, null));
        }
        byte[] data = f.op() == Opcode.WRITE ? ByteBufUtil.getBytes(f.payload()) : null;
        f.release();
        boolean peerKeepsCopy = f.op() == Opcode.WRITE && (f.flags() & LinkFrame.FLAG_MIRROR_HERE) != 0;
        return c.ownerIo.execute(l, f.op(), (f.flags() & LinkFrame.FLAG_FUA) != 0, f.destination(), f.length(), data,
            true, peerKeepsCopy).thenApply(r -> {
                LinkFrame reply = f.reply(r.status(), r.sense(), r.position(), r.data());
                if (f.op() == Opcode.READ) {
                    long lease = r.status() == Status.GOOD ? c.grants.grantReadLease(l) : -1;
                    return lease < 0 ? reply : reply.withReadLease(lease);
                }
                int flags = c.grants.shippedWriteReplyFlags(l, r);
                return flags == 0 ? reply : reply.withFlags(flags);
            });
    }

    private CompletableFuture<LinkFrame> mirrorWrite(LinkFrame f, Lun l) {
        try {
            if (l == null || l.owned() || !c.peerId.equals(l.record.owner())
                || f.epoch() < (l.record.epoch() & 0xFFFFFFFFL)) {
                // only the LUN's owner mirrors to its partner, and only for its current ownership
                return done(f.reply(Status.NOT_OWNER, Sense.NONE, 0, null));
            }
            if (f.op() != LinkFrame.MIRROR_DATA && f.op() != LinkFrame.MIRROR_ZEROES) {
                return done(f.reply(Status.INVALID_OPCODE, Sense.NONE, 0, null));
            }
            long covered = f.op() == LinkFrame.MIRROR_ZEROES && f.payload().readableBytes() == Long.BYTES
                ? f.payload().getLong(f.payload().readerIndex()) : Integer.toUnsignedLong(f.length());
            int problem = IoCheck.checkMirror(f.op() == LinkFrame.MIRROR_ZEROES, f.destination(), covered,
                f.payload().readableBytes(), l.record);
            if (problem != 0) {
                LOG.warn("controller {}: refused mirrored extent of {} at {}+{} ({} payload bytes) from {}: {}",
                    c.id, l.name(), f.destination(), covered, f.payload().readableBytes(), c.peerId,
                    Status.name(IoCheck.status(problem)));
                return done(f.reply(IoCheck.status(problem), IoCheck.sense(problem), 0, null));
            }
            if (f.op() == LinkFrame.MIRROR_ZEROES) {
                l.mirror.put(Extent.zeroes(f.destination(), covered, f.source()));
            } else {
                byte[] data = ByteBufUtil.getBytes(f.payload());
                l.mirror.put(Extent.data(f.destination(), data, 0, data.length, f.source()));
            }
            return done(f.reply(Status.GOOD, Sense.NONE, 0, null));
        } finally {
            f.release();
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
                if (l == null || !c.peerId.equals(l.record.owner())) {
                    // only the owner moves a LUN away; anything else would freeze a LUN it cannot move
                    LOG.warn("controller {}: refused a transition of LUN {} from {}, which does not own it", c.id,
                        f.lun(), c.peerId);
                    return notOwnersMessage(f, l);
                }
                l.transitioning = f.op() == LinkFrame.OP_TRANSITION_BEGIN;
                l.transitionSinceNanos = c.clock.nanos();
                c.access.recompute();
                return done(f.reply(Status.GOOD, Sense.NONE, 0, null));
            case LinkFrame.OP_MIRROR_RESET:
                if (l == null || !c.peerId.equals(l.record.owner())) {
                    return notOwnersMessage(f, l);
                }
                c.localReads.mirrorReset(l, f.source(), f.destination());
                l.mirror.clear();
                c.shipper.released(l, f.source());
                return done(f.reply(Status.GOOD, Sense.NONE, 0, null));
            case LinkFrame.OP_MIRROR_REVOKE:
                if (l == null || !c.peerId.equals(l.record.owner())) {
                    return notOwnersMessage(f, l);
                }
                c.localReads.revoked(l, f.destination());
                c.shipper.revoked(l, f.source());
                return done(f.reply(Status.GOOD, Sense.NONE, 0, null));
            case LinkFrame.OP_LOCAL_READS:
                if (l == null || !l.owned() || f.source() < 0 || f.source() > MAX_LOCAL_READS_PER_REPORT) {
                    LOG.warn("controller {}: ignored a report of {} local reads of LUN {} from {} ({})", c.id, f.source(),
                        f.lun(), c.peerId, l == null ? "no such LUN" : !l.owned() ? "not its owner here"
                            : "not a count one tick can hold");
                    return null;
                }
                c.balancer.recordShipped(l.id(), f.source());
                return null;
            case LinkFrame.OP_METADATA_CHANGED:
                return CompletableFuture.supplyAsync(() -> {
                    try {
                        c.reloadMetadata();
                        return f.reply(Status.GOOD, Sense.NONE, 0, null);
                    } catch (IOException e) {
                        LOG.error("controller {}: cannot reload metadata", c.id, e);
                        return f.reply(Status.MEDIUM_ERROR, Sense.IO_ERROR, 0, null);
                    }
                }, c.ops);
            default:
                return done(f.reply(Status.INVALID_OPCODE, Sense.NONE, 0, null));
        }
    }

    private static CompletableFuture<LinkFrame> notOwnersMessage(LinkFrame f, Lun l) {
        return done(f.reply(l == null ? Status.INVALID_FIELD : Status.NOT_OWNER,
            l == null ? Sense.UNKNOWN_LUN : Sense.NONE, 0, null));
    }
}
