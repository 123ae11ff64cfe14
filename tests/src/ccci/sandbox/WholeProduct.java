package ccci.sandbox;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * A test of the product as it is shipped, or of a real component outside the engine matrix: the
 * launcher and JBang, install and systemd, Nix, the container image, promtool, the runbook and real
 * signals on a sandbox engine. Seconds to minutes each: tests/pom.xml runs them once, in the
 * "product" execution, apart from the pure one (policy, the fake host, every safety rule: seconds).
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("product")
public @interface WholeProduct {}
