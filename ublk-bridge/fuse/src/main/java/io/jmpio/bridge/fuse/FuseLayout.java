package io.jmpio.bridge.fuse;

/**
 * The FUSE kernel protocol as this bridge speaks it ({@code include/uapi/linux/fuse.h}, protocol 7.x).
 * Little-endian (host order on x86-64). Offsets are from the start of each struct.
 *
 * <pre>
 * fuse_in_header (40)          fuse_out_header (16)
 *   0 len u32                    0 len u32
 *   4 opcode u32                 4 error s32 (-errno)
 *   8 unique u64                 8 unique u64
 *  16 nodeid u64
 *  24 uid u32 | 28 gid u32 | 32 pid u32 | 36 total_extlen u16 | 38 padding u16
 *
 * fuse_init_in                 fuse_init_out (64)
 *   0 major u32                  0 major u32 | 4 minor u32 | 8 max_readahead u32 | 12 flags u32
 *   4 minor u32                 16 max_background u16 | 18 congestion_threshold u16 | 20 max_write u32
 *   8 max_readahead u32         24 time_gran u32 | 28 max_pages u16 | 30 map_alignment u16
 *  12 flags u32                 32 flags2 u32 | 36 unused u32[7]
 *
 * fuse_attr (88)
 *   0 ino u64 | 8 size u64 | 16 blocks u64 | 24 atime u64 | 32 mtime u64 | 40 ctime u64
 *  48 atimensec u32 | 52 mtimensec u32 | 56 ctimensec u32 | 60 mode u32 | 64 nlink u32
 *  68 uid u32 | 72 gid u32 | 76 rdev u32 | 80 blksize u32 | 84 flags u32
 * fuse_entry_out (128): 0 nodeid u64 | 8 generation u64 | 16 entry_valid u64 | 24 attr_valid u64
 *                       32 entry_valid_nsec u32 | 36 attr_valid_nsec u32 | 40 fuse_attr
 * fuse_attr_out (104):  0 attr_valid u64 | 8 attr_valid_nsec u32 | 12 dummy u32 | 16 fuse_attr
 * fuse_open_out (16):   0 fh u64 | 8 open_flags u32 | 12 backing_id s32
 * fuse_read_in / fuse_write_in (40): 0 fh u64 | 8 offset u64 | 16 size u32 | 20 read/write_flags u32
 *                                    24 lock_owner u64 | 32 flags u32 (open flags) | 36 padding
 * fuse_write_out (8):   0 size u32 | 4 padding
 * fuse_fallocate_in (32): 0 fh u64 | 8 offset u64 | 16 length u64 | 24 mode u32 | 28 padding
 * fuse_setattr_in (88): 0 valid u32 | 8 fh u64 | 16 size u64 | ...
 * fuse_kstatfs (80):    0 blocks | 8 bfree | 16 bavail | 24 files | 32 ffree (u64 each)
 *                       40 bsize u32 | 44 namelen u32 | 48 frsize u32 | 52 padding | 56 spare u32[6]
 * fuse_dirent:          0 ino u64 | 8 off u64 | 16 namelen u32 | 20 type u32 | 24 name, padded to 8
 *
 * FUSE over io_uring (7.42+; fs/fuse/dev_uring.c). Each ring entry has two buffers, registered once:
 * header (fuse_uring_req_header, 288)           payload (at least max_write and max_pages pages)
 *   0 in_out[128]: request fuse_in_header,        request: the opcode's later arguments (a LOOKUP name, the
 *                  reply fuse_out_header             WRITE data), packed from 0
 * 128 op_in[128]: the opcode's first argument     reply: every reply argument (fuse_attr_out, the bytes
 *                 (fuse_read_in, fuse_write_in..)    read), packed from 0
 * 256 ent_in_out (32): 256 flags u64 | 264 commit_id u64 | 272 payload_sz u32 | 276 padding | 280 reserved
 * The SQE (SQE128 ring, IORING_OP_URING_CMD, fd = /dev/fuse): cmd_op 1 REGISTER (addr = iovec[2] of the two
 * buffers, len 2) or 2 COMMIT_AND_FETCH (addr, len 0); its cmd area (fuse_uring_cmd_req) at SQE+48:
 *   48 flags u64 (0) | 56 commit_id u64 | 64 qid u16 | 66 padding
 * </pre>
 */
final class FuseLayout {
    private FuseLayout() {
    }

    static final int KERNEL_MAJOR = 7;
    /** The newest minor this bridge knows; it answers with min(kernel's, this). */
    static final int KERNEL_MINOR = 36;

    static final int IN_HEADER = 40;
    static final int OUT_HEADER = 16;
    static final int IN_LEN = 0;
    static final int IN_OPCODE = 4;
    static final int IN_UNIQUE = 8;
    static final int IN_NODEID = 16;

