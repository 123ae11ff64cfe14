package ccci;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;

/** Reads the host once and evaluates the gates; never throws for a host problem (fail closed instead). */
public final class GateCheck {
    private GateCheck() {}

    public static Verdict run(DockerEngine engine, GateSettings settings) {
        Reading<HostFacts> facts = readFacts(engine);
        Reading<Path> target = GatePolicy.diskTarget(settings.diskPath(), facts, Files::isDirectory);
        return GatePolicy.evaluate(settings, facts, measure(target));
    }

    /**
     * Disk first: with an explicit --path below the threshold, the answer is "no" without connecting
     * to the engine (the cheap daily no-op). Otherwise every gate is evaluated as in {@link #run}.
     */
    public static Verdict runDiskFirst(Supplier<DockerEngine> engine, GateSettings settings) {
        if (settings.diskPath().isPresent()) {
            GateResult disk = GatePolicy.diskGate(settings.thresholdPercent(), measure(Reading.ok(settings.diskPath().get())));
            if (disk.state() == GateResult.State.BLOCKS) {
                return GatePolicy.diskAlreadyBlocks(disk);
            }
        }
        return run(engine.get(), settings);
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
