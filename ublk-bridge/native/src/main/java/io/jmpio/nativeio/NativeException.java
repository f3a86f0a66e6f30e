package io.jmpio.nativeio;

import java.io.IOException;

/** A failed system call: what was attempted, errno and its text ("open /dev/fuse: Permission denied (errno 13)"). */
public final class NativeException extends IOException {
    private final int errno;

    public NativeException(String call, int errno, String text) {
        super(call + ": " + text + " (errno " + errno + ")");
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