    static final int INIT_OUT = 64;
    static final int ATTR = 88;
    static final int ENTRY_OUT = 40 + ATTR;
    static final int ATTR_OUT = 16 + ATTR;
    static final int OPEN_OUT = 16;
    static final int WRITE_OUT = 8;
    static final int STATFS_OUT = 80;
    static final int RW_IN = 40;
    static final int RW_OFFSET = 8;
    static final int RW_SIZE = 16;
    static final int RW_OPEN_FLAGS = 32;
    static final int FALLOC_OFFSET = 8;
    static final int FALLOC_LENGTH = 16;
    static final int FALLOC_MODE = 24;
    static final int SETATTR_VALID = 0;
    static final int SETATTR_SIZE = 16;
    static final int DIRENT_HEADER = 24;

    // Opcodes.
    static final int LOOKUP = 1;
    static final int FORGET = 2;
    static final int GETATTR = 3;
    static final int SETATTR = 4;
    static final int OPEN = 14;
    static final int READ = 15;
    static final int WRITE = 16;
    static final int STATFS = 17;
    static final int RELEASE = 18;
    static final int FSYNC = 20;
    static final int FLUSH = 25;
    static final int INIT = 26;
    static final int OPENDIR = 27;
    static final int READDIR = 28;
    static final int RELEASEDIR = 29;
    static final int FSYNCDIR = 30;
    static final int ACCESS = 34;
    static final int INTERRUPT = 36;
    static final int DESTROY = 38;
    static final int BATCH_FORGET = 42;
    static final int FALLOCATE = 43;

    // fuse_init_in/out beyond the first flags word, and FUSE over io_uring.
    static final int INIT_FLAGS2 = 16;
    static final int INIT_OUT_FLAGS2 = 32;
    static final int INIT_EXT = 1 << 30;
    /** FUSE_OVER_IO_URING (1 << 41) as bit 9 of flags2. */
    static final int FLAGS2_OVER_IO_URING = 1 << 9;
    /** The first minor with io_uring; answering at least this is what switches it on. */
    static final int URING_MINOR = 42;
    static final int URING_CMD_REGISTER = 1;
    static final int URING_CMD_COMMIT_AND_FETCH = 2;
    static final int URING_HEADER_SIZE = 288;
    static final int URING_OP_IN = 128;
    static final int URING_COMMIT_ID = 264;
    static final int URING_PAYLOAD_SZ = 272;
    static final int URING_OP_IN_SIZE = 128;
    static final int URING_CMD_FLAGS = 0;
    static final int URING_CMD_COMMIT = 8;
    static final int URING_CMD_QID = 16;
    static final String ENABLE_URING = "/sys/module/fuse/parameters/enable_uring";

    // INIT flags.
    static final int ASYNC_READ = 1;
    static final int BIG_WRITES = 1 << 5;
    static final int ASYNC_DIO = 1 << 15;
    static final int PARALLEL_DIROPS = 1 << 18;
    static final int MAX_PAGES = 1 << 22;
    /** What this bridge asks for, of what the kernel offers. */
    static final int WANTED_INIT_FLAGS = ASYNC_READ | BIG_WRITES | ASYNC_DIO | PARALLEL_DIROPS | MAX_PAGES;

    // fuse_open_out.open_flags.
    static final int FOPEN_DIRECT_IO = 1;
    static final int FOPEN_PARALLEL_DIRECT_WRITES = 1 << 6;

    static final int FATTR_SIZE = 1 << 3;

    // fallocate modes.
    static final int FALLOC_FL_KEEP_SIZE = 1;
    static final int FALLOC_FL_PUNCH_HOLE = 2;
    static final int FALLOC_FL_ZERO_RANGE = 0x10;

    static final long ROOT_ID = 1;
    static final long FILE_ID = 2;

    static final int S_IFDIR = 0040000;
    static final int S_IFREG = 0100000;
    static final int DT_DIR = 4;
    static final int DT_REG = 8;

    /** FUSE_DEV_IOC_CLONE = _IOR(229, 0, uint32_t): a second fd on the same connection, with its own queue. */
    static final long DEV_IOC_CLONE = 0x8004E500L;

    // errno values put in replies.
    static final int ENOENT = 2;
    static final int EIO = 5;
    static final int EBADF = 9;
    static final int EACCES = 13;
    static final int EPERM = 1;
    static final int ENOTDIR = 20;
    static final int EISDIR = 21;
    static final int EINVAL = 22;
    static final int EFBIG = 27;
    static final int ENOSPC = 28;
    static final int ENOSYS = 38;
    static final int EOPNOTSUPP = 95;
    static final int ESHUTDOWN = 108;
    static final int EPROTO = 71;
}
