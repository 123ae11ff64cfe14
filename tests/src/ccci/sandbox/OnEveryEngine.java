package ccci.sandbox;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * A test class about engine behaviour: tests/pom.xml runs it once per {@link EngineKind} (the
 * "engine" tag), each run with its own -Dccci.engine. Classes without it run once, on the default.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("engine")
public @interface OnEveryEngine {}
