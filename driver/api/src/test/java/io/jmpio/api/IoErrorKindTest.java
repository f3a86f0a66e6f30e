package io.jmpio.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;

/** The one errno table of the kernel bridges: every value one NBD can carry, and the choices the protocols ask for. */
class IoErrorKindTest {
    /** NBD_EPERM, EIO, ENOMEM, EINVAL, ENOSPC, EOVERFLOW, ENOTSUP, ESHUTDOWN (the NBD protocol document). */
    private static final Set<Integer> NBD_ERRORS = Set.of(1, 5, 12, 22, 28, 75, 95, 108);

    @Test
    void everyKindHasAnErrnoEveryBridgeCanCarry() {
        for (IoErrorKind k : IoErrorKind.values()) {
            for (boolean write : new boolean[] {false, true}) {
                assertTrue(NBD_ERRORS.contains(k.errno(write)), k + " write=" + write + " -> " + k.errno(write));
            }
        }
        assertEquals(28, IoErrorKind.OUT_OF_RANGE.errno(true), "a write past the end: ENOSPC");
        assertEquals(22, IoErrorKind.OUT_OF_RANGE.errno(false), "a read past the end: EINVAL");
        assertEquals(1, IoErrorKind.ACCESS_DENIED.errno(false), "EPERM on every bridge (NBD has no EACCES)");
        assertEquals(95, IoErrorKind.UNSUPPORTED.errno(true), "EOPNOTSUPP: the kernel falls back");
        assertEquals(108, IoErrorKind.DEVICE_CLOSED.errno(false));
        assertEquals(5, IoErrorKind.MEDIUM_ERROR.errno(false));
        assertEquals(5, IoErrorKind.NO_PATH.errno(true));
    }
}
