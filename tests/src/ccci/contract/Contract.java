package ccci.contract;

import ccci.EngineApi;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.HostConfig;
import ccci.fake.FakeHost;
import ccci.sandbox.CommandResult;
import ccci.sandbox.ImageSpec;
import ccci.sandbox.SandboxEngine;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the contract tests share: names for the objects each side creates ({@link Roles}, since IDs
 * differ between the real engine and the fake), the outcome of one engine operation as a line that
 * compares across sides, views of the store restricted to a test's own objects, a fake host
 * configured like the engine, and the real side's setup through the docker CLI.
 */
final class Contract {
    private Contract() {}

    /** The crafted images' build time: fixed, so their IDs are the same every run. */
    static final Instant CREATED = Instant.parse("2026-01-02T03:04:05Z");

    /** The X-Registry-Auth header for the sandbox registry's user. */
    static String registryAuth(ccci.sandbox.SandboxRegistry registry) {
        String json = ccci.Json.mapper().createObjectNode().put("username", registry.user()).put("password", registry.password())
                .put("serveraddress", registry.address()).toString();
        return java.util.Base64.getUrlEncoder().encodeToString(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** A fake host like this engine: its image store, and the API version the engine answers in. */
    static FakeHost fakeLike(SandboxEngine engine, EngineApi real) {
        FakeHost fake = new FakeHost(engine.kind().containerdImageStore() ? FakeHost.Store.CONTAINERD : FakeHost.Store.CLASSIC,
                Clock.fixed(Instant.now(), ZoneOffset.UTC));
        JsonNode version = real.version();
        fake.state().api(version.path("ApiVersion").asText(), version.path("MinAPIVersion").asText());
        return fake;
    }

    /**
     * Names for IDs: each side registers the images, containers and digests it creates under the
     * same role; {@link #norm} then writes any text (an answer, an engine message) with roles in
     * place of full and short IDs, so the two sides' texts compare.
     */
    static final class Roles {
        private static final Pattern ID = Pattern.compile("(sha256:)?\\b([0-9a-f]{64})\\b|\\b([0-9a-f]{12})\\b");
        private final Map<String, String> byHex = new LinkedHashMap<>();
        private final Map<String, String> idOf = new LinkedHashMap<>();

        /** Registers an ID (image, container, digest); the first role given to an ID stays. */
        String put(String role, String id) {
            String hex = id.replaceFirst("^sha256:", "");
            byHex.putIfAbsent(hex, role);
            idOf.putIfAbsent(role, id);
            return id;
        }

        String id(String role) {
            String id = idOf.get(role);
            if (id == null) {
                throw new IllegalArgumentException("no object has the role " + role + " (known: " + idOf.keySet() + ")");
            }
            return id;
        }

        Optional<String> roleOf(String id) {
            return Optional.ofNullable(byHex.get(id.replaceFirst("^sha256:", "")));
        }

        Set<String> roles() {
            return idOf.keySet();
        }

        /** The text with every known ID (full, with or without sha256:, or its first 12 digits) as &lt;role&gt;. */
        String norm(String text) {
            Matcher m = ID.matcher(text);
            StringBuilder out = new StringBuilder();
            while (m.find()) {
                String replacement;
                if (m.group(2) != null) {
                    replacement = "<" + byHex.getOrDefault(m.group(2), "?") + ">";
                } else {
                    String shortId = m.group(3);
                    replacement = byHex.entrySet().stream().filter(e -> e.getKey().startsWith(shortId)).map(e -> "<" + e.getValue() + ">")
                            .findFirst().orElse(shortId);
                }
                m.appendReplacement(out, Matcher.quoteReplacement(replacement));
            }
            m.appendTail(out);
            return out.toString();
        }
    }

    /**
     * One operation's outcome as a line: "200 " and the answer (a delete's Untagged entries sorted,
     * then its Deleted ones in order), or the HTTP status and the engine's message; IDs as roles.
     */
    static String outcome(Roles roles, Supplier<JsonNode> call) {
        try {
            JsonNode answer = call.get();
            if (answer != null && answer.isArray()) {
                TreeSet<String> untagged = new TreeSet<>();
                List<String> deleted = new ArrayList<>();
                answer.forEach(entry -> {
                    if (entry.has("Untagged")) {
                        untagged.add("Untagged " + entry.path("Untagged").asText());
                    }
                    if (entry.has("Deleted")) {
                        deleted.add("Deleted " + entry.path("Deleted").asText());
                    }
                });
                List<String> all = new ArrayList<>(untagged);
                all.addAll(deleted);
                return roles.norm("200 " + all);
            }
            return roles.norm("200 " + (answer == null ? "" : answer.toString()));
        } catch (EngineApi.Refused e) {
            return roles.norm(e.status() + " " + e.engineMessage());
        }
    }

    static String outcome(Roles roles, Runnable call) {
        return outcome(roles, () -> {
            call.run();
            return null;
        });
    }

    /**
     * The images of these roles as GET /images/json?all=1 lists them: tags, digests (IDs as roles),
     * parent; "gone" when the store no longer has it. "&lt;none&gt;" markers are left out here
     * (the shape tests compare them).
     */
    static List<String> images(EngineApi api, Roles roles, String... imageRoles) {
        Map<String, JsonNode> byId = new LinkedHashMap<>();
        api.images().forEach(i -> byId.put(i.path("Id").asText(), i));
        List<String> out = new ArrayList<>();
        for (String role : imageRoles) {
            JsonNode i = byId.get(roles.id(role));
            if (i == null) {
                out.add(role + " gone");
                continue;
            }
            out.add(roles.norm(role + " tags=" + sorted(i.path("RepoTags"), "<none>:<none>") + " digests="
                    + sorted(i.path("RepoDigests"), "<none>@<none>") + " parent=" + i.path("ParentId").asText("")));
        }
        return out;
    }

    /** The roles among the top-level images (what GET /system/df lists, as `docker images` does). */
    static Set<String> topLevel(EngineApi api, Roles roles) {
        TreeSet<String> out = new TreeSet<>();
        JsonNode df = api.systemDf(Set.of("image"));
        JsonNode list = df.hasNonNull("Images") ? df.path("Images") : df.path("ImagesUsage").path("Items");
        list.forEach(i -> roles.roleOf(i.path("Id").asText()).ifPresent(out::add));
        return out;
    }

    static TreeSet<String> sorted(JsonNode array, String... leaveOut) {
        TreeSet<String> out = new TreeSet<>();
        array.forEach(v -> out.add(v.asText()));
        List.of(leaveOut).forEach(out::remove);
        return out;
    }

    /** A field's JSON kind, with null and an empty array or object alike ("empty"): the core reads them alike. */
    static String kind(JsonNode node) {
        if (node.isMissingNode()) {
            return "missing";
        }
        if (node.isNull() || (node.isContainerNode() && node.isEmpty())) {
            return "empty";
        }
        if (node.isArray()) {
            return "array";
        }
        if (node.isObject()) {
            return "object";
        }
        if (node.isIntegralNumber()) {
            return "integer";
        }
        return node.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    }

    static void await(BooleanSupplier condition, Duration within, String what) {
        long end = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("not within " + within.toSeconds() + " s: " + what);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting: " + what);
            }
        }
    }

