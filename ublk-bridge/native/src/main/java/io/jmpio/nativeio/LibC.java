package io.jmpio.nativeio;

import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * The libc calls jmpio makes, bound by jnr-ffi. Buffers are raw addresses (direct memory the caller owns),
 * so no call copies or marshals. Every call saves errno; {@link Native} turns failures into exceptions.
 */
public interface LibC {
    @SaveError int open(String path, int flags, int mode);

    @SaveError int close(int fd);

    @SaveError @ssize_t long read(int fd, long buf, @size_t long count);

    @SaveError @ssize_t long write(int fd, long buf, @size_t long count);

    @SaveError @ssize_t long writev(int fd, long iov, int iovcnt);

    @SaveError @ssize_t long pread(int fd, long buf, @size_t long count, long offset);

    @SaveError @ssize_t long pwrite(int fd, long buf, @size_t long count, long offset);

    @SaveError int ioctl(int fd, long request, long arg);

    @SaveError int mount(String source, String target, String fstype, long flags, String data);

    @SaveError int umount2(String target, int flags);

    @SaveError long syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6);

    @SaveError long mmap(long addr, @size_t long length, int prot, int flags, int fd, long offset);

    @SaveError int munmap(long addr, @size_t long length);

    String strerror(int errnum);
}
