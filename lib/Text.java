package ccci;

import java.util.Locale;

/** The one text helper every command shares: summary lines, one-line messages, sizes. */
public final class Text {
    private Text() {}

    /** One journald-friendly line: "summary key=value key="value with spaces" ...". */
    public static final class Summary {
        private final StringBuilder line = new StringBuilder("summary");

        public Summary put(String key, Object value) {
            String text = String.valueOf(value);
            line.append(' ').append(key).append('=')
                    .append(text.matches("[^\\s\"]+") ? text : "\"" + text.replace("\"", "'") + "\"");
            return this;
        }

        @Override
        public String toString() {
            return line.toString();
        }
    }

    /** Lines of output, each ended by the platform's line separator. */
    public static final class Lines {
        private final StringBuilder out = new StringBuilder();

        public Lines add(String line) {
            out.append(line).append(System.lineSeparator());
            return this;
        }

        @Override
        public String toString() {
            return out.toString();
        }
    }

    /** The first line of a text, stripped. */
    public static String firstLine(String text) {
        String line = text.strip();
        int newline = line.indexOf('\n');
        return newline < 0 ? line : line.substring(0, newline).strip();
    }

    /** The innermost non-blank message of an exception's causes, on one line (else its class name). */
    public static String rootMessage(Throwable e) {
        Throwable t = e;
        String message = null;
        while (t != null) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                message = t.getMessage();
            }
            t = t.getCause();
        }
        return firstLine(message != null ? message : e.getClass().getSimpleName());
    }

    /** A size for people: 512 B, 1.5 KB, 12.0 MB (powers of 1024). */
    public static String bytes(long n) {
        if (n < 1024) return n + " B";
        String[] units = {"KB", "MB", "GB", "TB"};
        double v = n;
        int u = -1;
        do {
            v /= 1024;
            u++;
        } while (v >= 1024 && u < units.length - 1);
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /** "1 layer", "2 layers". */
    public static String count(long n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }

    /**
     * An engine-supplied string (a name, tag, label, message) made safe for a terminal and one
     * line: control characters (C0, DEL, C1), line and paragraph separators, bidirectional
     * overrides and the backslash become visible escapes (\\n, \\x1b, \\u202e, \\\\).
     */
    public static String escape(String untrusted) {
        if (untrusted == null) {
            return "";
        }
        StringBuilder out = null;
        for (int i = 0; i < untrusted.length(); i++) {
            char c = untrusted.charAt(i);
            String replacement = escaped(c);
            if (replacement != null && out == null) {
                out = new StringBuilder(untrusted.length() + 8).append(untrusted, 0, i);
            }
            if (out != null) {
                out.append(replacement != null ? replacement : String.valueOf(c));
            }
        }
        return out == null ? untrusted : out.toString();
    }

    private static String escaped(char c) {
        switch (c) {
            case '\\': return "\\\\";
            case '\n': return "\\n";
            case '\r': return "\\r";
            case '\t': return "\\t";
            default: break;
        }
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f)) {
            return String.format(Locale.ROOT, "\\x%02x", (int) c);
        }
        if (c == '\u2028' || c == '\u2029' || (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069')
                || c == '\u200e' || c == '\u200f' || c == '\u061c') {
            return String.format(Locale.ROOT, "\\u%04x", (int) c);
        }
        return null;
    }

    /** At most width characters, starting with an ellipsis when cut: keeps the end (an image's tag). */
    public static String clipStart(String s, int width) {
        return s.length() <= width ? s : "\u2026" + s.substring(s.length() - width + 1);
    }

    /** At most width characters, ending in an ellipsis when cut. */
    public static String clip(String s, int width) {
        return s.length() <= width ? s : s.substring(0, width - 1) + "\u2026";
    }
}
