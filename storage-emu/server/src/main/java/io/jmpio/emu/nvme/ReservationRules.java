package io.jmpio.emu.nvme;

import io.jmpio.emu.array.LunReservation;
import io.jmpio.emu.array.LunReservation.Registrant;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.AbstractMap.SimpleEntry;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * NVMe reservations (base spec, Reservations): what Register, Acquire, Release and Report do to a LUN's
 * {@link LunReservation}, and which commands a reservation turns away. Pure functions: each takes the
 * current state and returns the NVMe status with the new state (the same object when nothing changes).
 *
 * <p>Types: 1 Write Exclusive, 2 Exclusive Access, 3/4 the same for registrants only, 5/6 the same for
 * all registrants (every registrant holds it).
 */
final class ReservationRules {
    static final int SC_RESERVATION_CONFLICT = 0x083;

    private ReservationRules() {
    }

    static String hex(byte[] hostId) {
        return HexFormat.of().formatHex(hostId);
    }

    private static Map.Entry<Integer, LunReservation> result(int status, LunReservation r) {
        return new SimpleEntry<>(status, r);
    }

    private static Map.Entry<Integer, LunReservation> conflict(LunReservation r) {
        return result(SC_RESERVATION_CONFLICT | Nvme.DNR, r);
    }

    private static boolean allRegistrants(int type) {
        return type == 5 || type == 6;
    }

    private static boolean holds(LunReservation r, String host) {
        return r.reserved() && (allRegistrants(r.type()) ? r.registrant(host) != null : host.equals(r.holder()));
    }

    /** Register (RREGA 0), unregister (1), replace (2); CPTPL 3 sets persistence through power loss, 2 clears it. */
    static Map.Entry<Integer, LunReservation> register(LunReservation r, String host, int rrega, boolean iekey,
                                                       int cptpl, long crkey, long nrkey) {
        Registrant me = r.registrant(host);
        List<Registrant> regs = new ArrayList<>(r.registrants());
        boolean ptpl = cptpl == 3 || cptpl != 2 && r.ptpl();
        if (cptpl == 1) {
            return result(Nvme.SC_INVALID_FIELD | Nvme.DNR, r);
        }
        switch (rrega) {
            case 0:
                if (me != null) {
                    return me.key() == nrkey ? result(0, r) : conflict(r);
                }
                regs.add(new Registrant(host, nrkey));
                return result(0, new LunReservation(r.generation() + 1, r.holder(), r.type(), ptpl, regs));
            case 1: {
                if (me == null || !iekey && me.key() != crkey) {
                    return conflict(r);
                }
                regs.remove(me);
                boolean wasHolder = holds(r, host) && !allRegistrants(r.type());
                boolean lastOfAll = allRegistrants(r.type()) && regs.isEmpty();
                return result(0, new LunReservation(r.generation() + 1, wasHolder || lastOfAll ? null : r.holder(),
                    wasHolder || lastOfAll ? 0 : r.type(), ptpl, regs));
            }
            case 2:
                if (me == null) {
                    if (!iekey) {
                        return conflict(r);
                    }
                    regs.add(new Registrant(host, nrkey));
                } else {
                    if (!iekey && me.key() != crkey) {
                        return conflict(r);
                    }
                    regs.set(regs.indexOf(me), new Registrant(host, nrkey));
                }
                return result(0, new LunReservation(r.generation() + 1, r.holder(), r.type(), ptpl, regs));
            default:
                return result(Nvme.SC_INVALID_FIELD | Nvme.DNR, r);
        }
    }

