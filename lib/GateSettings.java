package ccci;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** The gate policy's knobs, validated once at the edge; every error quotes the offending input. */
public record GateSettings(int thresholdPercent, Pattern stackPattern, Optional<Path> diskPath) {

    public static final int DEFAULT_THRESHOLD = 80;
    public static final String DEFAULT_STACK_PATTERN = "^[a-z0-9]{1,4}-[0-9a-f]{6}_ci_commoninternet_net(_|$)";

    public static GateSettings parse(String threshold, String stackPattern, String path) {
        return new GateSettings(parseThreshold(threshold), parsePattern(stackPattern), parsePath(path));
    }

    static int parseThreshold(String text) {
        int value;
        try {
            value = Integer.parseInt(text.trim().replaceFirst("%$", ""));
        } catch (NumberFormatException e) {
            throw new BadInput("--threshold '" + text + "' is not a whole number of percent (1-100)");
        }
        if (value < 1 || value > 100) {
            throw new BadInput("--threshold " + value + " is outside 1-100 (percent of the disk in use)");
        }
        return value;
    }

    static Pattern parsePattern(String text) {
        if (text.isEmpty()) {
            throw new BadInput("--stack-pattern is empty: it would match every name and block pruning forever");
        }
        try {
            return Pattern.compile(text);
        } catch (PatternSyntaxException e) {
            throw new BadInput("--stack-pattern '" + text + "' is not a valid regular expression: "
                    + e.getDescription() + " near index " + e.getIndex());
        }
    }

    static Optional<Path> parsePath(String text) {
        if (text == null) {
            return Optional.empty();
        }
        Path path = Path.of(text);
        if (!Files.exists(path)) {
            throw new BadInput("--path '" + text + "' does not exist");
        }
        return Optional.of(path.toAbsolutePath().normalize());
    }
}
