package ccci;

/** A fact read from the host, or the one-line reason it could not be read (the policy fails closed on it). */
public sealed interface Reading<T> {
    record Ok<T>(T value) implements Reading<T> {}

    record Failed<T>(String reason) implements Reading<T> {}

    static <T> Reading<T> ok(T value) {
        return new Ok<>(value);
    }

    static <T> Reading<T> failed(String reason) {
        return new Failed<>(reason);
    }
}
