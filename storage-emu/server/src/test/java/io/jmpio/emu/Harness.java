package io.jmpio.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunSpec;
import io.jmpio.netty.NettyTransport;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;

/** Test helpers: arrays on ephemeral loopback ports with short timers, and a host's NVMe/TCP association. */
final class Harness {
    static final NettyTransport CLIENTS = NettyTransport.create("test-host", 2);

    private Harness() {
    }

    static ArrayConfig config(Path dir) {
        return new ArrayConfig().dataDir(dir).basePort(0).heartbeatIntervalMillis(50).heartbeatTimeoutMillis(300)
            .failbackDelayMillis(300).autoTransferThreshold(0).eventLoopThreads(2)
            .lun(LunSpec.parse("lun0:64M:A", "A", "file"));
    }

    /** The Authorization header value for the admin endpoints of the array in {@code dir}. */
    static String bearer(Path dir) throws IOException {
        return "Bearer " + java.nio.file.Files.readString(dir.resolve("admin.token")).strip();
    }

    static String port(ArrayServer a, String controller, int i) {
        return a.controller(controller).portAddresses().get(i);
    }

    /** A host NQN for a short test name ("host-1" becomes nqn.2014-08.io.jmpio.test:host-1). */
    static String nqn(String name) {
        return "nqn.2014-08.io.jmpio.test:" + name;
    }

    /**
     * One host's NVMe/TCP association through one port (an admin queue without Keep Alive, and one I/O queue),
     * for namespace 1 (lun0); one command at a time. Statuses are in the kernel's form (SCT << 8 | SC, DNR 4000h).
     */
    static final class Host implements AutoCloseable {
        static final int ANA_OPTIMIZED = 1;
        static final int ANA_NON_OPTIMIZED = 2;
        static final int ANA_INACCESSIBLE = 3;
        static final int ANA_CHANGE = 0xF;
        /** NVMe status Namespace Not Ready (the array's "busy": a full write cache). */
        static final int NS_NOT_READY = 0x082;
        static final int BLOCK = 512;

        final SpecNvmeHost admin;
        final SpecNvmeHost io;
        final int nsid;

        Host(ArrayServer a, String address, String hostName) throws IOException {
            this(a, address, hostName, 1);
        }

        Host(ArrayServer a, String address, String hostName, int nsid) throws IOException {
            this.nsid = nsid;
            admin = new SpecNvmeHost(address);
            SpecNvmeHost q = null;
            try {
                admin.connectTransport(false, false);
                int cntlid = admin.adminQueue(a.subsystemNqn(), nqn(hostName), 0);
                assertEquals(0, admin.setFeature(0x07, 0).status(), "Set Features: one I/O queue");
                q = new SpecNvmeHost(address);
                q.connectTransport(false, false);
                assertEquals(0, q.connect(1, 127, 0, a.subsystemNqn(), nqn(hostName), cntlid).status(), "I/O queue");
            } catch (IOException | RuntimeException | AssertionError e) {
                admin.close();
                if (q != null) {
                    q.close();
                }
                throw e;
            }
            io = q;
        }

        /** True when the status says "try another path, or later" (NVMe path-related, or Namespace Not Ready). */
        static boolean isPathError(int status) {
            return (status & 0x700) == 0x300 || (status & 0x7FF) == NS_NOT_READY;
        }

        synchronized SpecNvmeHost.Reply tryWrite(long offset, byte[] data, boolean fua) throws IOException {
            return io.write(nsid, offset / BLOCK, data, data.length <= 8192, fua);
        }

        void write(long offset, byte[] data) throws IOException {
            write(offset, data, false);
        }

        void write(long offset, byte[] data, boolean fua) throws IOException {
            SpecNvmeHost.Reply r = tryWrite(offset, data, fua);
            assertEquals(0, r.status(), "write at " + offset + ": status " + Integer.toHexString(r.status()));
        }

