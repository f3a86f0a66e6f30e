package io.jmpio.bridge.ublk;

import static io.jmpio.bridge.ublk.UblkLayout.*;

import io.jmpio.nativeio.Native;

/**
 * One request as a {@code ublksrv_io_desc} describes it, checked before anything is read, allocated or handed to
 * the device: the op is one we serve, the range lies inside the device, a data transfer fits the tag's buffer
 * (the {@code max_io_buf_bytes} we registered) and no sector count overflows. What fails is answered with the
 * errno in {@link #errno} (a negative result for COMMIT), never turned into a device call.
 *
 * @param op     {@code UBLK_IO_OP_*}
 * @param fua    the FUA flag of a write
 * @param offset in bytes
 * @param length in bytes
 * @param errno  0 when the request is valid, else the errno it is answered with
 * @param why    what is wrong with it, or null
 */
record UblkRequest(int op, boolean fua, long offset, long length, int errno, String why) {
    /** The largest device the sector arithmetic below handles without overflow (2^63 bytes would not). */
    private static final long MAX_DEVICE_BYTES = Long.MAX_VALUE >>> 10;

    static UblkRequest decode(int opFlags, long startSector, int nrSectors, long deviceBytes, int maxIoBytes) {
        int op = opFlags & 0xff;
        boolean fua = (opFlags & IO_F_FUA) != 0;
        long sectors = nrSectors & 0xffffffffL;
        if (op == IO_OP_FLUSH) {
            return new UblkRequest(op, false, 0, 0, 0, null);
        }
        if (op != IO_OP_READ && op != IO_OP_WRITE && op != IO_OP_DISCARD && op != IO_OP_WRITE_ZEROES) {
            return refused(op, Native.ENOTSUP, "op " + op + " is not served");
        }
        if (deviceBytes <= 0 || deviceBytes > MAX_DEVICE_BYTES) {
            return refused(op, Native.EIO, "device size " + deviceBytes + " is not usable");
        }
        long deviceSectors = deviceBytes >>> 9;
        if (startSector < 0 || startSector > deviceSectors || sectors > deviceSectors - startSector) {
            return refused(op, Native.EINVAL, "sectors " + startSector + "+" + sectors + " lie outside the device ("
                + deviceSectors + " sectors)");
        }
        if (sectors == 0) {
            return refused(op, Native.EINVAL, "no sectors");
        }
        long length = sectors << 9;
        if ((op == IO_OP_READ || op == IO_OP_WRITE) && length > maxIoBytes) {
            return refused(op, Native.EINVAL, length + " bytes exceed the " + maxIoBytes + "-byte I/O buffer");
        }
        return new UblkRequest(op, fua && op == IO_OP_WRITE, startSector << 9, length, 0, null);
    }

    private static UblkRequest refused(int op, int errno, String why) {
        return new UblkRequest(op, false, 0, 0, errno, why);
    }
}
