package io.jmpio.core;

import static org.junit.jupiter.api.Assertions.fail;

import io.jmpio.api.BlockDevice;
import io.jmpio.api.BlockIoException;
import io.jmpio.api.IoCallback;
import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunSpec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/** A real emulated array on loopback with short timers, and a device config that reaches it through one port. */
public final class Fixture {
    /**
     * How much slower than this host the tests run where they run now (system property {@code jmpio.test.pace},
     * at least 1; 1 in a build). The guest tier runs the bridge conformance suite under TCG with its measured
     * pace, so that timers and waits stretch there instead of taking slowness for failure.
     */
    public static final double PACE = pace(System.getProperty("jmpio.test.pace", "1"));

    private Fixture() {
    }

    private static double pace(String value) {
        double p;
        try {
            p = Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("jmpio.test.pace: not a number: " + value, e);
        }
        if (!(p >= 1.0 && p <= 1000.0)) {
            throw new IllegalArgumentException("jmpio.test.pace: " + value + " is outside 1..1000");
        }
        return p;
    }

    /** {@code millis} stretched by {@link #PACE}. */
    public static long paced(long millis) {
        return (long) Math.ceil(millis * PACE);
    }

    /**
     * A linked pair on ephemeral loopback ports with short timers and one LUN ({@code lunSpec}, e.g.
     * "lun0:64M:A", on {@code backend}), for the bridges' tests.
     */
    public static ArrayServer linkedArray(Path dir, String lunSpec, String backend) throws IOException, InterruptedException {
        ArrayServer a = ArrayServer.start(shortTimers(dir).lun(LunSpec.parse(lunSpec, "A", backend)));
        if (!a.awaitLinked(paced(10_000))) {
            a.close();
            throw new AssertionError("the controllers did not link up");
        }
        return a;
    }

    /** A device named lun0 on every path of {@code a}, once all four are up (short timers, two queues). */
    public static MultipathDevice deviceOnFourPaths(ArrayServer a, String hostId, NoPathRetry noPathRetry)
            throws IOException, InterruptedException {
        MultipathDevice d = MultipathDevice.open(deviceConfig(a).name("lun0").hostId(hostId).scanIntervalMillis(500)
            .noPathRetry(noPathRetry));
        try {
            await("four paths up", 15_000, () -> d.pathsUp() == 4);
        } catch (AssertionError e) {
            d.close();
            throw e;
        }
        return d;
    }

    /** Closes each in turn (nulls skipped), every one even when an earlier one fails. */
    public static void closeAll(AutoCloseable... things) {
        for (AutoCloseable t : things) {
            if (t != null) {
                try {
                    t.close();
                } catch (Exception e) {
                    System.err.println("closing " + t + ": " + e);
                }
            }
        }
    }

    static ArrayConfig arrayConfig(Path dir) {
        return shortTimers(dir).lun(LunSpec.parse("lun0:64M:A", "A", "file"));
    }

    /** A pair on ephemeral loopback ports with short (paced) timers and no LUN yet. */
    private static ArrayConfig shortTimers(Path dir) {
        return new ArrayConfig().dataDir(dir).basePort(0).heartbeatIntervalMillis(50).heartbeatTimeoutMillis(paced(300))
            .failbackDelayMillis(paced(300)).autoTransferThreshold(0).eventLoopThreads(2);
    }

    static String port(ArrayServer a, String controller, int i) {
        return a.controller(controller).portAddresses().get(i);
    }

    /** A device on the array's NVMe/TCP ports, through one portal of controller A, its only namespace. */
    static MultipathConfig deviceConfig(ArrayServer a) {
        return new MultipathConfig().transport("nvme-tcp").portal(port(a, "A", 0))
            .hostId("nqn.2014-08.org.nvmexpress:uuid:00000000-1111-2222-3333-444444444444").ioQueues(2)
            .ioTimeoutMillis(paced(1000)).checkIntervalMillis(100).probeTimeoutMillis(paced(500)).scanIntervalMillis(1000)
            // first contact is paced too, and retried: a slow target is not a missing one (the guest's TCG once
            // took more than the build's 1000 ms to answer ICReq and Connect)
            .connectTimeoutMillis(paced(1000)).lossTimeoutMillis(paced(5_000)).reconnectDelayMillis(paced(250));
    }

    /** Waits until {@code condition} holds, failing after {@code timeoutMillis} stretched by {@link #PACE}. */
    public static void await(String what, long timeoutMillis, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + paced(timeoutMillis);
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                fail("timed out waiting for: " + what);
            }
            Thread.sleep(20);
        }
    }

    /** An IoCallback as a future: the read data as bytes, or an empty array for other operations. */
    static final class Done extends CompletableFuture<byte[]> implements IoCallback {
        @Override
        public void completed(ByteBuf data) {
            if (data == null) {
                complete(new byte[0]);
                return;
            }
            try {
                complete(ByteBufUtil.getBytes(data));
            } finally {
                data.release();
            }
        }

        @Override
        public void failed(BlockIoException error) {
            completeExceptionally(error);
        }

        byte[] get(long seconds) throws IOException {
            try {
                return get(seconds, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                throw (IOException) e.getCause();
            } catch (InterruptedException | TimeoutException e) {
                throw new IOException("no completion within " + seconds + " s", e);
            }
        }
    }

    public static byte[] read(BlockDevice d, long offset, int length) throws IOException {
        Done done = new Done();
        d.read(offset, length, done);
        return done.get(30);
    }

    static void write(BlockDevice d, long offset, byte[] data) throws IOException {
        Done done = new Done();
        d.write(offset, Unpooled.wrappedBuffer(data), false, done);
        done.get(30);
    }
}
