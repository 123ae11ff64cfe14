//SOURCES Disk.java
package ccci;

/**
 * A disk threshold in percent (df's Use%), and the one decision every step makes with it: is the
 * disk at or above it. The disk gate opens at the threshold, prune says "not enough" while the disk
 * is still at or above it, eviction goes on while the disk is at or above its low watermark.
 */
public record Threshold(int percent) {

    /** The disk is at or above this threshold. */
    public boolean reachedBy(Disk disk) {
        return reachedAt(disk.usedPercent());
    }

    /** A disk at this use (df's Use%) is at or above this threshold. */
    public boolean reachedAt(int usedPercent) {
        return usedPercent >= percent;
    }

    /** The fewest bytes whose removal brings df's Use% (rounded up) below this threshold; 0 when it already is. */
    public long bytesToGoBelow(Disk disk) {
        if (!reachedBy(disk)) {
            return 0;
        }
        long total = disk.usedBytes() + disk.availableBytes();
        // ceil(used * 100 / total) < p  <=>  used <= floor((p - 1) * total / 100): exact, no overflow
        long p = percent - 1L;
        long mostUsed = p * (total / 100) + p * (total % 100) / 100;
        return Math.max(0, disk.usedBytes() - mostUsed);
    }

    @Override
    public String toString() {
        return percent + "%";
    }
}
