package ccci;

import ccci.sandbox.CommandResult;
import ccci.sandbox.Provision;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Debian's nix-instantiate (package nix-bin, installed when missing). It parses and evaluates Nix;
 * there is no nixpkgs here, so the module and the package are evaluated with tests/nix/stand-ins.nix
 * (the package's build with nixpkgs' real lib beside them: tests/nix/package-build.nix).
 */
final class Nix {
    private Nix() {}

    static CommandResult parse(Path file) {
        return Cmd.run(instantiate(), "--parse", file.toString());
    }

    /** nix-instantiate --eval --strict --json FILE [--argstr NAME VALUE]... [-A ATTR] */
    static JsonNode eval(Path file, Map<String, String> argstr, String attr) {
        return eval(file, argstr, attr, false);
    }

    /**
     * As {@link #eval(Path, Map, String)}; with storeWrites, paths the evaluation names (a source
     * of lib.fileset) are copied into /nix/store, as evaluating for a build does (--read-write-mode).
     */
    static JsonNode eval(Path file, Map<String, String> argstr, String attr, boolean storeWrites) {
        List<String> command = new ArrayList<>(List.of(instantiate(), "--eval", "--strict", "--json", file.toString()));
        if (storeWrites) {
            command.add("--read-write-mode");
        }
        argstr.forEach((name, value) -> command.addAll(List.of("--argstr", name, value)));
        if (attr != null) {
            command.addAll(List.of("-A", attr));
        }
        CommandResult run = Cmd.run(command, null, null).requireOk();
        try {
            return new ObjectMapper().readTree(run.out());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode eval(Path file) {
        return eval(file, Map.of(), null);
    }

    private static String instantiate() {
        return Provision.ensureBinary("nix-instantiate", "nix-bin").toString();
    }
}
