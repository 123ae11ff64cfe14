//SOURCES Cli.java
package ccci;

import ccci.Cli.BadInput;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The age limit of prune's --until: one or more whole-number parts with a unit s, m, h or d
 * (e.g. 24h, 90m, 7d, 1d12h). The engine's filter speaks Go durations, which have no "d", so
 * {@link #engineFilter()} always gives seconds.
 */
public record Until(String text, Duration duration) {
    private static final Pattern PART = Pattern.compile("(\\d+)([smhd])");
    private static final Duration MAX = Duration.ofDays(3650);
    /** No age at all: nothing is recent by it (who uses an image, whenever). */
    public static final Until NONE = new Until("0s", Duration.ZERO);

    public static Until parse(String text) {
        return parse("--until", text);
    }

    /** @param option the option the text came from, named in every error */
    public static Until parse(String option, String text) {
        String value = text.strip();
        if (value.isEmpty()) {
            throw notAnAge(option, text);
        }
        Duration total = Duration.ZERO;
        Matcher m = PART.matcher(value);
        // part by part, not one (?:\d+[smhd])+ match: that regex recurses per part and overflows
        // the stack on a long argument
        for (int at = 0; at < value.length(); at = m.end()) {
            if (!m.region(at, value.length()).lookingAt()) {
                throw notAnAge(option, text);
            }
            long amount;
            try {
                amount = Long.parseLong(m.group(1));
            } catch (NumberFormatException e) {
                throw new BadInput(option + " '" + text + "' is too large");
            }
            if (amount > MAX.toSeconds()) {
                throw new BadInput(option + " '" + text + "' is too large (at most 3650d)");
            }
            total = total.plus(switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(amount);
                case "m" -> Duration.ofMinutes(amount);
                case "h" -> Duration.ofHours(amount);
                default -> Duration.ofDays(amount);
            });
            if (total.compareTo(MAX) > 0) {
                throw new BadInput(option + " '" + text + "' is too large (at most 3650d)");
            }
        }
        if (total.isZero()) {
            throw new BadInput(option + " '" + text + "' is zero: it would cover objects created a moment ago");
        }
        return new Until(value, total);
    }

    private static BadInput notAnAge(String option, String text) {
        return new BadInput(option + " '" + text + "' is not an age like 24h, 90m, 7d or 1d12h (units s, m, h, d)");
    }

    /** The value for the engine's until filter, e.g. 86400s for 24h. */
    public String engineFilter() {
        return duration.toSeconds() + "s";
    }

    @Override
    public String toString() {
        return text;
    }
}
