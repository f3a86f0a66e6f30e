package io.jmpio.bridge.ublk;

/**
 * ublk's user-visible layouts and numbers ({@code include/uapi/linux/ublk_cmd.h}). Little-endian.
 *
 * <pre>
 * ublksrv_ctrl_cmd (32, at SQE byte 48 of a 128-byte SQE)
 *   0 dev_id u32 | 4 queue_id u16 (0xffff: none) | 6 len u16 | 8 addr u64 | 16 data[0] u64
 *  24 dev_path_len u16 | 26 pad u16 | 28 reserved u32
 *
 * ublksrv_ctrl_dev_info (64)
 *   0 nr_hw_queues u16 | 2 queue_depth u16 | 4 state u16 | 6 pad0 u16 | 8 max_io_buf_bytes u32
 *  12 dev_id u32 | 16 ublksrv_pid s32 | 20 pad1 u32 | 24 flags u64 | 32 ublksrv_flags u64
 *  40 owner_uid u32 | 44 owner_gid u32 | 48 reserved1 u64 | 56 reserved2 u64
 *
 * ublk_params: 0 len u32 | 4 types u32
 *   8 basic (32):    8 attrs u32 | 12 logical_bs_shift u8 | 13 physical_bs_shift u8 | 14 io_opt_shift u8
 *                    15 io_min_shift u8 | 16 max_sectors u32 | 20 chunk_sectors u32 | 24 dev_sectors u64
 *                    32 virt_boundary_mask u64
 *  40 discard (20): 40 discard_alignment u32 | 44 discard_granularity u32 | 48 max_discard_sectors u32
 *                    52 max_write_zeroes_sectors u32 | 56 max_discard_segments u16 | 58 reserved0 u16
 *  60 devt (16):    60 char_major | 64 char_minor | 68 disk_major | 72 disk_minor (u32, read-only)
 *
 * ublksrv_io_desc (24, in the queue's mmapped array, one per tag)
 *   0 op_flags u32 (op: bits 0-7, flags: 8-31) | 4 nr_sectors u32 | 8 start_sector u64 | 16 addr u64
 *
 * ublksrv_io_cmd (16, at SQE byte 48 of a 64-byte SQE)
 *   0 q_id u16 | 2 tag u16 | 4 result s32 | 8 addr u64
 * </pre>
 */
final class UblkLayout {
    private UblkLayout() {
    }

    static final String CONTROL_PATH = "/dev/ublk-control";

    // ublksrv_ctrl_cmd
    static final int CTRL_CMD_SIZE = 32;
    static final int CC_DEV_ID = 0;
    static final int CC_QUEUE_ID = 4;
    static final int CC_LEN = 6;
    static final int CC_ADDR = 8;
    static final int CC_DATA = 16;
    static final int CC_DEV_PATH_LEN = 24;

    // ublksrv_ctrl_dev_info
    static final int DEV_INFO_SIZE = 64;
    static final int DI_NR_HW_QUEUES = 0;
    static final int DI_QUEUE_DEPTH = 2;
    static final int DI_STATE = 4;
    static final int DI_MAX_IO_BUF_BYTES = 8;
    static final int DI_DEV_ID = 12;
    static final int DI_SRV_PID = 16;
    static final int DI_FLAGS = 24;
    static final int DI_OWNER_UID = 40;

    // ublk_params
    static final int PARAMS_BASIC_LEN = 40;
    static final int PARAMS_DISCARD_LEN = 60;
    static final int PARAMS_DEVT_LEN = 76;
    static final int PR_LEN = 0;
    static final int PR_TYPES = 4;
    static final int PB_ATTRS = 8;
    static final int PB_LOGICAL_BS_SHIFT = 12;
    static final int PB_PHYSICAL_BS_SHIFT = 13;
    static final int PB_IO_OPT_SHIFT = 14;
    static final int PB_IO_MIN_SHIFT = 15;
    static final int PB_MAX_SECTORS = 16;
    static final int PB_CHUNK_SECTORS = 20;
    static final int PB_DEV_SECTORS = 24;
    static final int PB_VIRT_BOUNDARY_MASK = 32;
    static final int PD_ALIGNMENT = 40;
    static final int PD_GRANULARITY = 44;
    static final int PD_MAX_DISCARD_SECTORS = 48;
    static final int PD_MAX_WRITE_ZEROES_SECTORS = 52;
    static final int PD_MAX_DISCARD_SEGMENTS = 56;
    static final int PT_DISK_MAJOR = 68;
    static final int PT_DISK_MINOR = 72;
    static final int PARAM_TYPE_BASIC = 1;
    static final int PARAM_TYPE_DISCARD = 1 << 1;
    static final int PARAM_TYPE_DEVT = 1 << 2;
    static final int ATTR_READ_ONLY = 1;
    static final int ATTR_ROTATIONAL = 1 << 1;
    static final int ATTR_VOLATILE_CACHE = 1 << 2;
    static final int ATTR_FUA = 1 << 3;

    // ublksrv_io_desc
    static final int IO_DESC_SIZE = 24;
    static final int ID_OP_FLAGS = 0;
    static final int ID_NR_SECTORS = 4;
    static final int ID_START_SECTOR = 8;
    static final int ID_ADDR = 16;
    static final int MAX_QUEUE_DEPTH = 4096;

