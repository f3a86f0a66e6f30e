package io.jmpio.emu.cli;

import io.jmpio.bridge.nbd.NbdClient;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Where the demo's workload does its I/O: the kernel block device a bridge made (opened with O_DIRECT, so
 * every request goes through the kernel to jmpio), or an NBD export. One per worker thread.
 */
interface DemoTarget extends AutoCloseable {
    void write(long offset, byte[] block) throws IOException;

    void read(long offset, byte[] into) throws IOException;

    @Override
    void close() throws IOException;

    static DemoTarget open(String location) throws IOException {
        return location.startsWith("nbd://") ? new Nbd(NbdClient.connect(location)) : new DirectDevice(Path.of(location));
    }

    /** A block device with O_DIRECT: aligned buffers, no page cache between the workload and the device. */
    final class DirectDevice implements DemoTarget {
        private final FileChannel ch;
        private final ByteBuffer buf = ByteBuffer.allocateDirect(2 * 4096).alignedSlice(4096);

        DirectDevice(Path dev) throws IOException {
            ch = FileChannel.open(dev, StandardOpenOption.READ, StandardOpenOption.WRITE,
                com.sun.nio.file.ExtendedOpenOption.DIRECT);
        }

        @Override
        public void write(long offset, byte[] block) throws IOException {
            buf.clear();
            buf.put(block, 0, 4096).flip();
            while (buf.hasRemaining()) {
                ch.write(buf, offset + buf.position());
            }
        }

        @Override
        public void read(long offset, byte[] into) throws IOException {
            buf.clear().limit(4096);
            while (buf.hasRemaining()) {
                if (ch.read(buf, offset + buf.position()) < 0) {
                    throw new IOException("end of device at " + offset);
                }
            }
            buf.flip();
            buf.get(into, 0, 4096);
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }

    /** One NBD connection (the export offers multi-conn, so every worker has its own). */
    final class Nbd implements DemoTarget {
        private final NbdClient client;

        Nbd(NbdClient client) {
            this.client = client;
        }

        @Override
        public void write(long offset, byte[] block) throws IOException {
            client.write(offset, block, block.length, false);
        }

        @Override
        public void read(long offset, byte[] into) throws IOException {
            client.read(offset, into, into.length);
        }

        @Override
        public void close() throws IOException {
            client.close();
        }
    }
}
