package ccci.sandbox;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * A test class on a multi-node swarm ({@link SwarmCluster}): tests/pom.xml runs it on 20.10 and
 * 28.5-containerd (the oldest engine on the classic store and the newest on the containerd image
 * store, at Docker 29's minimum API), each swarm node's containerd being dockerd's own, started
 * inside the node's mount namespace ({@link SwarmNode}). Not on 26.1 and 28.5: they add no store or
 * API those two lack, and a three-node cluster costs the suite a minute and a half per engine.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("swarm")
public @interface OnSwarmEngines {}
