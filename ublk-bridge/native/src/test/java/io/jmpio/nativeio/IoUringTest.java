package io.jmpio.nativeio;

import static io.jmpio.nativeio.IoUringLayout.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ring against this machine's real io_uring: NOP, READ, WRITE, URING_CMD, SQE128, timeouts, full SQ. */
class IoUringTest {
    @TempDir
    Path tmp;

    private record Cqe(long userData, int res) {
    }

    private static List<Cqe> waitFor(IoUring ring, int n) throws Exception {
        List<Cqe> got = new ArrayList<>();
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (got.size() < n && System.nanoTime() < deadline) {
            ring.submitAndWait(1, 1_000_000_000L);
            ring.reap((u, r, f) -> got.add(new Cqe(u, r)));
        }
        assertEquals(n, got.size(), "completions");
        return got;
    }

    @Test
    void nopsCompleteWithTheirUserData() throws Exception {
        try (IoUring ring = IoUring.create(8, 0)) {
            assertEquals(8, ring.sqEntries());
            for (int i = 0; i < 8; i++) {
                long sqe = ring.nextSqe();
                ring.sqe().putByte(sqe - ring.sqeBase() + SQE_OPCODE, (byte) OP_NOP);
                ring.sqe().putLong(sqe - ring.sqeBase() + SQE_USER_DATA, 100 + i);
            }
            assertEquals(0, ring.nextSqe(), "a full SQ gives no SQE");
            List<Cqe> c = waitFor(ring, 8);
            for (int i = 0; i < 8; i++) {
                assertEquals(100 + i, c.get(i).userData());
                assertEquals(0, c.get(i).res());
            }
            assertTrue(ring.nextSqe() != 0, "space again after the kernel consumed them");
        }
    }

    @Test
    void writeThenReadAFile() throws Exception {
        Path f = tmp.resolve("ring-data");
        int fd = Native.open(f.toString(), Native.O_RDWR | Native.O_CREAT, 0600);
        Pointer out = Memory.allocateDirect(Runtime.getSystemRuntime(), 4096);
        Pointer in = Memory.allocateDirect(Runtime.getSystemRuntime(), 4096);
        byte[] data = new byte[4096];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 31 + 7);
        }
        out.put(0, data, 0, data.length);
        try (IoUring ring = IoUring.create(4, 0)) {
            prepareRw(ring, OP_WRITE, fd, out.address(), 4096, 8192, 1);
            assertEquals(4096, waitFor(ring, 1).get(0).res());
            prepareRw(ring, OP_READ, fd, in.address(), 4096, 8192, 2);
            Cqe c = waitFor(ring, 1).get(0);
            assertEquals(2, c.userData());
            assertEquals(4096, c.res());
            byte[] back = new byte[4096];
            in.get(0, back, 0, back.length);
            assertArrayEquals(data, back);
            assertEquals(8192 + 4096, Files.size(f));
            prepareRw(ring, OP_READ, 1_000_000, in.address(), 4096, 0, 3);
            assertEquals(-9, waitFor(ring, 1).get(0).res(), "a bad fd completes with -EBADF");
        } finally {
            Native.close(fd);
        }
    }

    @Test
    void uringCmdReachesTheFileInA128ByteSqe() throws Exception {
        int fd = Native.open("/dev/null", Native.O_RDWR, 0);
        int file = Native.open(tmp.resolve("plain").toString(), Native.O_RDWR | Native.O_CREAT, 0600);
        try (IoUring ring = IoUring.create(4, SETUP_SQE128)) {
            assertEquals(128, ring.sqeSize());
            long sqe = ring.nextSqe() - ring.sqeBase();
            ring.sqe().putByte(sqe + SQE_OPCODE, (byte) OP_URING_CMD);
            ring.sqe().putInt(sqe + SQE_FD, fd);
            ring.sqe().putInt(sqe + SQE_CMD_OP, 0xc0207504);
            ring.sqe().putLong(sqe + SQE_USER_DATA, 77);
            ring.sqe().putLong(sqe + SQE_CMD + 72, 0x1122334455667788L); // the last 8 bytes of a 128-byte SQE
            Cqe c = waitFor(ring, 1).get(0);
            assertEquals(77, c.userData());
            assertEquals(0, c.res(), "/dev/null answers every uring_cmd with 0");
            long s2 = ring.nextSqe() - ring.sqeBase();
            ring.sqe().putByte(s2 + SQE_OPCODE, (byte) OP_URING_CMD);
            ring.sqe().putInt(s2 + SQE_FD, file);
            ring.sqe().putInt(s2 + SQE_CMD_OP, 0xc0207504);
            ring.sqe().putLong(s2 + SQE_USER_DATA, 78);
            Cqe c2 = waitFor(ring, 1).get(0);
            assertEquals(78, c2.userData());
            assertEquals(-Native.ENOTSUP, c2.res(), "a regular file has no uring_cmd: -EOPNOTSUPP");
        } finally {
            Native.close(fd);
            Native.close(file);
        }
    }

    @Test
    void waitWithATimeoutReturnsWhenNothingCompletes() throws Exception {
        int efd = (int) Native.syscallOrErrno(SYS_EVENTFD2, 0, 0, 0, 0, 0, 0);
        assertTrue(efd >= 0);
        Pointer buf = Memory.allocateDirect(Runtime.getSystemRuntime(), 8);
        try (IoUring ring = IoUring.create(4, 0)) {
            prepareRw(ring, OP_READ, efd, buf.address(), 8, 0, 5);
            long t0 = System.nanoTime();
            ring.submitAndWait(1, 200_000_000L);
            long waited = System.nanoTime() - t0;
            assertEquals(0, ring.reap((u, r, f) -> { }), "nothing completes: the eventfd was never written");
            assertTrue(waited >= 150_000_000L, "waited " + waited / 1_000_000 + " ms");
            Pointer one = Memory.allocateDirect(Runtime.getSystemRuntime(), 8);
            one.putLong(0, 1);
            Native.writeOrErrno(efd, one.address(), 8);
            Cqe c = waitFor(ring, 1).get(0);
            assertEquals(5, c.userData());
            assertEquals(8, c.res());
        } finally {
            Native.close(efd);
        }
    }

    static void prepareRw(IoUring ring, int op, int fd, long addr, int len, long offset, long userData) {
        long s = ring.nextSqe() - ring.sqeBase();
        Pointer p = ring.sqe();
        p.putByte(s + SQE_OPCODE, (byte) op);
        p.putInt(s + SQE_FD, fd);
        p.putLong(s + SQE_OFF, offset);
        p.putLong(s + SQE_ADDR, addr);
        p.putInt(s + SQE_LEN, len);
        p.putLong(s + SQE_USER_DATA, userData);
    }
}
