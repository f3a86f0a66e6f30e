package io.jmpio.nativeio;

/**
 * io_uring's user-visible layouts ({@code include/uapi/linux/io_uring.h}). Little-endian.
 *
 * <pre>
 * io_uring_params (120)
 *   0 sq_entries u32 | 4 cq_entries u32 | 8 flags u32 | 12 sq_thread_cpu u32 | 16 sq_thread_idle u32
 *  20 features u32 | 24 wq_fd u32 | 28 resv u32[3]
 *  40 sq_off: 40 head | 44 tail | 48 ring_mask | 52 ring_entries | 56 flags | 60 dropped | 64 array
 *             68 resv1 u32 | 72 user_addr u64
 *  80 cq_off: 80 head | 84 tail | 88 ring_mask | 92 ring_entries | 96 overflow | 100 cqes | 104 flags
 *             108 resv1 u32 | 112 user_addr u64
 *
 * io_uring_sqe (64; 128 with IORING_SETUP_SQE128, the extra 64 extending cmd[])
 *   0 opcode u8 | 1 flags u8 | 2 ioprio u16 | 4 fd s32
 *   8 off u64 (URING_CMD: 8 cmd_op u32 | 12 pad u32)
 *  16 addr u64 | 24 len u32 | 28 op flags u32 | 32 user_data u64
 *  40 buf_index u16 | 42 personality u16 | 44 file_index s32 | 48 addr3 u64 / cmd[] | 56 pad u64
 *
 * io_uring_cqe (16): 0 user_data u64 | 8 res s32 | 12 flags u32
 * io_uring_getevents_arg (24): 0 sigmask u64 | 8 sigmask_sz u32 | 12 min_wait_usec u32 | 16 ts u64 (pointer)
 * __kernel_timespec (16): 0 tv_sec s64 | 8 tv_nsec s64
 * </pre>
 */
public final class IoUringLayout {
    private IoUringLayout() {
    }

    public static final int SYS_IO_URING_SETUP = 425;
    public static final int SYS_IO_URING_ENTER = 426;
    public static final int SYS_IO_URING_REGISTER = 427;
    public static final int SYS_EVENTFD2 = 290;

    public static final int PARAMS_SIZE = 120;
    public static final int P_SQ_ENTRIES = 0;
    public static final int P_CQ_ENTRIES = 4;
    public static final int P_FLAGS = 8;
    public static final int P_FEATURES = 20;
    public static final int P_SQ_OFF = 40;
    public static final int P_CQ_OFF = 80;
    // Offsets within sq_off / cq_off.
    public static final int SQ_HEAD = 0;
    public static final int SQ_TAIL = 4;
    public static final int SQ_RING_MASK = 8;
    public static final int SQ_RING_ENTRIES = 12;
    public static final int SQ_FLAGS = 16;
    public static final int SQ_ARRAY = 24;
    public static final int CQ_HEAD = 0;
    public static final int CQ_TAIL = 4;
    public static final int CQ_RING_MASK = 8;
    public static final int CQ_RING_ENTRIES = 12;
    public static final int CQ_OVERFLOW = 16;
    public static final int CQ_CQES = 20;

    public static final int SQE_SIZE = 64;
    public static final int SQE128_SIZE = 128;
    public static final int SQE_OPCODE = 0;
    public static final int SQE_FLAGS = 1;
    public static final int SQE_IOPRIO = 2;
    public static final int SQE_FD = 4;
    public static final int SQE_OFF = 8;
    public static final int SQE_CMD_OP = 8;
    public static final int SQE_ADDR = 16;
    public static final int SQE_LEN = 24;
    public static final int SQE_OP_FLAGS = 28;
    public static final int SQE_USER_DATA = 32;
    public static final int SQE_BUF_INDEX = 40;
    public static final int SQE_CMD = 48;

    public static final int CQE_SIZE = 16;
    public static final int CQE_USER_DATA = 0;
    public static final int CQE_RES = 8;
    public static final int CQE_FLAGS = 12;

    public static final int GETEVENTS_ARG_SIZE = 24;
    public static final int GETEVENTS_ARG_TS = 16;

    // Setup flags and features.
    /** Task work for this ring's requests does not interrupt a running submitter (no IPI): it runs at its next kernel entry. */
    public static final int SETUP_COOP_TASKRUN = 1 << 8;
    public static final int SETUP_SQE128 = 1 << 10;
    public static final int SETUP_CQE32 = 1 << 11;
    public static final int FEAT_SINGLE_MMAP = 1;
    public static final int FEAT_EXT_ARG = 1 << 8;

    // mmap offsets.
    public static final long OFF_SQ_RING = 0L;
    public static final long OFF_CQ_RING = 0x8000000L;
    public static final long OFF_SQES = 0x10000000L;

    // io_uring_enter flags.
    public static final int ENTER_GETEVENTS = 1;
    public static final int ENTER_EXT_ARG = 1 << 3;

    // Opcodes.
    public static final int OP_NOP = 0;
    public static final int OP_READ = 22;
    public static final int OP_WRITE = 23;
    public static final int OP_URING_CMD = 46;
}
