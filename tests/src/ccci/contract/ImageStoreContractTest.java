package ccci.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ccci.Engine;
import ccci.EngineApi;
import ccci.HostSnapshot;
import ccci.contract.Contract.Real;
import ccci.contract.Contract.Roles;
import ccci.fake.FakeHost;
import ccci.fake.FakeState;
import ccci.sandbox.OnEveryEngine;
import ccci.sandbox.SandboxEngine;
import ccci.sandbox.SandboxRegistry;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The fake host's image store against the real one, on every engine and store of the matrix: each
 * test builds the same images and containers on the sandbox engine (docker CLI) and on a
 * {@link FakeHost} configured like it (its store, its API version), runs the same {@link EngineApi}
 * operations on both, and compares the outcomes with IDs written as roles. The claims:
 * <ol>
 * <li>DELETE /images/{tag} of an image with several tags only untags (200, Untagged) and never asks
 *     who uses the image; the last name's delete meets 409 while a container (created or running)
 *     uses it.</li>
 * <li>DELETE /images/{id}: 409 "referenced in multiple repositories" for two repositories or two
 *     tags, nothing changed; one tag (with the digest a push gives it on the classic store) goes
 *     with the image; 409 for a container using it, created or running. The checks' order differs
 *     by store (the classic store names the repositories before a stopped container, the containerd
 *     store the container first; a running container comes first on both).</li>
 * <li>Parent and child (`docker commit`): on the classic store deleting the parent's last tag only
 *     untags it while a child exists, and its ID meets 409 "dependent child images"; the containerd
 *     store answers Deleted but keeps it as a dangling record while the child names it, and deletes
 *     it by ID (no parent chain there). images/json?all=1 lists the intermediate image, /system/df
 *     only top-level ones; ParentId names the parent on both stores.</li>
 * <li>POST /images/{id}/tag puts a tag back (after a 409, as eviction does) and sets LastTagTime; a
 *     tag taken from another image leaves that one dangling (on the containerd store dated then).</li>
 * <li>What the core reads from the store ({@link HostSnapshot#read} at depth STORE: tags, digests,
 *     parents, top-level, layers, labels, LastTagTime, sizes; containers with state and labels) is
 *     the same picture from the fake as from the engine, and the fields it reads have the same
 *     kinds (null and empty alike).</li>
 * <li>Layer sharing: two images with the same layer both show it as SharedSize; deleting one frees
 *     no layer bytes (LayersSize), deleting an image with a layer of its own frees it.</li>
 * </ol>
 * The containerd store's RepoDigests name one repository only (its records' last name), which is
 * what the fake lists too; see README "The fake host and its contracts".
 */
