package io.jmpio.emu.protocol;

/** Operation codes of the array protocol (header byte 5). */
public final class Opcode {
    /** Payload: the host id (UTF-8, 1..255 bytes). Must precede every other request on a connection. */
    public static final int REGISTER = 0x01;
    /** LUN in the header; reply payload: {@link InquiryData}. */
    public static final int INQUIRY = 0x02;
    /** Reply payload: {@link LunList} of the LUNs this host may see. */
    public static final int REPORT_LUNS = 0x03;
    /** LUN in the header; reply payload: {@link PortGroupReport}; aux: the array's ALUA generation. */
    public static final int REPORT_TARGET_PORT_GROUPS = 0x04;
    /** LUN in the header; GOOD if this port can serve I/O for the LUN, else the ALUA status. */
    public static final int TEST_UNIT_READY = 0x05;
    public static final int READ = 0x10;
    public static final int WRITE = 0x11;
    public static final int FLUSH = 0x12;
    public static final int DISCARD = 0x13;
    public static final int WRITE_ZEROES = 0x14;
    /** Notice: the ALUA state of some port changed for the LUN in the header; aux = new generation. */
    public static final int ALUA_CHANGED = 0x40;

    private Opcode() {
    }

    public static String name(int opcode) {
        switch (opcode) {
            case REGISTER: return "REGISTER";
            case INQUIRY: return "INQUIRY";
            case REPORT_LUNS: return "REPORT_LUNS";
            case REPORT_TARGET_PORT_GROUPS: return "REPORT_TARGET_PORT_GROUPS";
            case TEST_UNIT_READY: return "TEST_UNIT_READY";
            case READ: return "READ";
            case WRITE: return "WRITE";
            case FLUSH: return "FLUSH";
            case DISCARD: return "DISCARD";
            case WRITE_ZEROES: return "WRITE_ZEROES";
            case ALUA_CHANGED: return "ALUA_CHANGED";
            default: return "0x" + Integer.toHexString(opcode);
        }
    }

    /** Requests that move or change data on a LUN (and so need ownership). */
    public static boolean isIo(int opcode) {
        return opcode >= READ && opcode <= WRITE_ZEROES;
    }
}
