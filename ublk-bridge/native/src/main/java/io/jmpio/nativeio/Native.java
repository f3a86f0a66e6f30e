package io.jmpio.nativeio;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;

/**
 * The one native boundary: libc through jnr-ffi, each call checked, a failure thrown as
 * {@link NativeException} carrying errno and the call's description.
 */
public final class Native {
    static {
        // jnr-ffi's x86 assembly stubs pass garbage in the sixth argument (mmap's offset, syscall's a6).
        if (System.getProperty("jnr.ffi.x86asm.enabled") == null) {
            System.setProperty("jnr.ffi.x86asm.enabled", "false");
        }
    }

    private static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
    private static final Runtime RUNTIME = Runtime.getRuntime(LIBC);

    // open(2) flags (x86-64 / generic Linux).
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_TRUNC = 01000;
    public static final int O_NONBLOCK = 04000;
    public static final int O_DSYNC = 010000;
    public static final int O_DIRECT = 040000;
    public static final int O_CLOEXEC = 02000000;

    // errno values the callers branch on.
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int EAGAIN = 11;
    public static final int EACCES = 13;
    public static final int EBUSY = 16;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int ENOSYS = 38;
    public static final int ENOTSUP = 95;
    public static final int ETIME = 62;
    public static final int ECANCELED = 125;

    private Native() {
    }

    public static LibC libc() {
        return LIBC;
    }

    /** errno of the last call on this thread. */
    public static int errno() {
        return RUNTIME.getLastError();
    }

    public static String strerror(int errno) {
        return LIBC.strerror(errno);
    }

    static NativeException failure(String call) {
        int e = errno();
        return new NativeException(call, e, strerror(e));
    }

    public static int open(String path, int flags, int mode) throws NativeException {
        int fd = LIBC.open(path, flags | O_CLOEXEC, mode);
        if (fd < 0) {
            throw failure("open " + path);
        }
        return fd;
    }

    public static void close(int fd) {
        if (fd >= 0) {
            LIBC.close(fd);
        }
    }

    /** read(2); returns bytes read, or -errno (callers branch on ENOENT, EINTR, ENODEV). */
    public static long readOrErrno(int fd, long address, long count) {
        long n = LIBC.read(fd, address, count);
        return n >= 0 ? n : -errno();
    }

    /** write(2); returns bytes written, or -errno. */
    public static long writeOrErrno(int fd, long address, long count) {
        long n = LIBC.write(fd, address, count);
        return n >= 0 ? n : -errno();
    }

    /** writev(2) of {@code count} iovecs at {@code iov}; bytes written, or -errno. */
    public static long writevOrErrno(int fd, long iov, int count) {
        long n = LIBC.writev(fd, iov, count);
        return n >= 0 ? n : -errno();
    }

    public static long pread(int fd, long address, long count, long offset) throws NativeException {
        long n = LIBC.pread(fd, address, count, offset);
        if (n < 0) {
            throw failure("pread fd " + fd + " at " + offset);
        }
        return n;
    }

    public static long pwrite(int fd, long address, long count, long offset) throws NativeException {
        long n = LIBC.pwrite(fd, address, count, offset);
        if (n < 0) {
            throw failure("pwrite fd " + fd + " at " + offset);
        }
        return n;
    }

    public static int ioctl(int fd, long request, long arg, String what) throws NativeException {
        int r = LIBC.ioctl(fd, request, arg);
        if (r < 0) {
            throw failure(what);
        }
        return r;
    }

    public static void mount(String source, String target, String fstype, long flags, String data) throws NativeException {
        if (LIBC.mount(source, target, fstype, flags, data) != 0) {
            throw failure("mount " + fstype + " on " + target);
        }
    }

    /** umount2(2); 0 or -errno. */
    public static int umount2OrErrno(String target, int flags) {
        return LIBC.umount2(target, flags) == 0 ? 0 : -errno();
    }

    /** A raw system call; the result, or -errno. */
    public static long syscallOrErrno(long number, long a1, long a2, long a3, long a4, long a5, long a6) {
        long r = LIBC.syscall(number, a1, a2, a3, a4, a5, a6);
        return r == -1 ? -errno() : r;
    }

    public static long mmap(long length, int prot, int flags, int fd, long offset, String what) throws NativeException {
        long a = LIBC.mmap(0, length, prot, flags, fd, offset);
        if (a == -1L) {
            throw failure("mmap " + what);
        }
        return a;
    }

    public static void munmap(long address, long length) {
        LIBC.munmap(address, length);
    }
}
