package io.jmpio.bridge.nbd;

/**
 * The NBD wire format (fixed newstyle negotiation, simple and structured replies), per the NBD protocol
 * document ({@code doc/proto.md} of the NetworkBlockDevice project). All integers are big-endian.
 *
 * <pre>
 * Greeting (server):   0 "NBDMAGIC" u64 | 8 IHAVEOPT u64 | 16 handshake flags u16
 * Client flags:        0 u32
 * Option (client):     0 IHAVEOPT u64 | 8 option u32 | 12 length u32 | 16 data[length]
 * Option reply:        0 OPT_REPLY_MAGIC u64 | 8 option u32 | 12 reply type u32 | 16 length u32 | 20 data
 * Request:             0 REQUEST_MAGIC u32 | 4 command flags u16 | 6 type u16 | 8 cookie u64
 *                      | 16 offset u64 | 24 length u32 | 28 (write payload)
 * Simple reply:        0 SIMPLE_REPLY_MAGIC u32 | 4 error u32 | 8 cookie u64 | 16 (read data)
 * Structured chunk:    0 STRUCTURED_REPLY_MAGIC u32 | 4 flags u16 | 6 type u16 | 8 cookie u64
 *                      | 16 length u32 | 20 payload[length]
 *   OFFSET_DATA payload: 0 offset u64 | 8 data
 *   ERROR payload:       0 error u32 | 4 message length u16 | 6 message
 * </pre>
 */
final class NbdProtocol {
    private NbdProtocol() {
    }

    static final long NBDMAGIC = 0x4e42444d41474943L;
    static final long IHAVEOPT = 0x49484156454F5054L;
    static final long OPT_REPLY_MAGIC = 0x3e889045565a9L;
    static final int REQUEST_MAGIC = 0x25609513;
    static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;

    static final int GREETING_LENGTH = 18;
    static final int OPTION_HEADER_LENGTH = 16;
    static final int REQUEST_LENGTH = 28;
    static final int SIMPLE_REPLY_LENGTH = 16;
    static final int CHUNK_HEADER_LENGTH = 20;

    // Handshake flags (server) and client flags.
    static final int FLAG_FIXED_NEWSTYLE = 1;
    static final int FLAG_NO_ZEROES = 1 << 1;
    static final int CLIENT_FLAGS_KNOWN = FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES;

    // Options.
    static final int OPT_EXPORT_NAME = 1;
    static final int OPT_ABORT = 2;
    static final int OPT_LIST = 3;
    static final int OPT_STARTTLS = 5;
    static final int OPT_INFO = 6;
    static final int OPT_GO = 7;
    static final int OPT_STRUCTURED_REPLY = 8;
    static final int OPT_LIST_META_CONTEXT = 9;
    static final int OPT_SET_META_CONTEXT = 10;

    // Option reply types.
    static final int REP_ACK = 1;
    static final int REP_SERVER = 2;
    static final int REP_INFO = 3;
    static final int REP_ERR_UNSUP = 0x80000001;
    static final int REP_ERR_POLICY = 0x80000002;
    static final int REP_ERR_INVALID = 0x80000003;
    static final int REP_ERR_TLS_REQD = 0x80000005;
    static final int REP_ERR_UNKNOWN = 0x80000006;
    static final int REP_ERR_TOO_BIG = 0x80000009;

    // NBD_REP_INFO types.
    static final int INFO_EXPORT = 0;
    static final int INFO_NAME = 1;
    static final int INFO_DESCRIPTION = 2;
    static final int INFO_BLOCK_SIZE = 3;

    // Transmission flags.
    static final int TFLAG_HAS_FLAGS = 1;
    static final int TFLAG_SEND_FLUSH = 1 << 2;
    static final int TFLAG_SEND_FUA = 1 << 3;
    static final int TFLAG_SEND_TRIM = 1 << 5;
    static final int TFLAG_SEND_WRITE_ZEROES = 1 << 6;
    static final int TFLAG_SEND_DF = 1 << 7;
    static final int TFLAG_CAN_MULTI_CONN = 1 << 8;

    // Commands and command flags.
    static final int CMD_READ = 0;
    static final int CMD_WRITE = 1;
    static final int CMD_DISC = 2;
    static final int CMD_FLUSH = 3;
    static final int CMD_TRIM = 4;
    static final int CMD_WRITE_ZEROES = 6;
    static final int CMD_FLAG_FUA = 1;
    static final int CMD_FLAG_NO_HOLE = 1 << 1;
    static final int CMD_FLAG_DF = 1 << 2;

    // Structured reply chunk types and flags.
    static final int REPLY_FLAG_DONE = 1;
    static final int REPLY_TYPE_NONE = 0;
    static final int REPLY_TYPE_OFFSET_DATA = 1;
    static final int REPLY_TYPE_ERROR = 0x8001;

    // Errors (Linux errno values, as the protocol fixes them).
    static final int EPERM = 1;
    static final int EIO = 5;
    static final int ENOMEM = 12;
    static final int EINVAL = 22;
    static final int ENOSPC = 28;
    static final int EOVERFLOW = 75;
    static final int ENOTSUP = 95;
    static final int ESHUTDOWN = 108;

    static String commandName(int type) {
        switch (type) {
            case CMD_READ: return "READ";
            case CMD_WRITE: return "WRITE";
            case CMD_DISC: return "DISC";
            case CMD_FLUSH: return "FLUSH";
            case CMD_TRIM: return "TRIM";
            case 5: return "CACHE";
            case CMD_WRITE_ZEROES: return "WRITE_ZEROES";
            case 7: return "BLOCK_STATUS";
            case 8: return "RESIZE";
            default: return "command " + type;
        }
    }
}
