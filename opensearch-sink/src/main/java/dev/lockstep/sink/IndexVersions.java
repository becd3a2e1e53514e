package dev.lockstep.sink;

import java.util.Collection;

/**
 * How versioned indices are named, in one place for the sink (which creates the first version and writes through
 * the write alias) and the reconciler (which rebuilds into the next version): {@code <name>_v<n>} behind the search
 * alias {@code <name>} and the write alias {@code <name>.writes}.
 */
public final class IndexVersions {
    /** How long a sink task writes to the targets it read before it reads the write alias again; a rebuild waits longer. */
    public static final long TARGETS_REFRESH_MS = 1_000;

    private IndexVersions() {
    }

    /** The write alias of an index name: every index behind it receives the sink's writes. */
    public static String writeAlias(String name) {
        return name + ".writes";
    }

    public static String firstVersion(String name) {
        return name + "_v1";
    }

    /** Whether {@code index} is a version of {@code name} ({@code name_v<n>}). */
    public static boolean isVersionOf(String name, String index) {
        String number = index.startsWith(name + "_v") ? index.substring(name.length() + 2) : "";
        return !number.isEmpty() && number.length() < 10 && number.chars().allMatch(Character::isDigit);
    }

    /** The version after the highest of {@code current} and {@code existing} (the first one for an unversioned index). */
    public static String next(String name, String current, Collection<String> existing) {
        long highest = version(name, current);
        for (String index : existing) {
            highest = Math.max(highest, version(name, index));
        }
        return name + "_v" + (highest + 1);
    }

    private static long version(String name, String index) {
        return isVersionOf(name, index) ? Long.parseLong(index.substring(name.length() + 2)) : 0;
    }
}