        /** Writes, retrying path statuses (ANA transition or inaccessible, not ready) as a multipath host would. */
        void writeRetrying(long offset, byte[] data) throws IOException, InterruptedException {
            for (int i = 0; i < 200; i++) {
                SpecNvmeHost.Reply r = tryWrite(offset, data, false);
                if (r.status() == 0) {
                    return;
                }
                if (!isPathError(r.status())) {
                    fail("write failed: status " + Integer.toHexString(r.status()));
                }
                Thread.sleep(20);
            }
            throw new AssertionError("write kept failing");
        }

        synchronized SpecNvmeHost.Reply tryRead(long offset, int length) throws IOException {
            return io.read(nsid, offset / BLOCK, length / BLOCK);
        }

        /** Reads, retrying path statuses as a multipath host would; fails on any other status. */
        byte[] readRetrying(long offset, int length) throws IOException, InterruptedException {
            for (int i = 0; i < 200; i++) {
                SpecNvmeHost.Reply r = tryRead(offset, length);
                if (r.status() == 0) {
                    return r.data();
                }
                if (!isPathError(r.status())) {
                    fail("read failed: status " + Integer.toHexString(r.status()));
                }
                Thread.sleep(20);
            }
            throw new AssertionError("read kept failing");
        }

        byte[] read(long offset, int length) throws IOException {
            SpecNvmeHost.Reply r = tryRead(offset, length);
            assertEquals(0, r.status(), "read at " + offset + ": status " + Integer.toHexString(r.status()));
            return r.data();
        }

        /** Flush (I/O opcode 00h) of the namespace; the status. */
        synchronized int flush() throws IOException {
            io.sendCommand(io.sqe(0x00, nsid, 0x5A, 0), null);
            return io.await(null).status();
        }

        /** The ANA state of this host's namespace through this port's controller (its ANA log page). */
        synchronized int ana() throws IOException {
            SpecNvmeHost.Reply r = admin.getLog(0x0C, 4096);
            assertEquals(0, r.status(), "ANA log");
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(r.data()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            int groups = b.getShort(8) & 0xFFFF;
            int at = 16;
            for (int g = 0; g < groups; g++) {
                int count = b.getInt(at + 4);
                int state = b.get(at + 16) & 0x0F;
                for (int i = 0; i < count; i++) {
                    if (b.getInt(at + 32 + 4 * i) == nsid) {
                        return state;
                    }
                }
                at += 32 + 4 * count;
            }
            throw new AssertionError("namespace " + nsid + " is in no ANA group");
        }

        /** CHGCNT of the ANA log page: it moves with every ANA change the controller reports. */
        synchronized long anaChangeCount() throws IOException {
            SpecNvmeHost.Reply r = admin.getLog(0x0C, 4096);
            assertEquals(0, r.status(), "ANA log");
            return java.nio.ByteBuffer.wrap(r.data()).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(0);
        }

        /** The active namespace list (Identify CNS 02h) this host is shown. */
        synchronized java.util.List<Integer> activeNamespaces() throws IOException {
            SpecNvmeHost.Reply r = admin.identify(2, 0);
            assertEquals(0, r.status(), "Identify active namespaces");
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(r.data()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            java.util.List<Integer> out = new java.util.ArrayList<>();
            for (int i = 0; i < 1024 && b.getInt(4 * i) != 0; i++) {
                out.add(b.getInt(4 * i));
            }
            return out;
        }

        /** True when this port serves I/O for the namespace (ANA optimized or non-optimized). */
        boolean serving() throws IOException {
            int s = ana();
            return s == ANA_OPTIMIZED || s == ANA_NON_OPTIMIZED;
        }

        @Override
        public void close() throws IOException {
            try {
                admin.close();
            } finally {
                io.close();
            }
        }
    }

    static void await(String what, long timeoutMillis, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                fail("timed out waiting for: " + what);
            }
            Thread.sleep(20);
        }
    }

    static boolean quietly(IoCheck check) {
        try {
            return check.get();
        } catch (IOException e) {
            return false;
        }
    }

    interface IoCheck {
        boolean get() throws IOException;
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new java.util.Random(seed).nextBytes(b);
        return b;
    }
}
