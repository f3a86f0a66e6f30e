package io.jmpio.bridge.ublk;

import static io.jmpio.bridge.ublk.UblkLayout.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Every offset and number against include/uapi/linux/ublk_cmd.h, worked out from the C declarations:
 * sizes from the member types in order (natural alignment), command numbers from _IOR/_IOWR('u', nr, size).
 */
class UblkLayoutTest {
    /** _IOC(dir, 'u', nr, size) as the kernel encodes it: dir<<30 | size<<16 | type<<8 | nr. */
    private static int ioc(int dir, int nr, int size) {
        return dir << 30 | size << 16 | 'u' << 8 | nr;
    }

    private static final int READ = 2;
    private static final int READ_WRITE = 3;

    @Test
    void controlCommandNumbersAreTheIoctlEncodingOfTheirLegacyNumbers() {
        assertEquals(ioc(READ, 0x02, 32), CMD_GET_DEV_INFO);
        assertEquals(ioc(READ_WRITE, 0x04, 32), CMD_ADD_DEV);
        assertEquals(ioc(READ_WRITE, 0x05, 32), CMD_DEL_DEV);
        assertEquals(ioc(READ_WRITE, 0x06, 32), CMD_START_DEV);
        assertEquals(ioc(READ_WRITE, 0x07, 32), CMD_STOP_DEV);
        assertEquals(ioc(READ_WRITE, 0x08, 32), CMD_SET_PARAMS);
        assertEquals(ioc(READ, 0x09, 32), CMD_GET_PARAMS);
        assertEquals(ioc(READ_WRITE, 0x10, 32), CMD_START_USER_RECOVERY);
        assertEquals(ioc(READ_WRITE, 0x11, 32), CMD_END_USER_RECOVERY);
        assertEquals(ioc(READ, 0x13, 32), CMD_GET_FEATURES);
        assertEquals(ioc(READ, 0x14, 32), CMD_DEL_DEV_ASYNC);
        assertEquals(0x04, CMD_ADD_DEV & 0xff, "legacy number is the low byte");
    }

    @Test
    void ioCommandNumbers() {
        assertEquals(ioc(READ_WRITE, 0x20, 16), IO_FETCH_REQ);
        assertEquals(ioc(READ_WRITE, 0x21, 16), IO_COMMIT_AND_FETCH_REQ);
        assertEquals(ioc(READ_WRITE, 0x22, 16), IO_NEED_GET_DATA);
    }

    @Test
    void ctrlCmdAndDevInfoOffsets() {
        // struct ublksrv_ctrl_cmd { u32 dev_id; u16 queue_id; u16 len; u64 addr; u64 data[1]; u16 dev_path_len; u16 pad; u32 reserved; }
        assertEquals(0, CC_DEV_ID);
        assertEquals(4, CC_QUEUE_ID);
        assertEquals(6, CC_LEN);
        assertEquals(8, CC_ADDR);
        assertEquals(16, CC_DATA);
        assertEquals(24, CC_DEV_PATH_LEN);
        assertEquals(32, CTRL_CMD_SIZE);
        // struct ublksrv_ctrl_dev_info { u16 nr_hw_queues, queue_depth, state, pad0; u32 max_io_buf_bytes, dev_id;
        //   s32 ublksrv_pid; u32 pad1; u64 flags, ublksrv_flags; u32 owner_uid, owner_gid; u64 reserved1, reserved2; }
        assertEquals(0, DI_NR_HW_QUEUES);
        assertEquals(2, DI_QUEUE_DEPTH);
        assertEquals(4, DI_STATE);
        assertEquals(8, DI_MAX_IO_BUF_BYTES);
        assertEquals(12, DI_DEV_ID);
        assertEquals(16, DI_SRV_PID);
        assertEquals(24, DI_FLAGS);
        assertEquals(40, DI_OWNER_UID);
        assertEquals(64, DEV_INFO_SIZE);
    }

