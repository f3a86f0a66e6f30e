package io.jmpio.emu.array;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** Creates the metadata record of a new LUN. */
public final class LunRecords {
    private LunRecords() {
    }

    /**
     * The record of a LUN added to {@code m} under {@code lunId}. Its first ownership epoch is the generation the
     * metadata gets with it: a LUN's epoch never exceeds the metadata's generation (each epoch step is a change of
     * the metadata), so a LUN created under the id of a deleted one starts above every epoch the deleted one had,
     * and nothing kept under those (journal records, mirror copies, leases) is taken for the new LUN's.
     */
    public static LunRecord create(ArrayMetadata m, int lunId, LunSpec spec) {
        return new LunRecord(lunId, spec.name(), spec.bytes(), LunSpec.BLOCK_SIZE, spec.backend(), spec.owner(),
            spec.owner(), m.generation() + 1, false, spec.allowedHosts(), wwid(spec.name(), lunId), LunReservation.NONE);
    }

    /** NAA-6 style identifier: 0x6, then a hash of the name, id and creation time, 16 bytes in all. */
    static String wwid(String name, int lunId) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest((name + "/" + lunId + "/" + System.nanoTime())
                .getBytes(StandardCharsets.UTF_8));
            h[0] = (byte) (0x60 | h[0] & 0x0F);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 16; i++) {
                sb.append(String.format("%02x", h[i] & 0xFF));
            }
            return sb.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
