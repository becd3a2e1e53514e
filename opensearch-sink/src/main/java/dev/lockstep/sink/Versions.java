package dev.lockstep.sink;

/** Lockstep's version, from the jar manifest the build writes. */
final class Versions {
    private Versions() {
    }

    static String lockstep() {
        String v = Versions.class.getPackage().getImplementationVersion();
        return v == null ? "unknown" : v;
    }
}
