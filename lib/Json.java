package ccci;

import com.fasterxml.jackson.databind.ObjectMapper;

/** One shared ObjectMapper, created on first use: text output and the disk-only no-op never load Jackson. */
public final class Json {
    private Json() {}

    private static final class Holder {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    public static ObjectMapper mapper() {
        return Holder.MAPPER;
    }
}