    // ublksrv_io_cmd
    static final int IO_CMD_SIZE = 16;
    static final int IC_Q_ID = 0;
    static final int IC_TAG = 2;
    static final int IC_RESULT = 4;
    static final int IC_ADDR = 8;

    // I/O ops and flags
    static final int IO_OP_READ = 0;
    static final int IO_OP_WRITE = 1;
    static final int IO_OP_FLUSH = 2;
    static final int IO_OP_DISCARD = 3;
    static final int IO_OP_WRITE_SAME = 4;
    static final int IO_OP_WRITE_ZEROES = 5;
    static final int IO_F_FUA = 1 << 13;

    // Control commands: the ioctl encoding (_IOR/_IOWR('u', nr, struct ublksrv_ctrl_cmd)); the legacy
    // number is the low byte.
    static final int CMD_GET_DEV_INFO = 0x80207502;
    static final int CMD_ADD_DEV = 0xc0207504;
    static final int CMD_DEL_DEV = 0xc0207505;
    static final int CMD_START_DEV = 0xc0207506;
    static final int CMD_STOP_DEV = 0xc0207507;
    static final int CMD_SET_PARAMS = 0xc0207508;
    static final int CMD_GET_PARAMS = 0x80207509;
    static final int CMD_START_USER_RECOVERY = 0xc0207510;
    static final int CMD_END_USER_RECOVERY = 0xc0207511;
    static final int CMD_GET_FEATURES = 0x80207513;
    /** _IOR('u', 0x14, struct ublksrv_ctrl_cmd): delete without waiting for openers (6.9+; no legacy number). */
    static final int CMD_DEL_DEV_ASYNC = 0x80207514;

    // I/O commands (_IOWR('u', nr, struct ublksrv_io_cmd)); legacy: the low byte.
    static final int IO_FETCH_REQ = 0xc0107520;
    static final int IO_COMMIT_AND_FETCH_REQ = 0xc0107521;
    static final int IO_NEED_GET_DATA = 0xc0107522;

    static final int IO_RES_OK = 0;
    static final int IO_RES_NEED_GET_DATA = 1;

    /** pread/pwrite offset of a request's data on /dev/ublkcN with USER_COPY. */
    static final long IO_BUF_OFFSET = 0x80000000L;
    static final int IO_BUF_BITS = 25;
    static final int TAG_BITS = 16;

    static long userCopyOffset(int queue, int tag) {
        return IO_BUF_OFFSET + ((long) queue << (IO_BUF_BITS + TAG_BITS) | (long) tag << IO_BUF_BITS);
    }

    /** Byte offset of queue {@code q}'s descriptor array in the /dev/ublkcN mapping. */
    static long descriptorOffset(int queue, long pageSize) {
        long perQueue = (MAX_QUEUE_DEPTH * (long) IO_DESC_SIZE + pageSize - 1) / pageSize * pageSize;
        return queue * perQueue;
    }

    // Device flags (UBLK_F_*).
    static final long F_SUPPORT_ZERO_COPY = 1L;
    static final long F_URING_CMD_COMP_IN_TASK = 1L << 1;
    static final long F_NEED_GET_DATA = 1L << 2;
    static final long F_USER_RECOVERY = 1L << 3;
    static final long F_USER_RECOVERY_REISSUE = 1L << 4;
    static final long F_UNPRIVILEGED_DEV = 1L << 5;
    static final long F_CMD_IOCTL_ENCODE = 1L << 6;
    static final long F_USER_COPY = 1L << 7;
    static final long F_ZONED = 1L << 8;
    static final long F_USER_RECOVERY_FAIL_IO = 1L << 9;

    static final String[] FLAG_NAMES = {"SUPPORT_ZERO_COPY", "URING_CMD_COMP_IN_TASK", "NEED_GET_DATA",
        "USER_RECOVERY", "USER_RECOVERY_REISSUE", "UNPRIVILEGED_DEV", "CMD_IOCTL_ENCODE", "USER_COPY", "ZONED",
        "USER_RECOVERY_FAIL_IO", "UPDATE_SIZE", "AUTO_BUF_REG", "QUIESCE", "PER_IO_DAEMON", "BUF_REG_OFF_DAEMON"};

    static String flagNames(long flags) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 64; i++) {
            if ((flags & (1L << i)) != 0) {
                if (sb.length() > 0) {
                    sb.append('|');
                }
                sb.append(i < FLAG_NAMES.length ? FLAG_NAMES[i] : "bit" + i);
            }
        }
        return sb.length() == 0 ? "none" : sb.toString();
    }

    // Device states.
    static final int S_DEV_DEAD = 0;
    static final int S_DEV_LIVE = 1;
    static final int S_DEV_QUIESCED = 2;
    static final int S_DEV_FAIL_IO = 3;

    static String stateName(int state) {
        switch (state) {
            case S_DEV_DEAD: return "dead";
            case S_DEV_LIVE: return "live";
            case S_DEV_QUIESCED: return "quiesced";
            case S_DEV_FAIL_IO: return "fail-io";
            default: return "state " + state;
        }
    }
}
