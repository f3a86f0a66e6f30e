package io.jmpio.emu.nvme;

/**
 * NVMe constants this target uses: opcodes, status values (wire form: SCT in bits 10:8, SC in 7:0, DNR bit 14
 * of the status field as the kernel writes it; {@link #cqeStatus} shifts it into the CQE's bits 15:1), and
 * the well-known NQNs.
 */
final class Nvme {
    private Nvme() {
    }

    static final String DISCOVERY_NQN = "nqn.2014-08.org.nvmexpress.discovery";

    // admin opcodes
    static final int ADMIN_GET_LOG_PAGE = 0x02;
    static final int ADMIN_IDENTIFY = 0x06;
    static final int ADMIN_ABORT = 0x08;
    static final int ADMIN_SET_FEATURES = 0x09;
    static final int ADMIN_GET_FEATURES = 0x0A;
    static final int ADMIN_ASYNC_EVENT = 0x0C;
    static final int ADMIN_KEEP_ALIVE = 0x18;
    static final int FABRICS = 0x7F;

    // fabrics command types
    static final int FCTYPE_PROPERTY_SET = 0x00;
    static final int FCTYPE_CONNECT = 0x01;
    static final int FCTYPE_PROPERTY_GET = 0x04;

    // I/O opcodes
    static final int IO_FLUSH = 0x00;
    static final int IO_WRITE = 0x01;
    static final int IO_READ = 0x02;
    static final int IO_WRITE_ZEROES = 0x08;
    static final int IO_DSM = 0x09;
    static final int IO_RESV_REGISTER = 0x0D;
    static final int IO_RESV_REPORT = 0x0E;
    static final int IO_RESV_ACQUIRE = 0x11;
    static final int IO_RESV_RELEASE = 0x15;

    // status: SCT << 8 | SC
    static final int SC_SUCCESS = 0x000;
    static final int SC_INVALID_OPCODE = 0x001;
    static final int SC_INVALID_FIELD = 0x002;
    static final int SC_CID_CONFLICT = 0x003;
    static final int SC_DATA_TRANSFER_ERROR = 0x004;
    static final int SC_INTERNAL = 0x006;
    static final int SC_INVALID_NS = 0x00B;
    static final int SC_COMMAND_SEQUENCE = 0x00C;
    static final int SC_SGL_TYPE_INVALID = 0x011;
    static final int SC_SGL_INVALID_OFFSET = 0x016;
    static final int SC_KEEP_ALIVE_INVALID = 0x01A;
    static final int SC_LBA_RANGE = 0x080;
    static final int SC_NS_NOT_READY = 0x082;
    static final int SC_CONNECT_INCOMPATIBLE_FORMAT = 0x180;
    static final int SC_CONNECT_CONTROLLER_BUSY = 0x181;
    static final int SC_CONNECT_INVALID_PARAM = 0x182;
    static final int SC_CONNECT_INVALID_HOST = 0x184;
    static final int SC_ASYNC_LIMIT = 0x105;
    static final int SC_INVALID_QUEUE = 0x101;
    static final int SC_INVALID_LOG_PAGE = 0x109;
    static final int SC_FEATURE_NOT_SAVEABLE = 0x10D;
    static final int SC_FEATURE_NOT_CHANGEABLE = 0x10E;
    static final int SC_WRITE_FAULT = 0x280;
    static final int SC_READ_ERROR = 0x281;
    static final int SC_INTERNAL_PATH = 0x300;
    static final int SC_ANA_INACCESSIBLE = 0x302;
    static final int SC_ANA_TRANSITION = 0x303;
    /** Do Not Retry, as the status value (bit 14), before {@link #cqeStatus}. */
    static final int DNR = 0x4000;

    /** The CQE's status word: phase bit 0 (always 0 on fabrics), status in 15:1. */
    static int cqeStatus(int status) {
        return (status << 1) & 0xFFFE;
    }

    // ANA states
    static final int ANA_OPTIMIZED = 0x01;
    static final int ANA_NON_OPTIMIZED = 0x02;
    static final int ANA_INACCESSIBLE = 0x03;
    static final int ANA_CHANGE = 0x0F;
}
