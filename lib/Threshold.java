//SOURCES Cli.java Disk.java Text.java
package ccci;

import ccci.Cli.BadInput;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A disk threshold in percent (df's Use%), with an optional floor of free bytes (--min-free), and
 * the one decision every step makes with it: is the disk at or above it. A disk reaches it when its
 * use is at or above the percent, or when fewer bytes than the floor are available (a second
 * trigger: a large disk at 70% may have too little left). The disk gate opens at the threshold,
 * prune says "not enough" while the disk still reaches it, eviction goes on while the disk reaches
 * its low watermark (--evict-to, with the same floor: below the percent and at least the floor free).
 *
 * @param minFreeBytes 0 when no floor is set
 */
public record Threshold(int percent, long minFreeBytes) {

    /** A threshold in percent alone (no --min-free). */
    public Threshold(int percent) {
        this(percent, 0);
    }

    /** The same percent with this floor of free bytes (0: none). */
    public Threshold withMinFree(long bytes) {
        return new Threshold(percent, bytes);
    }

    /** The disk is at or above this threshold: its use reaches the percent, or less than the floor is available. */
    public boolean reachedBy(Disk disk) {
        return reachedAt(disk.usedPercent()) || freeBelowFloor(disk);
    }

    /** A disk at this use (df's Use%) is at or above the percent (the floor is not looked at). */
    public boolean reachedAt(int usedPercent) {
        return usedPercent >= percent;
    }

    /** Fewer bytes than --min-free are available on the disk (never, without a floor). */
    public boolean freeBelowFloor(Disk disk) {
        return minFreeBytes > 0 && disk.availableBytes() < minFreeBytes;
    }

    /**
     * The fewest bytes whose removal brings the disk below this threshold: df's Use% (rounded up)
     * below the percent and, with a floor, at least the floor available; 0 when it already is.
     */
    public long bytesToGoBelow(Disk disk) {
        long forPercent = 0;
        if (reachedAt(disk.usedPercent())) {
            long total = disk.usedBytes() + disk.availableBytes();
            // ceil(used * 100 / total) < p  <=>  used <= floor((p - 1) * total / 100): exact, no overflow
            long p = percent - 1L;
            long mostUsed = p * (total / 100) + p * (total % 100) / 100;
            forPercent = Math.max(0, disk.usedBytes() - mostUsed);
        }
        long forFloor = freeBelowFloor(disk) ? minFreeBytes - disk.availableBytes() : 0;
        return Math.max(forPercent, forFloor);
    }

    /** What decides: "percent" when the use reaches it, else "min-free" when the floor does, else empty (below). */
    public Optional<String> trigger(Disk disk) {
        if (reachedAt(disk.usedPercent())) {
            return Optional.of("percent");
        }
        return freeBelowFloor(disk) ? Optional.of("min-free") : Optional.empty();
    }

    /**
     * One line on the disk against this threshold, saying which trigger decided: "91% of /x >= 80%",
     * "2.0 GB available on /x < --min-free 5.0 GB (57% of /x < 80%)", or "57% of /x < 80%" (with
     * the floor's figure when there is one).
     */
    public String describe(Disk disk) {
        String byPercent = disk.describe() + (reachedAt(disk.usedPercent()) ? " \u2265 " : " < ") + percent + "%";
        if (minFreeBytes <= 0 || reachedAt(disk.usedPercent())) {
            return byPercent;
        }
        String free = Text.bytes(disk.availableBytes()) + " available on " + disk.path();
        return freeBelowFloor(disk)
                ? free + " < --min-free " + Text.bytes(minFreeBytes) + " (" + byPercent + ")"
                : byPercent + ", " + free + " \u2265 --min-free " + Text.bytes(minFreeBytes);
    }

    /**
     * The disk the decision goes by among several: the fullest one whose use reaches the percent,
     * else the one with the fewest bytes available below the floor, else the fullest (first of equals).
     */
    public Optional<Disk> deciding(List<Disk> disks) {
        Optional<Disk> fullest = Disk.fullest(disks);
        if (fullest.isEmpty() || reachedAt(fullest.get().usedPercent())) {
            return fullest;
        }
        Disk leastFree = null;
        for (Disk d : disks) {
            if (freeBelowFloor(d) && (leastFree == null || d.availableBytes() < leastFree.availableBytes())) {
                leastFree = d;
            }
        }
        return leastFree != null ? Optional.of(leastFree) : fullest;
    }

    /** What "below" this threshold means, for people: "80%", or "80% with at least 5.0 GB free". */
    public String below() {
        return percent + "%" + (minFreeBytes > 0 ? " with at least " + Text.bytes(minFreeBytes) + " free" : "");
    }

    @Override
    public String toString() {
        return percent + "%" + (minFreeBytes > 0 ? " or under " + Text.bytes(minFreeBytes) + " free" : "");
    }

    // ---------------------------------------------------------------- --min-free and other byte sizes

    /** Made on first use: the daily no-op loads this class and parses no size. */
    private static final class Size {
        static final Pattern PATTERN = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kKmMgGtTpP]?)([bB]?)");
    }

    /**
     * A byte size in Docker's units (docker's own --keep-storage, units.FromHumanSize): a number with
     * an optional k, M, G, T or P and an optional B, decimal: 1 kB = 1000 bytes, 1 GB = 10^9 bytes
     * (not 2^30). A plain number is bytes. Binary suffixes (Gi, GiB) are refused rather than guessed.
     *
     * @param option the option the text came from, named in every error
     */
    public static long parseBytes(String option, String text) {
        String value = text == null ? "" : text.strip();
        Matcher m = Size.PATTERN.matcher(value);
        if (!m.matches()) {
            throw new BadInput(option + " '" + text + "' is not a size like 5G, 500M or 2000000000 "
                    + "(Docker's decimal units: k, M, G, T, P; 1G = 10^9 bytes)");
        }
        double number;
        try {
            number = Double.parseDouble(m.group(1));
        } catch (NumberFormatException e) {
            throw new BadInput(option + " '" + text + "' is not a size like 5G or 500M");
        }
        int power = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> 1;
            case "m" -> 2;
            case "g" -> 3;
            case "t" -> 4;
            case "p" -> 5;
            default -> 0;
        };
        double bytes = number * Math.pow(1000, power);
        if (bytes >= 9.0e18) {
            throw new BadInput(option + " '" + text + "' is too large");
        }
        long result = (long) bytes;
        if (result < 1) {
            throw new BadInput(option + " '" + text + "' is zero: give a size of at least 1 byte, or leave the option out");
        }
        return result;
    }
}
