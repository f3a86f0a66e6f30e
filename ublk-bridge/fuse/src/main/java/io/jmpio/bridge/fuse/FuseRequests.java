package io.jmpio.bridge.fuse;

import static io.jmpio.bridge.fuse.FuseLayout.*;
import static io.jmpio.bridge.fuse.FuseResponder.out;

import io.jmpio.api.DeviceInfo;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers every FUSE request but INIT, whichever transport brought it: the file system of one directory holding
 * one file (lookups, attributes, the directory listing, opens, statfs) itself, the file's I/O through
 * {@link FuseBlockIo}. A request that throws is answered with EIO, so none is left unanswered.
 */
final class FuseRequests {
    private static final Logger LOG = LoggerFactory.getLogger(FuseRequests.class);
    private static final long ATTR_VALID_SECONDS = 1;

    private final DeviceInfo info;
    private final String fileName;
    private final FuseBlockIo io;

    FuseRequests(DeviceInfo info, FuseBlockIo io) {
        this.info = info;
        this.fileName = info.name();
        this.io = io;
    }

    /** A request that came on an io_uring entry: its header and first argument in {@code args}, the rest in {@code payload}. */
    void dispatchRing(FuseResponder r, ByteBuf args, ByteBuf payload) {
        dispatch(r, args, payload, args.getIntLE(IN_OPCODE), args.getLongLE(IN_UNIQUE));
    }

    /**
     * One request: {@code in} holds fuse_in_header and the opcode's first argument (at IN_HEADER), {@code payload}
     * what follows it (a LOOKUP name, WRITE data).
     */
    void dispatch(FuseResponder r, ByteBuf in, ByteBuf payload, int opcode, long unique) {
        try {
            answer(r, in, payload, opcode, unique, in.getLongLE(IN_NODEID));
        } catch (RuntimeException e) {
            LOG.error("FUSE: opcode {} failed", opcode, e);
            if (io.forget(unique) || opcode != FORGET && opcode != BATCH_FORGET && opcode != INTERRUPT) {
                r.replyError(unique, EIO);
            }
        }
    }

    private void answer(FuseResponder r, ByteBuf in, ByteBuf payload, int opcode, long unique, long node) {
        switch (opcode) {
            case LOOKUP: {
                String name = cString(payload, 0);
                if (node == ROOT_ID && name.equals(fileName)) {
                    ByteBuf out = out(ENTRY_OUT);
                    out.writeLongLE(FILE_ID).writeLongLE(1).writeLongLE(ATTR_VALID_SECONDS).writeLongLE(ATTR_VALID_SECONDS)
                        .writeIntLE(0).writeIntLE(0);
                    attr(out, FILE_ID);
                    r.reply(unique, out);
                } else {
                    r.replyError(unique, ENOENT);
                }
                return;
            }
            case GETATTR:
            case SETATTR: {
                if (node != ROOT_ID && node != FILE_ID) {
                    r.replyError(unique, ENOENT);
                    return;
                }
                if (opcode == SETATTR && node == FILE_ID && (in.getIntLE(IN_HEADER + SETATTR_VALID) & FATTR_SIZE) != 0
                    && in.getLongLE(IN_HEADER + SETATTR_SIZE) != info.sizeBytes()) {
                    // The file is the device: its size is the LUN's (resize the LUN on the array instead).
                    r.replyError(unique, EPERM);
                    return;
                }
                ByteBuf out = out(ATTR_OUT);
                out.writeLongLE(ATTR_VALID_SECONDS).writeIntLE(0).writeIntLE(0);
                attr(out, node);
                r.reply(unique, out);
                return;
            }
            case OPEN:
            case OPENDIR: {
                if (opcode == OPEN ? node != FILE_ID : node != ROOT_ID) {
                    r.replyError(unique, node == ROOT_ID ? EISDIR : node == FILE_ID ? ENOTDIR : ENOENT);
                    return;
                }
                ByteBuf out = out(OPEN_OUT);
                out.writeLongLE(0).writeIntLE(opcode == OPEN ? FOPEN_DIRECT_IO | FOPEN_PARALLEL_DIRECT_WRITES : 0).writeIntLE(0);
                r.reply(unique, out);
                return;
            }
            case READDIR:
                readdir(r, in, unique);
                return;
            case READ:
                io.read(r, in, unique);
                return;
            case WRITE:
                io.write(r, in, payload, unique);
                return;
            case FSYNC:
            case FSYNCDIR:
                if (node == ROOT_ID) {
                    r.reply(unique, out(0));
                    return;
                }
                io.fsync(r, unique);
                return;
            case FLUSH:
            case RELEASE:
            case RELEASEDIR:
            case ACCESS:
                r.reply(unique, out(0));
                return;
            case STATFS: {
                ByteBuf out = out(STATFS_OUT);
                long blocks = info.sizeBytes() / 4096;
                out.writeLongLE(blocks).writeLongLE(0).writeLongLE(0).writeLongLE(2).writeLongLE(0)
                    .writeIntLE(4096).writeIntLE(255).writeIntLE(4096).writeIntLE(0).writeZero(24);
                r.reply(unique, out);
                return;
            }
            case FALLOCATE:
                io.fallocate(r, in, unique, node);
                return;
            case DESTROY:
                r.reply(unique, out(0));
                return;
            case FORGET:
            case BATCH_FORGET:
            case INTERRUPT:
                // No reply: FORGET never has one, and a request being interrupted is answered when the device answers.
                return;
            default:
                r.replyError(unique, ENOSYS);
        }
    }

    private void attr(ByteBuf out, long node) {
        boolean dir = node == ROOT_ID;
        long size = dir ? 0 : info.sizeBytes();
        long now = System.currentTimeMillis() / 1000;
        out.writeLongLE(node).writeLongLE(size).writeLongLE(size / 512).writeLongLE(now).writeLongLE(now).writeLongLE(now)
            .writeIntLE(0).writeIntLE(0).writeIntLE(0).writeIntLE(dir ? S_IFDIR | 0755 : S_IFREG | 0600)
            .writeIntLE(dir ? 2 : 1).writeIntLE(0).writeIntLE(0).writeIntLE(0)
            .writeIntLE(Math.max(4096, info.physicalBlockSize())).writeIntLE(0);
    }

    private void readdir(FuseResponder r, ByteBuf in, long unique) {
        long offset = in.getLongLE(IN_HEADER + RW_OFFSET);
        int size = Math.max(0, in.getIntLE(IN_HEADER + RW_SIZE));
        String[] names = {".", "..", fileName};
        long[] inos = {ROOT_ID, ROOT_ID, FILE_ID};
        int[] types = {DT_DIR, DT_DIR, DT_REG};
        ByteBuf out = out(Math.min(size, 4096));
        for (int i = offset <= 0 ? 0 : (int) Math.min(offset, names.length); i < names.length; i++) {
            byte[] n = names[i].getBytes(StandardCharsets.UTF_8);
            int entry = (DIRENT_HEADER + n.length + 7) & ~7;
            if (out.writerIndex() - OUT_HEADER + entry > size) {
                break;
            }
            out.writeLongLE(inos[i]).writeLongLE(i + 1).writeIntLE(n.length).writeIntLE(types[i]).writeBytes(n)
                .writeZero(entry - DIRENT_HEADER - n.length);
        }
        r.reply(unique, out);
    }

    private static String cString(ByteBuf in, int at) {
        int end = in.indexOf(at, in.writerIndex(), (byte) 0);
        return in.toString(at, (end < 0 ? in.writerIndex() : end) - at, StandardCharsets.UTF_8);
    }
}
