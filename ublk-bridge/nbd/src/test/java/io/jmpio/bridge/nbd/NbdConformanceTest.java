package io.jmpio.bridge.nbd;

import io.jmpio.api.KernelBridge;
import io.jmpio.core.KernelBridgeConformance;
import io.jmpio.core.MultipathDevice;
import java.io.IOException;
import java.nio.file.Path;

/** The kernel-bridge conformance suite through the NBD export, spoken to as any NBD client would. */
class NbdConformanceTest extends KernelBridgeConformance {
    @Override
    protected KernelBridge startBridge(MultipathDevice device, Path dir) throws Exception {
        return NbdServer.start(device, "127.0.0.1:0", "lun0", NbdAccess.of("", null, null), NbdServer.Limits.DEFAULT);
    }

    @Override
    protected BlockTarget open(KernelBridge bridge) throws Exception {
        NbdBridgeTest.RawClient c = NbdBridgeTest.RawClient.connect(bridge);
        c.go("lun0");
        return new BlockTarget() {
            private long cookie;

            private void answer(long k, String what) throws IOException {
                int error = c.simpleReplyError(k);
                if (error != 0) {
                    throw new IOException(what + ": NBD error " + error);
                }
            }

            @Override
            public void write(long offset, byte[] data, boolean fua) throws IOException {
                long k = ++cookie;
                c.request(fua ? NbdProtocol.CMD_FLAG_FUA : 0, NbdProtocol.CMD_WRITE, k, offset, data.length, data);
                answer(k, "write at " + offset);
            }

            @Override
            public byte[] read(long offset, int length) throws IOException {
                long k = ++cookie;
                c.request(0, NbdProtocol.CMD_READ, k, offset, length, null);
                answer(k, "read at " + offset);
                return c.readBytes(length);
            }

            @Override
            public void flush() throws IOException {
                long k = ++cookie;
                c.request(0, NbdProtocol.CMD_FLUSH, k, 0, 0, null);
                answer(k, "flush");
            }

            @Override
            public void discard(long offset, long length) throws IOException {
                long k = ++cookie;
                c.request(0, NbdProtocol.CMD_TRIM, k, offset, (int) length, null);
                answer(k, "trim at " + offset);
            }

            @Override
            public void writeZeroes(long offset, long length) throws IOException {
                long k = ++cookie;
                c.request(0, NbdProtocol.CMD_WRITE_ZEROES, k, offset, (int) length, null);
                answer(k, "write zeroes at " + offset);
            }

            @Override
            public void close() throws IOException {
                c.close();
            }
        };
    }
}
