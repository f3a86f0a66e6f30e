package io.jmpio.bridge.nbd;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.api.BlockDevice;
import io.jmpio.api.BlockIoException;
import io.jmpio.api.DeviceInfo;
import io.jmpio.api.IoCallback;
import io.jmpio.api.IoErrorKind;
import io.jmpio.api.KernelBridge;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;

/**
 * A device error reaches the NBD client as an error reply, whatever the error carries: one without a message
 * once threw in the structured reply's encoder, on the event loop, so the request was never answered and the
 * client waited forever.
 */
class NbdDeviceErrorTest {
    /** Fails every request with a message-less error; a plugin's device may well do so. */
    private static final class SilentlyFailingDevice implements BlockDevice {
        @Override
        public DeviceInfo info() {
            return new DeviceInfo("failing", "wwid-failing", 1 << 20, 512, 4096, 1 << 20, false, false, false, false);
        }

        private static void fail(IoCallback callback) {
            callback.failed(new BlockIoException(IoErrorKind.MEDIUM_ERROR, null));
        }

        @Override
        public void read(long offset, int length, IoCallback callback) {
            fail(callback);
        }

        @Override
        public void write(long offset, ByteBuf data, boolean fua, IoCallback callback) {
            data.release();
            fail(callback);
        }

        @Override
        public void flush(IoCallback callback) {
            fail(callback);
        }

        @Override
        public void discard(long offset, long length, IoCallback callback) {
            fail(callback);
        }

        @Override
        public void writeZeroes(long offset, long length, IoCallback callback) {
            fail(callback);
        }

        @Override
        public Executor queueExecutor(int queue) {
            return Runnable::run;
        }

        @Override
        public void close() {
        }
    }

    @Test
    void aMessageLessDeviceErrorIsAnsweredToARealClient() throws Exception {
        try (KernelBridge bridge = NbdServer.start(new SilentlyFailingDevice(), "127.0.0.1:0", "lun0",
                NbdAccess.open(), NbdServer.Limits.DEFAULT)) {
            String listen = (String) bridge.details().get("listen");
            // nbdcopy negotiates structured replies; timeout(1) stops it if a reply never comes
            Tools.Result r = Tools.run(90, "timeout", "60", "nbdcopy", "nbd://" + listen + "/lun0", "null:");
            assertNotEquals(124, r.code(), "nbdcopy waited for an answer that never came:\n" + r.output());
            assertNotEquals(0, r.code(), "a read of a failing device succeeded:\n" + r.output());
            assertTrue(r.output().contains("Input/output error") || r.output().contains("BlockIoException"),
                r.output());
        }
    }
}
