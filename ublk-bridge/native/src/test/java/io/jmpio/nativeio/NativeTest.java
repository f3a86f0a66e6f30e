package io.jmpio.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The native boundary against the real kernel: every call used by the bridges, and its failure report. */
class NativeTest {
    @TempDir
    Path tmp;

    @Test
    void fileIoThroughRawAddresses() throws Exception {
        Path f = tmp.resolve("data");
        int fd = Native.open(f.toString(), Native.O_RDWR | Native.O_CREAT, 0600);
        try {
            Pointer buf = Memory.allocateDirect(Runtime.getSystemRuntime(), 8192);
            for (int i = 0; i < 8192; i++) {
                buf.putByte(i, (byte) (i * 7));
            }
            assertEquals(4096, Native.pwrite(fd, buf.address(), 4096, 4096));
            assertEquals(8192, Files.size(f));
            Pointer back = Memory.allocateDirect(Runtime.getSystemRuntime(), 4096);
            assertEquals(4096, Native.pread(fd, back.address(), 4096, 4096));
            for (int i = 0; i < 4096; i++) {
                assertEquals((byte) (i * 7), back.getByte(i));
            }
        } finally {
            Native.close(fd);
        }
    }

    @Test
    void failuresCarryErrnoAndTheCall() {
        NativeException e = assertThrows(NativeException.class, () -> Native.open(tmp.resolve("missing/x").toString(), Native.O_RDONLY, 0));
        assertEquals(Native.ENOENT, e.errno());
        assertTrue(e.getMessage().startsWith("open " + tmp.resolve("missing/x") + ": No such file or directory (errno 2)"), e.getMessage());
        assertEquals(-9, Native.readOrErrno(1_000_000, 0, 1), "EBADF as -errno");
    }

    @Test
    void sixArgumentCallsGetTheirSixthArgument() throws Exception {
        // mmap's offset is the sixth argument: a file mapped at offset 4096 must show the second page.
        Path f = tmp.resolve("pages");
        byte[] two = new byte[8192];
        two[4096] = 42;
        Files.write(f, two);
        int fd = Native.open(f.toString(), Native.O_RDONLY, 0);
        try {
            long a = Native.mmap(4096, 1 /* PROT_READ */, 1 /* MAP_SHARED */, fd, 4096, "test file");
            assertEquals(42, Pointer.wrap(Runtime.getSystemRuntime(), a).getByte(0));
            Native.munmap(a, 4096);
        } finally {
            Native.close(fd);
        }
        assertEquals(ProcessHandle.current().pid(), Native.syscallOrErrno(39 /* getpid */, 0, 0, 0, 0, 0, 0));
    }
}
