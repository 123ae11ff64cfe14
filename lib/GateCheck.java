package ccci;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads the host once and evaluates the gates; never throws for a host problem (fail closed instead). */
public final class GateCheck {
    private GateCheck() {}

    public static Verdict run(DockerEngine engine, GateSettings settings) {
        Reading<HostFacts> facts = readFacts(engine);
        Reading<Path> target = GatePolicy.diskTarget(settings.diskPath(), facts, Files::isDirectory);
        return GatePolicy.evaluate(settings, facts, measure(target));
    }

    static Reading<HostFacts> readFacts(DockerEngine engine) {
        try {
            return Reading.ok(HostFactsReader.read(engine));
        } catch (EngineUnavailable e) {
            return Reading.failed(e.getMessage());
        }
    }

    static Reading<DiskUsage> measure(Reading<Path> target) {
        if (target instanceof Reading.Failed<Path> failed) {
            return Reading.failed(failed.reason());
        }
        Path path = ((Reading.Ok<Path>) target).value();
        try {
            return Reading.ok(DiskUsage.measure(path));
        } catch (IOException | SecurityException e) {
            return Reading.failed(path + ": " + DockerEngine.rootMessage(e));
        }
    }
}
