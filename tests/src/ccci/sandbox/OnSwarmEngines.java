package ccci.sandbox;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * A test class on a multi-node swarm ({@link SwarmCluster}): tests/pom.xml runs it on the oldest and
 * the newest engine whose containerd is dockerd's own (20.10 and 28.5), which a node in its own mount
 * namespace needs; the matrix's other engines run a containerd of the sandbox's own.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("swarm")
public @interface OnSwarmEngines {}