    /** The real side's setup: crafted and busybox images, tags, containers in a state, each under a role. */
    static final class Real {
        final SandboxEngine engine;
        final Roles roles = new Roles();
        private final List<String> containers = new ArrayList<>();
        private DockerClient docker;

        Real(SandboxEngine engine) {
            this.engine = engine;
        }

        /** A crafted image (one layer of its own, 4 KiB) loaded under ref; it has no programs (containers are created, not run). */
        String load(String role, String ref) {
            return load(role, ref, 4096);
        }

        String load(String role, String ref, long layerBytes) {
            return roles.put(role, engine.loadImage(ImageSpec.tagged(ref, CREATED, layerBytes)));
        }

        String dangling(String role, long seed) {
            return roles.put(role, engine.loadImage(ImageSpec.dangling(CREATED, 4096, seed)));
        }

        /** A runnable image (busybox, imported: a new image each time, all sharing one layer). */
        String busybox(String role, String ref) {
            engine.importBusybox(ref);
            return roles.put(role, id(ref));
        }

        void tag(String source, String ref) {
            engine.dockerOk("tag", source, ref);
        }

        String id(String ref) {
            return engine.dockerOk("image", "inspect", "-f", "{{.Id}}", ref);
        }

        /**
         * A container named name of the image, in this state: created, exited (ran `true`),
         * running (`sleep`), paused; labels as KEY=VALUE. Only busybox images run. Made with
         * docker-java: far quicker than a docker CLI process per step.
         */
        String container(String name, String image, String state, String... labels) {
            Map<String, String> labelMap = new LinkedHashMap<>();
            for (String label : labels) {
                String[] kv = label.split("=", 2);
                labelMap.put(kv[0], kv.length > 1 ? kv[1] : "");
            }
            boolean runs = state.equals("running") || state.equals("paused");
            DockerClient docker = docker();
            String id = docker.createContainerCmd(image).withName(name).withLabels(labelMap)
                    .withCmd(runs ? List.of("sleep", "600") : List.of("true"))
                    .withHostConfig(HostConfig.newHostConfig().withNetworkMode("none")).exec().getId();
            containers.add(name);
            if (!state.equals("created")) {
                docker.startContainerCmd(id).exec();
            }
            if (state.equals("exited")) {
                docker.waitContainerCmd(id).start().awaitStatusCode(30, java.util.concurrent.TimeUnit.SECONDS);
            }
            if (state.equals("paused")) {
                docker.pauseContainerCmd(id).exec();
            }
            return roles.put(name, id);
        }

        private DockerClient docker() {
            if (docker == null) {
                docker = engine.dockerJava();
            }
            return docker;
        }

        /** Removes the containers this side made (a test's end: the engine is shared by the class's tests). */
        void removeContainers() {
            if (docker != null) {
                try {
                    docker.close();
                } catch (java.io.IOException ignored) {
                    // a client of a test that ended
                }
                docker = null;
            }
            if (!containers.isEmpty()) {
                List<String> args = new ArrayList<>(List.of("rm", "-f"));
                args.addAll(containers);
                CommandResult r = engine.docker(args.toArray(String[]::new));
                if (!r.ok() && !r.err().contains("No such container")) {
                    throw new AssertionError("could not remove " + containers + ": " + r);
                }
                containers.clear();
            }
        }
    }
}
