package io.jmpio.emu.nvme;

import io.jmpio.emu.array.LunRecord;
import java.util.ArrayList;
import java.util.List;

/**
 * The admin commands of one host's controller that answer from the subsystem's state alone: Property Get/Set
 * (CAP, VS, CC, CSTS), Identify, Get Log Page, Set/Get Features. Each answers through the queue it came on
 * (its status, and data first where the command has some); the queue's transport stays in {@link QueueHandler}.
 */
final class AdminCommands {
    private final NvmeSubsystem subsystem;
    private final QueueHandler queue;

    AdminCommands(NvmeSubsystem subsystem, QueueHandler queue) {
        this.subsystem = subsystem;
        this.queue = queue;
    }

    void property(NvmeController ctrl, Sqe sqe) {
        int cid = sqe.cid();
        boolean set = sqe.fctype() == Nvme.FCTYPE_PROPERTY_SET;
        int size8 = sqe.u8(Sqe.CDW10) & 1;
        int offset = sqe.dw(Sqe.CDW11);
        if (!set) {
            long v;
            switch (offset) {
                case 0x00: // CAP: MQES, CQR, TO 15 × 500 ms, CSS NVM
                    v = (IdentifyData.QUEUE_ENTRIES - 1) | 1L << 16 | 15L << 24 | 1L << 37;
                    break;
                case 0x08:
                    v = 0x00010400;
                    break;
                case 0x14:
                    v = ctrl.cc;
                    break;
                case 0x1C:
                    v = ctrl.csts;
                    break;
                default:
                    queue.respond(cid, Nvme.SC_INVALID_FIELD | Nvme.DNR, 0, 0);
                    return;
            }
            if (offset == 0 && size8 == 0) {
                queue.respond(cid, Nvme.SC_INVALID_FIELD | Nvme.DNR, 0, 0);
                return;
            }
            queue.respond(cid, 0, (int) v, (int) (v >>> 32));
            return;
        }
        if (offset != 0x14) {
            queue.respond(cid, Nvme.SC_INVALID_FIELD | Nvme.DNR, 0, 0);
            return;
        }
        int cc = sqe.dw(Sqe.CDW12);
        boolean wasOn = (ctrl.cc & 1) != 0;
        boolean on = (cc & 1) != 0;
        ctrl.cc = cc;
        if (on && !wasOn) {
            boolean ok = (cc >>> 16 & 0xF) == 6 && (cc >>> 20 & 0xF) == 4 && (cc >>> 7 & 0xF) == 0
                && (cc >>> 11 & 0x7) == 0 && ((cc >>> 4 & 0x7) == 0 || (cc >>> 4 & 0x7) == 6);
            ctrl.csts = ok ? 1 : 2; // RDY, or CFS for a configuration it cannot run
        } else if (!on) {
            ctrl.csts = 0;
        }
        if ((cc >>> 14 & 0x3) != 0) {
            ctrl.csts = (ctrl.csts & ~0xC) | 2 << 2; // shutdown processing complete
        }
        queue.respond(cid, 0, 0, 0);
    }

    void identify(NvmeController ctrl, Sqe sqe) {
        int cid = sqe.cid();
        int cns = sqe.u8(Sqe.CDW10);
        int nsid = sqe.nsid();
        byte[] out;
        switch (cns) {
            case 0x01:
                out = IdentifyData.controller(ctrl.cntlid, subsystem.serial,
                    ctrl.discovery ? Nvme.DISCOVERY_NQN : subsystem.nqn, ctrl.discovery);
                break;
            case 0x00: {
                if (ctrl.discovery || nsid == 0 || nsid == -1) {
                    queue.respond(cid, Nvme.SC_INVALID_NS | Nvme.DNR, 0, 0);
                    return;
                }
                LunRecord r = subsystem.namespace(ctrl.hostNqn, nsid);
                out = r == null ? new byte[IdentifyData.LENGTH] : IdentifyData.namespace(r, nsid);
                break;
            }
            case 0x02:
                if (ctrl.discovery || nsid == -1 || nsid == -2) {
                    queue.respond(cid, Nvme.SC_INVALID_NS | Nvme.DNR, 0, 0);
                    return;
                }
                out = IdentifyData.activeList(new ArrayList<>(subsystem.nsids(ctrl.hostNqn)), nsid);
                break;
            case 0x03: {
                LunRecord r = ctrl.discovery ? null : subsystem.namespace(ctrl.hostNqn, nsid);
                if (r == null) {
                    queue.respond(cid, Nvme.SC_INVALID_NS | Nvme.DNR, 0, 0);
                    return;
                }
                out = IdentifyData.descriptors(r);
                break;
            }
            default:
                queue.respond(cid, Nvme.SC_INVALID_FIELD | Nvme.DNR, 0, 0);
                return;
        }
        queue.dataIn(sqe, out);
    }

