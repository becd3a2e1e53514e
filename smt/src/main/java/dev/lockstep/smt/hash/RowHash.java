package dev.lockstep.smt.hash;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The 64-bit content hash of a canonical row: the first 8 bytes of its SHA-256, split into two unsigned 32-bit
 * halves. Each half fits a {@code long} field, and sums of up to 2^21 halves stay below 2^53, so OpenSearch's
 * double-based sum aggregations add them exactly.
 */
public record RowHash(long hi, long lo) {

    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    });

    public RowHash {
        if (hi < 0 || hi > 0xFFFF_FFFFL || lo < 0 || lo > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("hash halves must be unsigned 32-bit values");
        }
    }

    public static RowHash of(String canonical) {
        byte[] digest = SHA256.get().digest(canonical.getBytes(StandardCharsets.UTF_8));
        return new RowHash(unsigned32(digest, 0), unsigned32(digest, 4));
    }

    /** The whole 64-bit hash, as 16 lowercase hex digits. */
    public String hex() {
        return HexFormat.of().toHexDigits((int) hi) + HexFormat.of().toHexDigits((int) lo);
    }

    public static RowHash fromHex(String hex) {
        if (hex == null || hex.length() != 16) {
            throw new IllegalArgumentException("a row hash is 16 hex digits, got " + hex);
        }
        return new RowHash(Long.parseLong(hex.substring(0, 8), 16), Long.parseLong(hex.substring(8), 16));
    }

    private static long unsigned32(byte[] b, int offset) {
        return ((b[offset] & 0xFFL) << 24) | ((b[offset + 1] & 0xFFL) << 16) | ((b[offset + 2] & 0xFFL) << 8) | (b[offset + 3] & 0xFFL);
    }
}
