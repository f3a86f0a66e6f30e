package io.jmpio.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunSpec;
import io.jmpio.emu.protocol.ArrayClient;
import io.jmpio.emu.protocol.Frame;
import io.jmpio.emu.protocol.LunList;
import io.jmpio.netty.NettyTransport;
import io.jmpio.emu.protocol.Opcode;
import io.jmpio.emu.protocol.PortGroupReport;
import io.jmpio.emu.protocol.Status;
import io.netty.buffer.ByteBufUtil;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/** Test helpers: arrays on ephemeral loopback ports with short timers, and a registered host connection. */
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

    /** A registered host connection to one port, with the LUN id of lun0. */
    static final class Host implements AutoCloseable {
        final ArrayClient client;
        final int lun;
        final List<Frame> notices = new ArrayList<>();

        Host(String address, String hostId) throws IOException {
            client = ArrayClient.connect(CLIENTS, ArrayClient.parseAddress(address), f -> {
                synchronized (notices) {
                    notices.add(f);
                }
            }, 2000);
            Frame r = ArrayClient.await(client.register(hostId), 5000);
            assertEquals(Status.GOOD, r.status(), r.describe());
            r.release();
            Frame l = ArrayClient.await(client.simple(Opcode.REPORT_LUNS, 0), 5000);
            LunList list = LunList.read(l.payload());
            l.release();
            lun = list.luns().isEmpty() ? -1 : list.luns().get(0).id();
        }

        Frame call(java.util.concurrent.CompletableFuture<Frame> f) throws IOException {
            return ArrayClient.await(f, 10_000);
        }

        long write(long offset, byte[] data) throws IOException {
            return write(offset, data, false);
        }

        long write(long offset, byte[] data, boolean fua) throws IOException {
            Frame r = call(client.write(lun, offset, data, fua));
            try {
                assertEquals(Status.GOOD, r.status(), r.describe());
                return r.aux();
            } finally {
                r.release();
            }
        }

        /** Writes, retrying path statuses (TRANSITIONING, BUSY...) as a multipath host would. */
        long writeRetrying(long offset, byte[] data) throws IOException, InterruptedException {
            for (int i = 0; i < 200; i++) {
                Frame r = call(client.write(lun, offset, data, false));
                r.release();
                if (r.good()) {
                    return r.aux();
                }
                if (!Status.isPathError(r.status())) {
                    fail("write failed: " + r.describe());
                }
                Thread.sleep(20);
            }
            throw new AssertionError("write kept failing");
        }

        byte[] read(long offset, int length) throws IOException {
            Frame r = call(client.read(lun, offset, length));
            try {
                assertEquals(Status.GOOD, r.status(), r.describe());
                return ByteBufUtil.getBytes(r.payload());
            } finally {
                r.release();
            }
        }

        int status(int opcode) throws IOException {
            Frame r = call(client.simple(opcode, lun));
            r.release();
            return r.status();
        }

        PortGroupReport portGroups() throws IOException {
            Frame r = call(client.simple(Opcode.REPORT_TARGET_PORT_GROUPS, lun));
            try {
                assertEquals(Status.GOOD, r.status(), r.describe());
                return PortGroupReport.read(r.payload());
            } finally {
                r.release();
            }
        }

        @Override
        public void close() {
            client.close();
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
