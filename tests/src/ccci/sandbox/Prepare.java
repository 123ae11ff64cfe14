package ccci.sandbox;

import java.util.List;

/**
 * What the test executions need from outside, fetched once before they start (tests/run runs the
 * executions side by side, and two apt-get runs at once would fight over dpkg's lock): Debian's
 * packages the sandbox and the product tests use, and the engines of the releases the matrix names.
 */
public final class Prepare {
    private Prepare() {}

    public static void main(String[] args) {
        Provision.ensureInstalled();
        Provision.ensureBinary("nix-instantiate", "nix-bin");
        Provision.ensureBinary("promtool", "prometheus");
        Provision.ensureBinary("systemd-analyze", "systemd");
        for (String id : args) {
            EngineKind kind = EngineKind.of(id);
            kind.binaries();
            System.out.println("tests/run: engine " + id + " ready");
        }
    }

    static List<String> all() {
        return List.of(EngineKind.values()).stream().map(EngineKind::id).toList();
    }
}