    void logPage(NvmeController ctrl, Sqe sqe) {
        int cid = sqe.cid();
        int cdw10 = sqe.dw(Sqe.CDW10);
        int lid = cdw10 & 0xFF;
        int lsp = cdw10 >>> 8 & 0x7F;
        boolean rae = (cdw10 & 1 << 15) != 0;
        long numd = (Integer.toUnsignedLong(cdw10) >>> 16 | (long) (sqe.dw(Sqe.CDW11) & 0xFFFF) << 16) + 1;
        long offset = Integer.toUnsignedLong(sqe.dw(Sqe.CDW12)) | (long) sqe.dw(Sqe.CDW13) << 32;
        long length = numd * 4;
        if (length > IdentifyData.MAX_TRANSFER || (offset & 3) != 0 || offset < 0) {
            queue.respond(cid, Nvme.SC_INVALID_FIELD | Nvme.DNR, 0, 0);
            return;
        }
        byte[] full;
        switch (lid) {
            case LogPages.ERROR:
                full = new byte[64 * 64];
                break;
            case LogPages.SMART:
                full = ctrl.discovery ? null : LogPages.smart(0, 0, 0, 0);
                break;
            case LogPages.CHANGED_NS:
                full = ctrl.discovery ? null : LogPages.changedNamespaces(ctrl.takeChangedNsids());
                break;
            case LogPages.ANA: {
                if (ctrl.discovery) {
                    full = null;
                    break;
                }
                List<LogPages.AnaGroup> groups = new ArrayList<>();
                for (int nsid : subsystem.nsids(ctrl.hostNqn)) {
                    LunRecord r = subsystem.namespace(ctrl.hostNqn, nsid);
                    if (r != null) {
                        groups.add(new LogPages.AnaGroup(nsid, subsystem.anaState(r), new int[] {nsid}));
                    }
                }
                full = LogPages.ana(ctrl.anaChangeCount, groups, (lsp & 1) != 0);
                break;
            }
            case LogPages.DISCOVERY:
                full = ctrl.discovery ? LogPages.discovery(subsystem.discoveryGeneration(), subsystem.discoveryEntries())
                    : null;
                break;
            default:
                full = null;
        }
        if (full == null) {
            queue.respond(cid, Nvme.SC_INVALID_LOG_PAGE | Nvme.DNR, 0, 0);
            return;
        }
        if (offset > full.length) {
            queue.respond(cid, Nvme.SC_INVALID_FIELD | Nvme.DNR, 0, 0);
            return;
        }
        byte[] out = new byte[(int) length];
        System.arraycopy(full, (int) offset, out, 0, (int) Math.min(length, full.length - offset));
        queue.dataIn(sqe, out);
    }

    void setFeatures(NvmeController ctrl, Sqe sqe) {
        int cid = sqe.cid();
        int fid = sqe.u8(Sqe.CDW10);
        int value = sqe.dw(Sqe.CDW11);
        if ((sqe.dw(Sqe.CDW10) & 1 << 31) != 0) {
            queue.respond(cid, Nvme.SC_FEATURE_NOT_SAVEABLE | Nvme.DNR, 0, 0); // SV: nothing here is saved
            return;
        }
        switch (fid) {
            case 0x07: {
                if (ctrl.discovery) {
                    queue.respond(cid, Nvme.SC_INVALID_FIELD | Nvme.DNR, 0, 0);
                    return;
                }
                int nsqr = value & 0xFFFF;
                int ncqr = value >>> 16;
                if (nsqr == 0xFFFF || ncqr == 0xFFFF) {
                    queue.respond(cid, Nvme.SC_INVALID_FIELD | Nvme.DNR, 0, 0);
                    return;
                }
                int granted = Math.min(Math.min(nsqr, ncqr) + 1, NvmeController.MAX_IO_QUEUES);
                ctrl.ioQueues = granted;
                queue.respond(cid, 0, (granted - 1) | (granted - 1) << 16, 0);
                return;
            }
            case 0x0B:
                ctrl.aec = value & (1 << 8 | 1 << 11 | 1 << 31);
                queue.respond(cid, 0, 0, 0);
                return;
            case 0x0F:
                ctrl.katoMillis = Integer.toUnsignedLong(value);
                queue.respond(cid, 0, 0, 0);
                return;
            default:
                queue.respond(cid, Nvme.SC_FEATURE_NOT_CHANGEABLE | Nvme.DNR, 0, 0);
        }
    }

    void getFeatures(NvmeController ctrl, Sqe sqe) {
        int cid = sqe.cid();
        int fid = sqe.u8(Sqe.CDW10);
        int sel = sqe.dw(Sqe.CDW10) >>> 8 & 0x7;
        if (sel > 3) {
            queue.respond(cid, Nvme.SC_INVALID_FIELD | Nvme.DNR, 0, 0); // SEL 4-7 are reserved
            return;
        }
        if (sel != 0) {
            featureDefaultsOrCapabilities(cid, fid, sel == 3);
            return;
        }
        switch (fid) {
            case 0x07:
                queue.respond(cid, 0, ctrl.ioQueues == 0 ? 0 : (ctrl.ioQueues - 1) | (ctrl.ioQueues - 1) << 16, 0);
                return;
            case 0x0B:
                queue.respond(cid, 0, ctrl.aec, 0);
                return;
            case 0x0F:
                queue.respond(cid, 0, (int) ctrl.katoMillis, 0);
                return;
            case 0x06:
                queue.respond(cid, 0, 1, 0);
                return;
            default:
                queue.respond(cid, Nvme.SC_INVALID_FIELD | Nvme.DNR, 0, 0);
        }
    }

    /**
     * Get Features with SEL default (1) or saved (2; nothing is saveable, so the default), or the supported
     * capabilities (3: bit 2 changeable; none saveable or per namespace).
     */
    private void featureDefaultsOrCapabilities(int cid, int fid, boolean capabilities) {
        int defaults;
        boolean changeable;
        switch (fid) {
            case 0x07:
                defaults = (NvmeController.MAX_IO_QUEUES - 1) | (NvmeController.MAX_IO_QUEUES - 1) << 16;
                changeable = true;
                break;
            case 0x0B:
            case 0x0F:
                defaults = 0;
                changeable = true;
                break;
            case 0x06:
                defaults = 1;
                changeable = false;
                break;
            default:
                queue.respond(cid, Nvme.SC_INVALID_FIELD | Nvme.DNR, 0, 0);
                return;
        }
        queue.respond(cid, 0, capabilities ? (changeable ? 1 << 2 : 0) : defaults, 0);
    }
}