@OnEveryEngine
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ImageStoreContractTest {
    private SandboxEngine engine;
    private SandboxRegistry registry;
    private Engine api;
    private boolean containerd;

    @BeforeAll
    void start() {
        engine = SandboxEngine.start(SandboxEngine.options().swarm(false));
        registry = SandboxRegistry.start("ci", "contract");
        engine.login(registry.address(), registry.user(), registry.password());
        api = Engine.connect(engine.host());
        containerd = engine.kind().containerdImageStore();
    }

    private final List<Real> reals = new ArrayList<>();

    /** The real side of one test; its containers go when the test ends. */
    private Real real() {
        Real real = new Real(engine);
        reals.add(real);
        return real;
    }

    @AfterEach
    void removeContainers() {
        reals.forEach(Real::removeContainers);
        reals.clear();
    }

    @AfterAll
    void stop() {
        if (api != null) {
            api.close();
        }
        if (registry != null) {
            registry.close();
        }
        if (engine != null) {
            engine.close();
        }
    }

    // ---------------------------------------------------------------- 1. a tag delete untags only

    @Test
    void aTagDeleteOfAnImageWithSeveralNamesOnlyUntagsAndTheLastNameMeets409() {
        Real real = real();
        real.load("M", "c1/a:1");
        real.tag("c1/a:1", "c1/a:2");
        real.tag("c1/a:1", "c1/b:1");
        real.container("c1-created", "c1/a:1", "created");
        real.busybox("R", "c1/r:1");
        real.tag("c1/r:1", "c1/r:2");
        real.container("c1-running", "c1/r:1", "running");

        FakeHost fake = Contract.fakeLike(engine, api);
        Roles fakeRoles = new Roles();
        FakeState s = fake.state();
        FakeState.Image m = s.image("c1/a:1", "c1/a:2", "c1/b:1");
        fakeRoles.put("M", m.id);
        fakeRoles.put("c1-created", s.container("c1-created", m, "created").id);
        FakeState.Image r = s.image("c1/r:1", "c1/r:2");
        fakeRoles.put("R", r.id);
        fakeRoles.put("c1-running", s.container("c1-running", r, "running").id);

        List<String> onEngine = untagAll(api, real.roles);
        List<String> onFake = untagAll(fake, fakeRoles);
        assertEquals(onEngine, onFake, "the fake deletes by name as the engine does");
        assertEquals(List.of("200 [Untagged c1/a:1]", "200 [Untagged c1/b:1]"), onEngine.subList(0, 2), "untagged, users or not");
        assertTrue(onEngine.get(2).startsWith("409 conflict: unable to "), onEngine.toString());
        assertTrue(onEngine.get(2).contains("<c1-created> is using its referenced image <M>"), onEngine.toString());
        assertEquals("200 [Untagged c1/r:1]", onEngine.get(3));
        assertTrue(onEngine.get(4).contains("<c1-running> is using its referenced image <R>"), onEngine.toString());
    }

    private static List<String> untagAll(EngineApi api, Roles roles) {
        List<String> out = new ArrayList<>();
        for (String ref : List.of("c1/a:1", "c1/b:1", "c1/a:2", "c1/r:1", "c1/r:2")) {
            out.add(Contract.outcome(roles, () -> api.deleteImage(ref)));
        }
        out.addAll(Contract.images(api, roles, "M", "R"));
        return out;
    }

    // ---------------------------------------------------------------- 2. an ID delete

    @Test
    void anIdDeleteRefusesSeveralNamesAndUsersAndDeletesAnImageWithOneName() {
        String pushed = registry.address() + "/c2/i:1";
        Real real = real();
        real.load("A", "c2/a:1");
        real.tag("c2/a:1", "c2/x:1");
        real.load("B", "c2/b:1");
        real.tag("c2/b:1", "c2/b:2");
        real.load("C", "c2/c:1");
        real.load("D", "c2/d:1");
        real.container("c2-created", "c2/d:1", "created");
        real.busybox("E", "c2/e:1");
        real.container("c2-running", "c2/e:1", "running");
        real.load("F", "c2/f:1");
        real.tag("c2/f:1", "c2/y:1");
        real.container("c2-created-f", "c2/f:1", "created");
        real.busybox("G", "c2/g:1");
        real.tag("c2/g:1", "c2/z:1");
        real.container("c2-running-g", "c2/g:1", "running");
        real.dangling("H", 2002);
        real.load("I", pushed);
        engine.dockerOk("push", "-q", pushed);
        String pushedDigest = api.distribution(pushed, java.util.Optional.of(Contract.registryAuth(registry))).path("Descriptor").path("digest").asText();
        real.roles.put("I@digest", pushedDigest);

        FakeHost fake = Contract.fakeLike(engine, api);
        Roles f = new Roles();
        FakeState s = fake.state();
        f.put("A", s.image("c2/a:1", "c2/x:1").id);
        f.put("B", s.image("c2/b:1", "c2/b:2").id);
        f.put("C", s.image("c2/c:1").id);
        FakeState.Image d = s.image("c2/d:1");
        f.put("D", d.id);
        f.put("c2-created", s.container("c2-created", d, "created").id);
        FakeState.Image e = s.image("c2/e:1");
        f.put("E", e.id);
        f.put("c2-running", s.container("c2-running", e, "running").id);
        FakeState.Image fi = s.image("c2/f:1", "c2/y:1");
        f.put("F", fi.id);
        f.put("c2-created-f", s.container("c2-created-f", fi, "created").id);
        FakeState.Image g = s.image("c2/g:1", "c2/z:1");
        f.put("G", g.id);
        f.put("c2-running-g", s.container("c2-running-g", g, "running").id);
        f.put("H", s.image().id);
        FakeState.Image i = s.image(pushed);
        f.put("I", i.id);
        String fakeDigest = "sha256:" + "d".repeat(64);
        f.put("I@digest", fakeDigest);
        if (!containerd) {
            i.digest(registry.address() + "/c2/i@" + fakeDigest); // a push gives the classic store's image the digest
        }

        List<String> onEngine = deleteById(api, real.roles);
        List<String> onFake = deleteById(fake, f);
        assertEquals(onEngine, onFake, "the fake deletes by ID as the engine does");
        onEngine = onEngine.stream().map(ImageStoreContractTest::withoutLayers).toList();
        String multiple = "(must be forced) - image is referenced in multiple repositories";
        assertEquals("409 conflict: unable to delete <A> " + multiple, onEngine.get(0));
        assertEquals("409 conflict: unable to delete <B> " + multiple, onEngine.get(1));
        assertEquals("200 [Untagged c2/c:1, Deleted <C>]", onEngine.get(2));
        assertEquals("409 conflict: unable to delete <D> (must be forced) - image is being used by stopped container <c2-created>",
                onEngine.get(3));
        assertEquals("409 conflict: unable to delete <E> (cannot be forced) - image is being used by running container <c2-running>",
                onEngine.get(4));
        assertEquals(containerd ? "409 conflict: unable to delete <F> (must be forced) - image is being used by stopped container <c2-created-f>"
                : "409 conflict: unable to delete <F> " + multiple, onEngine.get(5));
        assertEquals("409 conflict: unable to delete <G> (cannot be forced) - image is being used by running container <c2-running-g>",
                onEngine.get(6));
        assertEquals("200 [Deleted <H>]", onEngine.get(7));
        assertEquals(containerd ? "200 [Untagged " + pushed + ", Deleted <I>]"
                : "200 [Untagged " + pushed + ", Untagged " + registry.address() + "/c2/i@<I@digest>, Deleted <I>]", onEngine.get(8));
    }

    /** An answer without the classic store's freed layers (Deleted, by chain IDs no role names). */
    static String withoutLayers(String outcome) {
        return outcome.replace(", Deleted <?>", "");
    }

    private static List<String> deleteById(EngineApi api, Roles roles) {
        List<String> out = new ArrayList<>();
        for (String role : List.of("A", "B", "C", "D", "E", "F", "G", "H", "I")) {
            out.add(Contract.outcome(roles, () -> api.deleteImage(roles.id(role))));
        }
        out.addAll(Contract.images(api, roles, "A", "B", "C", "D", "E", "F", "G", "H", "I"));
        return out;
    }

    // ---------------------------------------------------------------- 3. parent and child

    @Test
    void aParentWithAChildLosesItsNameButStaysAsTheStoreKeepsIt() {
        Real real = real();
        real.busybox("base", "c3/base:1");
        commit(real, "c3/base:1", "c3/par:1", "par");
        commit(real, "c3/par:1", "c3/kid:1", "kid");

        FakeHost fake = Contract.fakeLike(engine, api);
        Roles f = new Roles();
        FakeState s = fake.state();
        FakeState.Image base = s.image("c3/base:1");
        FakeState.Image par = s.image("c3/par:1").parent(base);
        FakeState.Image kid = s.image("c3/kid:1").parent(par);
        f.put("base", base.id);
        f.put("par", par.id);
        f.put("kid", kid.id);

        List<String> onEngine = parentAndChild(api, real.roles);
        List<String> onFake = parentAndChild(fake, f);
        assertEquals(onEngine, onFake, "the fake keeps parents as the store does");
        onEngine = onEngine.stream().map(ImageStoreContractTest::withoutLayers).toList();
        assertTrue(onEngine.get(0).contains("par tags=[c3/par:1]") && onEngine.get(0).contains(" parent=<base>")
                && onEngine.get(0).contains("kid tags=[c3/kid:1]") && onEngine.get(0).contains(" parent=<par>"),
                "commit makes a child with ParentId: " + onEngine.get(0));
        assertEquals(containerd ? "DELETE c3/par:1: 200 [Untagged c3/par:1, Deleted <par>]" : "DELETE c3/par:1: 200 [Untagged c3/par:1]",
                onEngine.get(2));
        assertTrue(onEngine.get(3).contains("par tags=[] digests=[] parent=<base>"), "the parent stays, untagged: " + onEngine);
        assertEquals("top-level [base, kid]", onEngine.get(4), "df lists no intermediate image");
        assertEquals(containerd ? "DELETE par: 200 [Deleted <par>]"
                : "DELETE par: 409 conflict: unable to delete <par> (cannot be forced) - image has dependent child images", onEngine.get(5));
    }

    private void commit(Real real, String from, String to, String role) {
        String name = "c3-mk-" + role;
        engine.dockerOk("run", "--name", name, "--network", "none", from, "sh", "-c", "echo " + role + " > /" + role);
        engine.dockerOk("commit", name, to);
        engine.dockerOk("rm", name);
        real.roles.put(role, real.id(to));
    }

    private static List<String> parentAndChild(EngineApi api, Roles roles) {
        List<String> out = new ArrayList<>();
        out.add("all=1 " + Contract.images(api, roles, "base", "par", "kid"));
        out.add("top-level " + Contract.topLevel(api, roles));
        out.add("DELETE c3/par:1: " + Contract.outcome(roles, () -> api.deleteImage("c3/par:1")));
        out.add("all=1 " + Contract.images(api, roles, "base", "par", "kid"));
        out.add("top-level " + Contract.topLevel(api, roles));
        out.add("DELETE par: " + Contract.outcome(roles, () -> api.deleteImage(roles.id("par"))));
        out.add("all=1 " + Contract.images(api, roles, "base", "par", "kid"));
        return out;
    }

    // ---------------------------------------------------------------- 4. a tag put back

    @Test
    void aTagPutBackRestoresTheNameAfterA409AndATakenTagLeavesTheOtherImageDangling() {
        Real real = real();
        real.load("T", "c4/t:1");
        real.tag("c4/t:1", "c4/t:2");
        real.container("c4-created", "c4/t:1", "created");
        real.load("U", "c4/u:1");
        real.load("V", "c4/v:1");

        FakeHost fake = Contract.fakeLike(engine, api);
        Roles f = new Roles();
        FakeState s = fake.state();
        FakeState.Image t = s.image("c4/t:1", "c4/t:2");
        f.put("T", t.id);
        f.put("c4-created", s.container("c4-created", t, "created").id);
        f.put("U", s.image("c4/u:1").id);
        f.put("V", s.image("c4/v:1").id);
        s.advance(Duration.ofMinutes(1));

        sleepPastSecond(); // the real engine's tag times move on
        List<String> onEngine = tagBack(api, real.roles);
        List<String> onFake = tagBack(fake, f);
        assertEquals(onEngine, onFake, "the fake tags as the engine does");
        assertEquals(List.of("DELETE c4/t:1: 200 [Untagged c4/t:1]",
                "DELETE c4/t:2: 409 conflict: unable to " + (containerd ? "delete c4/t:2 (must be forced)" : "remove repository reference \"c4/t:2\" (must force)")
                        + " - container <c4-created> is using its referenced image <T>",
                "tag c4/t:1: 200 ", "T tags=[c4/t:1, c4/t:2]"), onEngine.subList(0, 4).stream()
                .map(l -> l.replaceAll(" digests=.*", "")).toList());
        assertTrue(onEngine.contains("T LastTagTime moved"), onEngine.toString());
        assertTrue(onEngine.contains("U LastTagTime " + (containerd ? "moved" : "kept")), onEngine.toString());
    }

    private static void sleepPastSecond() {
        try {
            Thread.sleep(1100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static List<String> tagBack(EngineApi api, Roles roles) {
        List<String> out = new ArrayList<>();
        String tBefore = api.inspectImage(roles.id("T")).path("Metadata").path("LastTagTime").asText();
        String uBefore = api.inspectImage(roles.id("U")).path("Metadata").path("LastTagTime").asText();
        out.add("DELETE c4/t:1: " + Contract.outcome(roles, () -> api.deleteImage("c4/t:1")));
        out.add("DELETE c4/t:2: " + Contract.outcome(roles, () -> api.deleteImage("c4/t:2")));
        out.add("tag c4/t:1: " + Contract.outcome(roles, () -> api.tagImage(roles.id("T"), "c4/t", "1")));
        out.addAll(Contract.images(api, roles, "T"));
        out.add("tag c4/u:1 on V: " + Contract.outcome(roles, () -> api.tagImage(roles.id("V"), "c4/u", "1")));
        out.addAll(Contract.images(api, roles, "U", "V").stream().map(l -> l.replaceAll(" digests=\\[[^]]*\\]", "")).toList());
        String tAfter = api.inspectImage(roles.id("T")).path("Metadata").path("LastTagTime").asText();
        String uAfter = api.inspectImage(roles.id("U")).path("Metadata").path("LastTagTime").asText();
        out.add("T LastTagTime " + (tAfter.equals(tBefore) ? "kept" : "moved"));
        out.add("U LastTagTime " + (uAfter.equals(uBefore) ? "kept" : "moved"));
        return out;
    }

    // ---------------------------------------------------------------- 5. what the core reads

    @Test
    void theCoreReadsTheSamePictureFromTheFakeAsFromTheEngine() {
        Real real = real();
        real.load("L", "c8/labelled:1");
        real.dangling("N", 8008);
        real.busybox("B", "c8/base:1");
        engine.dockerOk("run", "--name", "c8-mk", "--network", "none", "c8/base:1", "sh", "-c", "echo x > /x");
        engine.dockerOk("commit", "c8-mk", "c8/child:1");
        engine.dockerOk("rm", "c8-mk");
        real.roles.put("K", real.id("c8/child:1"));
        real.container("c8-created", "c8/labelled:1", "created", "ccci.contract=yes");
        real.container("c8-running", "c8/child:1", "running");

        FakeHost fake = Contract.fakeLike(engine, api);
        Roles f = new Roles();
        FakeState s = fake.state();
        FakeState.Image l = s.image("c8/labelled:1").created(Contract.CREATED);
        f.put("L", l.id);
        f.put("N", s.image().created(Contract.CREATED).loaded().id);
        FakeState.Image b = s.image("c8/base:1");
        f.put("B", b.id);
        FakeState.Image k = s.image("c8/child:1").parent(b);
        f.put("K", k.id);
        // crafted images carry the sandbox's seed label; the fake's get it too, to compare labels
        String seed = api.inspectImage(real.roles.id("L")).path("Config").path("Labels").path("ccci.sandbox.seed").asText();
        l.label("ccci.sandbox.seed", seed).loaded();
        String danglingSeed = api.inspectImage(real.roles.id("N")).path("Config").path("Labels").path("ccci.sandbox.seed").asText();
        s.imageById(f.id("N")).orElseThrow().label("ccci.sandbox.seed", danglingSeed);

        f.put("c8-created", s.container("c8-created", l, "created").label("ccci.contract", "yes").id);
        f.put("c8-running", s.container("c8-running", k, "running").id);

        Map<String, String> onEngine = picture(api, real.roles);
        Map<String, String> onFake = picture(fake, f);
        assertEquals(onEngine, onFake, "HostSnapshot reads the same from the fake as from the engine");

        Map<String, String> kindsOnEngine = kinds(api, real.roles);
        Map<String, String> kindsOnFake = kinds(fake, f);
        assertEquals(kindsOnEngine, kindsOnFake, "the fields the core reads have the same kinds");
        System.out.println("[contract] " + engine.kind() + " field kinds: " + kindsOnEngine);
    }

    /** What HostSnapshot makes of the store, for this test's images and containers. */
    private static Map<String, String> picture(EngineApi api, Roles roles) {
        HostSnapshot snapshot = HostSnapshot.read(api, HostSnapshot.Depth.STORE, Instant.now());
        Map<String, String> out = new TreeMap<>();
        for (HostSnapshot.Image i : snapshot.requireStore().images()) {
            roles.roleOf(i.id()).ifPresent(role -> out.put("image " + role, roles.norm("tags=" + i.tags() + " digests=" + i.repoDigests()
                    + " parent=" + i.parentId().orElse("") + " topLevel=" + i.topLevel() + " layers=" + i.layers().size()
                    + " labels=" + new TreeMap<>(i.labels()) + " created=" + (i.created().equals(Contract.CREATED) ? "as built" : "other")
                    + " lastTagTime=" + i.lastTagTime().isPresent() + " sharedSize=" + (i.sharedSize() >= 0 ? "known" : "unknown")
                    + " size=" + (i.size() > 0 ? "positive" : i.size()))));
        }
        for (HostSnapshot.Container c : snapshot.containers()) {
            roles.roleOf(c.id()).ifPresent(role -> out.put("container " + role, roles.norm("name=" + c.name() + " image=" + c.image()
                    + " imageId=" + c.imageId() + " state=" + c.state() + " labels=" + new TreeMap<>(c.labels())
                    + " sizeRw=" + (c.sizeRw() >= 0 ? "known" : "unknown"))));
        }
        return out;
    }

    /** The kind of every field the core reads, per role, in the listing, /system/df and inspect answers. */
    private static Map<String, String> kinds(EngineApi api, Roles roles) {
        Map<String, String> out = new TreeMap<>();
        for (JsonNode i : api.images()) {
            roles.roleOf(i.path("Id").asText()).ifPresent(role -> {
                for (String field : List.of("Id", "ParentId", "RepoTags", "RepoDigests", "Created", "Size", "Labels")) {
                    out.put("images " + role + " " + field, Contract.kind(i.path(field)));
                }
                out.put("images " + role + " <none> markers", String.valueOf(i.path("RepoTags").toString().contains("<none>")));
                JsonNode inspected = api.inspectImage(i.path("Id").asText());
                out.put("inspect " + role + " RootFS.Layers", Contract.kind(inspected.path("RootFS").path("Layers")));
                out.put("inspect " + role + " Metadata.LastTagTime", Contract.kind(inspected.path("Metadata").path("LastTagTime")));
                out.put("inspect " + role + " Created", Contract.kind(inspected.path("Created")));
                out.put("inspect " + role + " Created parses", String.valueOf(parses(inspected.path("Created").asText())));
            });
        }
        JsonNode df = api.systemDf(Set.of("image", "container", "build-cache"));
        boolean usage = !df.hasNonNull("Images") && df.has("ImagesUsage");
        JsonNode images = usage ? df.path("ImagesUsage").path("Items") : df.path("Images");
        JsonNode containers = usage ? df.path("ContainersUsage").path("Items") : df.path("Containers");
        out.put("df LayersSize", Contract.kind(usage ? df.path("ImagesUsage").path("TotalSize") : df.path("LayersSize")));
        out.put("df BuildCache", Contract.kind(usage ? df.path("BuildCacheUsage").path("Items") : df.path("BuildCache")).replace("array", "empty"));
        for (JsonNode i : images) {
            roles.roleOf(i.path("Id").asText()).ifPresent(role -> {
                for (String field : List.of("Id", "Size", "SharedSize", "Containers")) {
                    out.put("df image " + role + " " + field, Contract.kind(i.path(field)));
                }
                out.put("df image " + role + " Containers", String.valueOf(i.path("Containers").asLong()));
            });
        }
        for (JsonNode c : containers) {
            roles.roleOf(c.path("Id").asText()).ifPresent(role -> {
                for (String field : List.of("Id", "Names", "Image", "ImageID", "State", "Created", "Labels")) {
                    out.put("df container " + role + " " + field, Contract.kind(c.path(field)));
                }
                // left out when zero (the classic store's fresh container): the core reads it as 0
                out.put("df container " + role + " SizeRw", c.path("SizeRw").isMissingNode() ? "integer" : Contract.kind(c.path("SizeRw")));
            });
        }
        return out;
    }

    private static boolean parses(String text) {
        try {
            Instant.parse(text);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    // ---------------------------------------------------------------- 6. layer sharing

    @Test
    void imagesSharingALayerShowItAsSharedAndDeletingOneFreesNoLayerBytes() {
        Real real = real();
        real.busybox("X1", "c11/x:1");
        real.busybox("X2", "c11/x:2");
        real.load("Y", "c11/y:1", 256 << 10);

        FakeHost fake = Contract.fakeLike(engine, api);
        Roles f = new Roles();
        FakeState s = fake.state();
        FakeState.Image x1 = s.image("c11/x:1");
        f.put("X1", x1.id);
        f.put("X2", s.image("c11/x:2").sameLayersAs(x1).id);
        f.put("Y", s.image("c11/y:1").id);

        List<String> onEngine = layers(api, real.roles);
        List<String> onFake = layers(fake, f);
        System.out.println("[contract] " + engine.kind() + " layer sharing: " + onEngine);
        assertEquals(onEngine.stream().map(l -> l.replaceAll(" \\(.*", "")).toList(), onFake.stream().map(l -> l.replaceAll(" \\(.*", "")).toList(),
                "the fake shares layers and frees them as the engine does");
        assertEquals(List.of("X1 shared", "X2 shared", "Y own", "DELETE c11/x:1 frees none", "DELETE c11/y:1 frees some"),
                onEngine.stream().map(l -> l.replaceAll(" \\(.*", "")).toList());
        // what the core takes for "removing it alone frees" (HostSnapshot.Image.uniqueBytes: Size - SharedSize) against
        // what the removal freed: equal on the classic store; on the containerd store Size counts a layer twice (its
        // content blob and its unpacked snapshot) and SharedSize only the snapshot, so for an image sharing its layers
        // it is an upper bound far above what goes (the fake counts each layer once, as the classic store does)
        long x1Unique = number(onEngine.get(0), "size") - number(onEngine.get(0), "shared");
        long x1Freed = number(onEngine.get(3), "");
        long yUnique = number(onEngine.get(2), "size") - number(onEngine.get(2), "shared");
        long yFreed = number(onEngine.get(4), "");
        assertEquals(yUnique, yFreed, "an image with its own layer frees its Size - SharedSize");
        if (containerd) {
            assertTrue(x1Freed < x1Unique, "containerd: Size - SharedSize overstates a layer-sharing image's removal");
        } else {
            assertEquals(x1Unique, x1Freed, "classic: Size - SharedSize is what the removal frees");
        }
    }

    /** The number after "(NAME " (or, NAME empty, after "(") in an observation line. */
    private static long number(String line, String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("[(,] ?" + (name.isEmpty() ? "" : name + " ") + "(\\d+)").matcher(line);
        assertTrue(m.find(), line);
        return Long.parseLong(m.group(1));
    }

    private static List<String> layers(EngineApi api, Roles roles) {
        List<String> out = new ArrayList<>();
        Map<String, JsonNode> df = dfImages(api, roles);
        for (String role : List.of("X1", "X2", "Y")) {
            JsonNode i = df.get(role);
            long shared = i.path("SharedSize").asLong();
            out.add(role + (shared > 0 ? " shared" : " own") + " (size " + i.path("Size").asLong() + ", shared " + shared + ")");
        }
        long before = layersSize(api);
        api.deleteImage("c11/x:1");
        long afterX = layersSize(api);
        out.add("DELETE c11/x:1 frees " + freed(before - afterX) + " (" + (before - afterX) + " bytes)");
        long yUnique = df.get("Y").path("Size").asLong() - Math.max(0, df.get("Y").path("SharedSize").asLong());
        api.deleteImage("c11/y:1");
        long afterY = layersSize(api);
        out.add("DELETE c11/y:1 frees " + freed(afterX - afterY) + " (" + (afterX - afterY) + " bytes; its Size - SharedSize "
                + yUnique + ")");
        return out;
    }

    /**
     * Layer bytes freed, or none: the containerd store's LayersSize also counts an image's own
     * manifest and config (a few hundred bytes), which go with it even when every layer stays.
     */
    private static String freed(long bytes) {
        return bytes >= 16 << 10 ? "some" : "none";
    }

    private static Map<String, JsonNode> dfImages(EngineApi api, Roles roles) {
        JsonNode df = api.systemDf(Set.of("image"));
        JsonNode list = df.hasNonNull("Images") ? df.path("Images") : df.path("ImagesUsage").path("Items");
        Map<String, JsonNode> out = new LinkedHashMap<>();
        list.forEach(i -> roles.roleOf(i.path("Id").asText()).ifPresent(r -> out.put(r, i)));
        return out;
    }

    private static long layersSize(EngineApi api) {
        JsonNode df = api.systemDf(Set.of("image"));
        return df.has("LayersSize") ? df.path("LayersSize").asLong() : df.path("ImagesUsage").path("TotalSize").asLong();
    }
}
