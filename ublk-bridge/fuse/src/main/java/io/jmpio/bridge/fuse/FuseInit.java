package io.jmpio.bridge.fuse;

import static io.jmpio.bridge.fuse.FuseLayout.*;
import static io.jmpio.bridge.fuse.FuseResponder.out;

import io.jmpio.api.BlockDevice;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The INIT exchange that opens a FUSE connection: the protocol version both sides speak, the flags the file
 * system wants, and whether requests come over io_uring (the queues are made before the answer, since a flagged
 * answer whose queues then fail would hang the mount). The mount waits for it; what was chosen, and why, goes
 * into the bridge's details.
 */
final class FuseInit {
    private static final Logger LOG = LoggerFactory.getLogger(FuseInit.class);

    private final BlockDevice device;
    private final FuseRings rings;
    private final FuseRequests requests;
    /** "auto": FUSE over io_uring when the kernel offers it; "thread": so, each queue on a thread; "off": never. */
    private final String uringMode;
    private final int ringDepth;
    private final int maxWrite;
    /** The mount's /dev/fuse fd, the one the io_uring queues register on. */
    private final int fuseFd;
    private final Map<String, Object> details;
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile String error;

    FuseInit(BlockDevice device, FuseRings rings, FuseRequests requests, String uringMode, int ringDepth, int maxWrite,
             int fuseFd, Map<String, Object> details) {
        this.device = device;
        this.rings = rings;
        this.requests = requests;
        this.uringMode = uringMode;
        this.ringDepth = ringDepth;
        this.maxWrite = maxWrite;
        this.fuseFd = fuseFd;
        this.details = details;
    }

    /** Answers INIT on {@code r}. */
    void answer(FuseResponder r, ByteBuf in, long unique) {
        int major = in.getIntLE(IN_HEADER);
        int minor = in.getIntLE(IN_HEADER + 4);
        int readahead = in.getIntLE(IN_HEADER + 8);
        int flags = in.getIntLE(IN_HEADER + 12);
        if (major < KERNEL_MAJOR) {
            error = "kernel FUSE protocol " + major + "." + minor + " is older than 7.x";
            r.replyError(unique, EPROTO);
            done.countDown();
            return;
        }
        if (major > KERNEL_MAJOR) {
            // Answer with our major only; the kernel sends INIT again at that version.
            ByteBuf out = out(8);
            out.writeIntLE(KERNEL_MAJOR).writeIntLE(KERNEL_MINOR);
            r.reply(unique, out);
            return;
        }
        if ((flags & MAX_PAGES) == 0) {
            LOG.warn("FUSE: kernel {}.{} has no max_pages: writes are limited to 128 KiB", major, minor);
        }
        int flags2 = (flags & INIT_EXT) != 0 ? in.getIntLE(IN_HEADER + INIT_FLAGS2) : 0;
        String why = "off".equals(uringMode) ? "io-uring=off"
            : (flags2 & FLAGS2_OVER_IO_URING) == 0 ? FuseRings.notOffered(major, minor)
            : rings.prepare(requests, device, ringDepth, maxWrite, fuseFd, !"thread".equals(uringMode));
        boolean ring = why == null;
        int answered = Math.min(minor, ring ? URING_MINOR : KERNEL_MINOR);
        ByteBuf out = out(INIT_OUT);
        out.writeIntLE(KERNEL_MAJOR).writeIntLE(answered).writeIntLE(readahead)
            .writeIntLE(flags & WANTED_INIT_FLAGS | (ring ? INIT_EXT : 0)).writeShortLE(256).writeShortLE(192)
            .writeIntLE(maxWrite).writeIntLE(1).writeShortLE(maxWrite / 4096).writeShortLE(0)
            .writeIntLE(ring ? FLAGS2_OVER_IO_URING : 0).writeZero(28);
        r.reply(unique, out);
        rings.start(ring);
        String transport = ring ? "io_uring (" + rings.size() + " queues x " + rings.entriesPerQueue() + " entries, "
            + rings.servedBy() + ")"
            : "/dev/fuse";
        details.put("transport", transport);
        if (why != null) {
            details.put("transportReason", why);
        }
        LOG.info("FUSE transport: {}{}", transport, ring ? "" : " (" + why + ")");
        details.put("protocol", major + "." + answered);
        details.put("maxWrite", (flags & MAX_PAGES) != 0 ? maxWrite : 128 * 1024);
        done.countDown();
    }

    /** The connection ended: if INIT never came, the mount stops waiting for it. */
    void connectionEnded() {
        if (done.getCount() > 0) {
            error = "FUSE connection ended before INIT";
            done.countDown();
        }
    }

    /** Waits for INIT after mounting {@code mountPoint}; fails with why it did not come or was refused. */
    void await(Path mountPoint) throws IOException {
        try {
            if (!done.await(10, TimeUnit.SECONDS)) {
                throw new IOException("FUSE INIT did not arrive within 10 s after mounting " + mountPoint);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for FUSE INIT", e);
        }
        if (error != null) {
            throw new IOException(error);
        }
    }
}
