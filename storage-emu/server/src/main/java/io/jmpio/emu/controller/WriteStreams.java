package io.jmpio.emu.controller;

import io.jmpio.emu.link.LinkFrame;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The owner's side of streamed writes: room reserved in the LUN's cache before the non-owner asks the host
 * for the data, the chunks placed straight into the buffer that becomes the cache extent, then the write
 * executed as any shipped write. Every field of every message is checked; a stream whose data stops coming
 * expires and gives its room back.
 */
final class WriteStreams {
    private static final Logger LOG = LoggerFactory.getLogger(WriteStreams.class);
    static final int MAX_STREAMS = 1024;
    static final long EXPIRY_NANOS = TimeUnit.SECONDS.toNanos(30);

    private static final class Stream {
        final Lun lun;
        final long offset;
        final int length;
        final boolean fua;
        final byte[] data;
        int received;
        final long deadlineNanos;

        Stream(Lun lun, long offset, int length, boolean fua, long deadlineNanos) {
            this.lun = lun;
            this.offset = offset;
            this.length = length;
            this.fua = fua;
            this.data = new byte[length];
            this.deadlineNanos = deadlineNanos;
        }
    }

    private final Controller c;
    private final ConcurrentHashMap<Long, Stream> streams = new ConcurrentHashMap<>();
    private final AtomicLong nextToken = new AtomicLong(1);

    WriteStreams(Controller controller) {
        this.c = controller;
    }

    CompletableFuture<LinkFrame> onMessage(LinkFrame f, Lun l) {
        try {
            switch (f.op()) {
                case LinkFrame.STREAM_RESERVE:
                    return done(reserve(f, l));
                case LinkFrame.STREAM_DATA:
                    return done(data(f, l));
                case LinkFrame.STREAM_COMMIT:
                    return commit(f, l);
                case LinkFrame.STREAM_ABORT:
                    Stream s = streams.get(f.source());
                    if (s != null && s.lun == l) {
                        drop(f.source(), s);
                    }
                    return null;
                default:
                    return done(f.reply(Status.INVALID_OPCODE, Sense.NONE, 0, null));
            }
        } finally {
            f.release();
        }
    }

    private static CompletableFuture<LinkFrame> done(LinkFrame reply) {
        return CompletableFuture.completedFuture(reply);
    }

    private LinkFrame reserve(LinkFrame f, Lun l) {
        if (l == null) {
            return f.reply(Status.INVALID_FIELD, Sense.UNKNOWN_LUN, 0, null);
        }
        long length = Integer.toUnsignedLong(f.length());
        int problem = IoCheck.check(Opcode.WRITE, f.destination(), length, length, l.record);
        if (problem == 0 && (f.payload().isReadable() || f.source() < 0 || f.source() >= Controller.MAX_PORTS_PER_CONTROLLER)) {
            problem = Status.INVALID_FIELD << 16 | Sense.NONE;
        }
        if (problem != 0) {
            LOG.warn("controller {}: refused a streamed write of {} at {}+{} from {}: {}", c.id, l.name(),
                f.destination(), length, c.peerId, Status.name(IoCheck.status(problem)));
            return f.reply(IoCheck.status(problem), IoCheck.sense(problem), 0, null);
        }
        if (l.transitioning || !l.owned()) {
            return f.reply(l.transitioning ? Status.TRANSITIONING : Status.NOT_OWNER,
                l.transitioning ? Sense.OWNERSHIP_MOVING : Sense.NONE, 0, null);
        }
        if (streams.size() >= MAX_STREAMS
            || l.cache.dataBytes() + l.reservedBytes.get() + length > c.cfg.writeCacheBytes()) {
            return f.reply(Status.BUSY, Sense.CACHE_FULL, 0, null); // the host is asked for its data later
        }
        l.reservedBytes.addAndGet(length);
        long token = nextToken.getAndIncrement();
        streams.put(token, new Stream(l, f.destination(), (int) length, (f.flags() & LinkFrame.FLAG_FUA) != 0,
            c.clock.nanos() + EXPIRY_NANOS));
        return f.reply(Status.GOOD, Sense.NONE, token, null);
    }

    private LinkFrame data(LinkFrame f, Lun l) {
        Stream s = streams.get(f.source());
        int len = f.payload().readableBytes();
        if (s == null || s.lun != l) {
            return f.reply(Status.INVALID_FIELD, Sense.NONE, 0, null);
        }
        synchronized (s) {
            if (len == 0 || len != f.length() || f.destination() != s.received || s.received + (long) len > s.length) {
                LOG.warn("controller {}: streamed write chunk at {}+{} ({} payload bytes) does not follow the {} of {}"
                    + " bytes received; dropping the write", c.id, f.destination(), f.length(), len, s.received, s.length);
                drop(f.source(), s);
                return f.reply(Status.INVALID_FIELD, Sense.PAYLOAD_MISMATCH, 0, null);
            }
            f.payload().getBytes(f.payload().readerIndex(), s.data, s.received, len);
            s.received += len;
        }
        return f.reply(Status.GOOD, Sense.NONE, 0, null);
    }

    private CompletableFuture<LinkFrame> commit(LinkFrame f, Lun l) {
        Stream s = streams.get(f.source());
        if (s == null || s.lun != l) {
            return done(f.reply(Status.INVALID_FIELD, Sense.NONE, 0, null));
        }
        drop(f.source(), s);
        synchronized (s) {
            if (s.received != s.length) {
                return done(f.reply(Status.INVALID_FIELD, Sense.PAYLOAD_MISMATCH, 0, null));
            }
        }
        boolean peerKeepsCopy = (f.flags() & LinkFrame.FLAG_MIRROR_HERE) != 0;
        return c.ownerIo.execute(l, Opcode.WRITE, s.fua, s.offset, s.length, s.data, true, peerKeepsCopy).thenApply(r -> {
            LinkFrame reply = f.reply(r.status(), r.sense(), r.position(), null);
            int flags = c.grants.shippedWriteReplyFlags(l, r);
            return flags == 0 ? reply : reply.withFlags(flags);
        });
    }

    private void drop(long token, Stream s) {
        if (streams.remove(token, s)) {
            s.lun.reservedBytes.addAndGet(-s.length);
        }
    }

    /** Streams whose data stopped coming give their room back (timer thread). */
    void expire(long now) {
        for (Iterator<Map.Entry<Long, Stream>> it = streams.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, Stream> e = it.next();
            if (now - e.getValue().deadlineNanos > 0) {
                LOG.warn("controller {}: streamed write to {} at {} expired with {} of {} bytes", c.id,
                    e.getValue().lun.name(), e.getValue().offset, e.getValue().received, e.getValue().length);
                drop(e.getKey(), e.getValue());
            }
        }
    }

    void clear() {
        streams.clear();
    }

}