    @Test
    void paramsOffsets() {
        // struct ublk_params { u32 len; u32 types; struct ublk_param_basic basic; struct ublk_param_discard discard; struct ublk_param_devt devt; ... }
        // basic { u32 attrs; u8 logical_bs_shift, physical_bs_shift, io_opt_shift, io_min_shift; u32 max_sectors, chunk_sectors; u64 dev_sectors, virt_boundary_mask; } = 32
        assertEquals(0, PR_LEN);
        assertEquals(4, PR_TYPES);
        assertEquals(8, PB_ATTRS);
        assertEquals(12, PB_LOGICAL_BS_SHIFT);
        assertEquals(13, PB_PHYSICAL_BS_SHIFT);
        assertEquals(14, PB_IO_OPT_SHIFT);
        assertEquals(15, PB_IO_MIN_SHIFT);
        assertEquals(16, PB_MAX_SECTORS);
        assertEquals(20, PB_CHUNK_SECTORS);
        assertEquals(24, PB_DEV_SECTORS);
        assertEquals(32, PB_VIRT_BOUNDARY_MASK);
        assertEquals(8 + 32, PARAMS_BASIC_LEN);
        // discard { u32 discard_alignment, discard_granularity, max_discard_sectors, max_write_zeroes_sectors; u16 max_discard_segments, reserved0; } = 20
        assertEquals(40, PD_ALIGNMENT);
        assertEquals(44, PD_GRANULARITY);
        assertEquals(48, PD_MAX_DISCARD_SECTORS);
        assertEquals(52, PD_MAX_WRITE_ZEROES_SECTORS);
        assertEquals(56, PD_MAX_DISCARD_SEGMENTS);
        assertEquals(40 + 20, PARAMS_DISCARD_LEN);
        // devt { u32 char_major, char_minor, disk_major, disk_minor; } = 16
        assertEquals(68, PT_DISK_MAJOR);
        assertEquals(72, PT_DISK_MINOR);
        assertEquals(60 + 16, PARAMS_DEVT_LEN);
        assertEquals(1, PARAM_TYPE_BASIC);
        assertEquals(2, PARAM_TYPE_DISCARD);
        assertEquals(4, PARAM_TYPE_DEVT);
        assertEquals(4, ATTR_VOLATILE_CACHE);
        assertEquals(8, ATTR_FUA);
    }

    @Test
    void ioDescAndIoCmdOffsets() {
        // struct ublksrv_io_desc { u32 op_flags; u32 nr_sectors; u64 start_sector; u64 addr; } = 24
        assertEquals(0, ID_OP_FLAGS);
        assertEquals(4, ID_NR_SECTORS);
        assertEquals(8, ID_START_SECTOR);
        assertEquals(16, ID_ADDR);
        assertEquals(24, IO_DESC_SIZE);
        // struct ublksrv_io_cmd { u16 q_id; u16 tag; s32 result; u64 addr; } = 16
        assertEquals(0, IC_Q_ID);
        assertEquals(2, IC_TAG);
        assertEquals(4, IC_RESULT);
        assertEquals(8, IC_ADDR);
        assertEquals(16, IO_CMD_SIZE);
        assertEquals(0, IO_OP_READ);
        assertEquals(1, IO_OP_WRITE);
        assertEquals(2, IO_OP_FLUSH);
        assertEquals(3, IO_OP_DISCARD);
        assertEquals(5, IO_OP_WRITE_ZEROES);
        assertEquals(1 << 13, IO_F_FUA);
    }

    @Test
    void userCopyOffsetsAndDescriptorMapping() {
        // UBLKSRV_IO_BUF_OFFSET + (q_id << UBLK_QID_OFF(41) | tag << UBLK_TAG_OFF(25))
        assertEquals(0x80000000L, userCopyOffset(0, 0));
        assertEquals(0x80000000L + (1L << 25), userCopyOffset(0, 1));
        assertEquals(0x80000000L + (3L << 41) + (5L << 25), userCopyOffset(3, 5));
        // queue q's descriptors at q * round_up(UBLK_MAX_QUEUE_DEPTH * sizeof(ublksrv_io_desc), page)
        assertEquals(0, descriptorOffset(0, 4096));
        assertEquals(4096L * 24, descriptorOffset(1, 4096));
    }

    @Test
    void flagsHaveTheirNames() {
        assertEquals(1L << 3, F_USER_RECOVERY);
        assertEquals(1L << 4, F_USER_RECOVERY_REISSUE);
        assertEquals(1L << 6, F_CMD_IOCTL_ENCODE);
        assertEquals(1L << 7, F_USER_COPY);
        assertEquals(1L << 9, F_USER_RECOVERY_FAIL_IO);
        assertEquals("USER_RECOVERY|CMD_IOCTL_ENCODE|USER_COPY", flagNames(F_USER_RECOVERY | F_CMD_IOCTL_ENCODE | F_USER_COPY));
        assertEquals("none", flagNames(0));
    }
}