    /** Acquire (RACQA 0), preempt (1), preempt and abort (2, aborting nothing in flight here). */
    static Map.Entry<Integer, LunReservation> acquire(LunReservation r, String host, int racqa, boolean iekey, int type,
                                                      long crkey, long prkey) {
        Registrant me = r.registrant(host);
        if (me == null || !iekey && me.key() != crkey) {
            return conflict(r);
        }
        if (type < 1 || type > 6) {
            return result(Nvme.SC_INVALID_FIELD | Nvme.DNR, r);
        }
        switch (racqa) {
            case 0:
                if (!r.reserved()) {
                    return result(0, new LunReservation(r.generation(), host, type, r.ptpl(), r.registrants()));
                }
                return holds(r, host) && r.type() == type ? result(0, r) : conflict(r);
            case 1:
            case 2: {
                List<Registrant> regs = new ArrayList<>();
                boolean preemptsHolder = r.reserved() && (allRegistrants(r.type()) ? prkey == 0
                    : r.registrant(r.holder()) != null && r.registrant(r.holder()).key() == prkey);
                boolean removedAny = false;
                for (Registrant g : r.registrants()) {
                    boolean drop = !g.hostId().equals(host)
                        && (g.key() == prkey || preemptsHolder && allRegistrants(r.type()) && prkey == 0);
                    if (drop) {
                        removedAny = true;
                    } else {
                        regs.add(g);
                    }
                }
                if (!preemptsHolder && !removedAny && prkey != 0) {
                    return conflict(r);
                }
                if (!r.reserved() && prkey == 0) {
                    return result(Nvme.SC_INVALID_FIELD | Nvme.DNR, r);
                }
                String holder = preemptsHolder ? host : r.holder();
                int t = preemptsHolder ? type : r.type();
                return result(0, new LunReservation(r.generation() + 1, holder, t, r.ptpl(), regs));
            }
            default:
                return result(Nvme.SC_INVALID_FIELD | Nvme.DNR, r);
        }
    }

    /** Release (RRELA 0) or clear (1). */
    static Map.Entry<Integer, LunReservation> release(LunReservation r, String host, int rrela, boolean iekey, int type,
                                                      long crkey) {
        Registrant me = r.registrant(host);
        if (me == null || !iekey && me.key() != crkey) {
            return conflict(r);
        }
        switch (rrela) {
            case 0:
                if (!holds(r, host)) {
                    return result(0, r); // nothing of ours to release
                }
                if (r.type() != type) {
                    return result(Nvme.SC_INVALID_FIELD | Nvme.DNR, r);
                }
                return result(0, new LunReservation(r.generation(), null, 0, r.ptpl(), r.registrants()));
            case 1:
                return result(0, new LunReservation(r.generation() + 1, null, 0, r.ptpl(), List.of()));
            default:
                return result(Nvme.SC_INVALID_FIELD | Nvme.DNR, r);
        }
    }

    /**
     * Reservation Report: GEN @0, RTYPE @4, REGCTL @5, PTPLS @9; entries from @24 (24 bytes: CNTLID, RCSTS @2,
     * HOSTID @8, 8 bytes, RKEY @16) or, extended, from @64 (64 bytes: CNTLID, RCSTS @2, RKEY @8, HOSTID @16).
     */
    static byte[] report(LunReservation r, boolean extended) {
        int entry = extended ? 64 : 24;
        int head = extended ? 64 : 24;
        ByteBuffer b = ByteBuffer.allocate(head + entry * r.registrants().size()).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, (int) r.generation()).put(4, (byte) r.type()).putShort(5, (short) r.registrants().size())
            .put(9, (byte) (r.ptpl() ? 1 : 0));
        int at = head;
        for (Registrant g : r.registrants()) {
            byte[] id = HexFormat.of().parseHex(g.hostId());
            b.putShort(at, (short) 0xFFFF).put(at + 2, (byte) (holds(r, g.hostId()) ? 1 : 0));
            if (extended) {
                b.putLong(at + 8, g.key()).put(at + 16, id);
            } else {
                b.put(at + 8, id, 0, 8).putLong(at + 16, g.key());
            }
            at += entry;
        }
        return b.array();
    }

    /** True when a reservation turns this host's command away: writes, or (exclusive access) any I/O. */
    static boolean conflicts(LunReservation r, String host, boolean write) {
        if (!r.reserved() || holds(r, host)) {
            return false;
        }
        boolean registered = r.registrant(host) != null;
        switch (r.type()) {
            case 1: return write;
            case 2: return true;
            case 3: case 5: return write && !registered;
            case 4: case 6: return !registered;
            default: return false;
        }
    }
}
