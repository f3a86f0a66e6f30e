package io.jmpio.api;

import java.util.Map;

/** A running bridge. {@link #close()} undoes every step it took (idempotent), also after errors. */
public interface KernelBridge extends AutoCloseable {
    /** Where users find the device: "/dev/ublkb0", "/dev/loop3", "nbd://127.0.0.1:10809/lun0". */
    String location();

    /** What to report beside the location (ready file, status): export URI, mount point, loop device... */
    Map<String, Object> details();

    /**
     * Why detaching now would pull the device from under a user ("/dev/ublkb0 is mounted on /mnt"), or null.
     * Detach refuses then, unless forced.
     */
    default String busy() {
        return null;
    }

    @Override
    void close();
}
