package io.jmpio.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jmpio.core.MultipathConfig;
import io.jmpio.core.MultipathDevice;
import io.jmpio.core.VerifiedWorkload;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;

/**
 * Controllers A and B each in their own container (one controller per process, talking over the
 * inter-controller link; host networking, so every port is on 127.0.0.1), the multipath device in this JVM
 * with all four paths, and a continuous verified read/write workload while containers are killed, paused
 * and cut off. Every acknowledged write must read back; no error may reach the workload.
 */
@Tag("containers")
class ControllerContainersTest {
    private static final Logger LOG = LoggerFactory.getLogger(ControllerContainersTest.class);
    static final String BASE_IMAGE = System.getProperty("jmpio.base.image", "jmpio/base:bookworm-jre17");
    private static ImageFromDockerfile emuImage;

    @TempDir
    Path data;
    private int basePort;
    private String testName;
    private GenericContainer<?> a;
    private GenericContainer<?> b;
    private MultipathDevice device;
    private VerifiedWorkload workload;

    @BeforeAll
    static void dockerAndImages() {
        Assumptions.assumeTrue(DockerClientFactory.instance().isDockerAvailable(),
            "no Docker daemon reachable: container tests skipped (start dockerd; CI does)");
        try {
            DockerClientFactory.instance().client().inspectImageCmd(BASE_IMAGE).exec();
        } catch (RuntimeException e) {
            fail("base image " + BASE_IMAGE + " is missing: build it with storage-emu/docker/build-images.sh");
        }
        Path jar = Path.of("../../dist/target/jmpio.jar").toAbsolutePath().normalize();
        if (!Files.exists(jar)) {
            fail(jar + " is missing: build the cli module first (mvn package)");
        }
        emuImage = new ImageFromDockerfile("jmpio/emu-test", false)
            .withFileFromPath("jmpio.jar", jar)
            .withFileFromPath("Dockerfile", Path.of("../../storage-emu/docker/Dockerfile").toAbsolutePath().normalize())
            .withBuildArg("BASE", BASE_IMAGE);
    }

    @BeforeEach
    void start(org.junit.jupiter.api.TestInfo info) throws Exception {
        testName = info.getTestMethod().map(java.lang.reflect.Method::getName).orElse("test");
        basePort = freePortBlock();
        a = controller("A", basePort + 11);
        a.start();
        b = controller("B", basePort + 1);
        b.start();
        // over NVMe/TCP: A's first NVMe/TCP port (base + 2); B's ports come from its discovery log (A learns them
        // from B over the link), so attach keeps asking until they are there
        device = MultipathDevice.open(new MultipathConfig().transport("nvme-tcp").portal("127.0.0.1:" + (basePort + 2))
            .name("lun0").lossTimeoutMillis(30_000)
            .hostId("container-test").ioQueues(2).ioTimeoutMillis(1000).checkIntervalMillis(100).probeTimeoutMillis(500)
            .scanIntervalMillis(500));
        await("4 paths up", 30_000, () -> device.pathsUp() == 4);
        workload = new VerifiedWorkload(device, 8, 4096);
        Thread.sleep(1000);
        assertTrue(workload.completed.get() > 0, "workload runs");
    }

    private GenericContainer<?> controller(String id, int peerLink) {
        return new GenericContainer<>(emuImage)
            .withNetworkMode("host")
            .withFileSystemBind(data.toString(), "/data", BindMode.READ_WRITE)
            .withCommand("emu", "start", "--controller", id, "--peer", "127.0.0.1:" + peerLink, "--base-port",
                Integer.toString(basePort), "--data-dir", "/data", "--lun", "lun0:64M:A", "--backend", "file",
                "--heartbeat-interval", "100", "--heartbeat-timeout", "500", "--failback-delay", "500")
            .waitingFor(Wait.forLogMessage(".*jmpio emulator serving.*", 1).withStartupTimeout(Duration.ofSeconds(90)))
            .withLogConsumer(f -> containerLog(id, f.getUtf8StringWithoutLineEnding()));
    }

    /** Every controller line goes to target/container-logs/ (the build logs only WARN): the story of a failure. */
    private void containerLog(String id, String line) {
        LOG.info("[{}] {}", id, line);
        try {
            Path dir = Path.of("target/container-logs");
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(testName + "-" + id + ".log"), java.time.LocalTime.now() + " " + line + "\n",
                StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            LOG.warn("cannot keep controller {}'s log line: {}", id, e.toString());
        }
    }

    @AfterEach
    void stop() throws Exception {
        try {
            if (workload != null) {
                workload.close();
            }
        } finally {
            if (device != null) {
                device.close();
            }
            for (GenericContainer<?> c : new GenericContainer<?>[] {a, b}) {
                if (c != null) {
                    try {
                        c.stop();
                    } catch (RuntimeException e) {
                        LOG.warn("stopping a container: {}", e.toString());
                    }
                }
            }
        }
    }

    @Test
    void killedOwnerLosesNothingAndFailsBackWhenRestarted() throws Exception {
        workload.resetStall();
        docker().killContainerCmd(a.getContainerId()).exec();
        await("I/O on B", 15_000, () -> onController("B"));
        Thread.sleep(1500);
        long stall = workload.longestStallMillis();
        double p99 = workload.latencyMillis(99);
        assertClean("after docker kill A");
        docker().startContainerCmd(a.getContainerId()).exec();
        await("A back, owning again, 4 paths up", 60_000, () -> device.pathsUp() == 4 && onController("A"));
        Thread.sleep(1000);
        finish("kill", stall, p99);
    }

    @Test
    void pausedOwnerIsDetectedByTimeoutAndFailedOver() throws Exception {
        post(basePort + 10, "/luns/lun0/move", "{\"owner\":\"B\"}");
        await("I/O on B", 15_000, () -> onController("B"));
        workload.resetStall();
        docker().pauseContainerCmd(b.getContainerId()).exec();
        await("I/O on A", 20_000, () -> onController("A"));
        Thread.sleep(1500);
        long stall = workload.longestStallMillis();
        double p99 = workload.latencyMillis(99);
        assertClean("after docker pause B");
        docker().unpauseContainerCmd(b.getContainerId()).exec();
        await("B's paths back", 60_000, () -> device.pathsUp() == 4);
        finish("pause", stall, p99);
    }

    @Test
    void portDownFailsOnlyThatPath() throws Exception {
        workload.resetStall();
        String port = "127.0.0.1:" + (basePort + 3); // A's second NVMe/TCP port: path P2
        post(basePort, "/faults", "{\"verb\":\"port-down\",\"target\":\"" + port + "\"}");
        await("only A1 down", 10_000, () -> device.pathsUp() == 3 && !pathUp("P2"));
        assertTrue(pathUp("P1") && pathUp("P17") && pathUp("P18"), "the other paths stay up: " + device.status());
        assertTrue(onController("A"), "no failover for one port");
        Thread.sleep(1000);
        long stall = workload.longestStallMillis();
        double p99 = workload.latencyMillis(99);
        assertClean("with A1 down");
        post(basePort, "/faults", "{\"verb\":\"port-up\",\"target\":\"" + port + "\"}");
        await("A1 back", 10_000, () -> device.pathsUp() == 4);
        finish("port-down", stall, p99);
    }

    @Test
    void withTheOwnersPortsDownTheNonOwnerReadsTheSharedFileUnderItsLease() throws Exception {
        workload.resetStall();
        for (int port : new int[] {basePort + 2, basePort + 3}) {
            post(basePort, "/faults", "{\"verb\":\"port-down\",\"target\":\"127.0.0.1:" + port + "\"}");
        }
        await("only B's paths up", 15_000, () -> device.pathsUp() == 2 && onController("B"));
        long before = localReads(basePort + 10);
        // B's process reads the LUN file A's process writes, overlaid with its mirror of A's cache
        await("B answers reads itself", 20_000, () -> localReads(basePort + 10) > before + 100);
        assertTrue(onController("B") && "A".equals(owner()), "A still owns the LUN: " + get(basePort, "/luns"));
        Thread.sleep(1000);
        long stall = workload.longestStallMillis();
        double p99 = workload.latencyMillis(99);
        assertClean("with B answering reads of A's LUN");
        for (int port : new int[] {basePort + 2, basePort + 3}) {
            post(basePort, "/faults", "{\"verb\":\"port-up\",\"target\":\"127.0.0.1:" + port + "\"}");
        }
        await("A's paths back", 15_000, () -> device.pathsUp() == 4);
        finish("spill", stall, p99);
    }

    /** Reads a controller answered as non-owner under the owner's lease (its status, with the peer's report). */
    private long localReads(int adminPort) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"localReads\"\\s*:\\s*(\\d+)")
            .matcher(get(adminPort, "/status"));
        long sum = 0;
        while (m.find()) {
            sum += Long.parseLong(m.group(1));
        }
        return sum;
    }

    private String owner() {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"owner\"\\s*:\\s*\"([AB])\"")
            .matcher(get(basePort, "/luns"));
        return m.find() ? m.group(1) : "?";
    }

    @Test
    void partitionedLinkWithBothAliveHasNoSplitBrainAndLosesNoWrite() throws Exception {
        workload.resetStall();
        post(basePort, "/faults", "{\"verb\":\"partition\",\"target\":\"link\"}");
        Thread.sleep(4000);
        long stall = workload.longestStallMillis();
        double p99 = workload.latencyMillis(99);
        assertClean("with the link partitioned");
        String owners = get(basePort, "/luns") + get(basePort + 10, "/luns");
        LOG.info("owners seen by A then B during the partition: {}", owners.replaceAll("\\s+", " "));
        post(basePort, "/faults", "{\"verb\":\"heal\",\"target\":\"link\"}");
        await("4 paths up after healing", 60_000, () -> device.pathsUp() == 4);
        finish("partition", stall, p99);
    }

    // ------------------------------------------------------------------------------------------------

    private void assertClean(String when) {
        assertEquals(0, workload.errors.get(), when + ": errors reached the workload: " + workload.problems());
        assertEquals(0, workload.mismatches.get(), when + ": data mismatches: " + workload.problems());
    }

    /** Stops the workload, reads every block back, and records the stall. */
    private void finish(String fault, long stallMillis, double p99Millis) throws Exception {
        workload.close();
        assertClean("at the end");
        assertEquals(0, workload.verifyAll(), "blocks not holding their last acknowledged write");
        LOG.warn("{}: longest I/O stall {} ms, p99 latency {} ms during the fault, {} I/Os completed, all verified", fault,
            stallMillis, String.format("%.1f", p99Millis), workload.completed.get());
        Path report = Path.of("target/container-stalls.txt");
        Files.writeString(report, fault + " " + stallMillis + " " + String.format(java.util.Locale.ROOT, "%.1f", p99Millis) + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
        workload = null;
    }

    private static com.github.dockerjava.api.DockerClient docker() {
        return DockerClientFactory.instance().client();
    }

    private List<?> paths() {
        List<Object> all = new java.util.ArrayList<>();
        for (Object g : (List<?>) device.status().get("groups")) {
            if (!"marginal".equals(((Map<?, ?>) g).get("group"))) {
                all.addAll((List<?>) ((Map<?, ?>) g).get("paths"));
            }
        }
        return all;
    }

    /**
     * Whether I/O runs on the paths of array controller {@code c}: over NVMe/TCP paths are named by port id,
     * A's ports 1 and 2 ("P1", "P2"), B's 0x11 and 0x12 ("P17", "P18").
     */
    private boolean onController(String c) {
        String active = device.activeController();
        return "A".equals(c) ? active.equals("P1") || active.equals("P2") : active.equals("P17") || active.equals("P18");
    }

    private boolean pathUp(String id) {
        return paths().stream().anyMatch(p -> id.equals(((Map<?, ?>) p).get("id")) && "up".equals(((Map<?, ?>) p).get("health")));
    }

    private static void await(String what, long millis, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (!cond.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                fail("timed out waiting for: " + what);
            }
            Thread.sleep(50);
        }
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private String post(int port, String path, String json) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json").header("Authorization", bearer())
            .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            fail("POST " + path + " to " + port + ": " + r.statusCode() + " " + r.body());
        }
        return r.body();
    }

    /** The array's admin token, created by the first controller in the shared data directory. */
    private String bearer() throws IOException {
        return "Bearer " + Files.readString(data.resolve("admin.token")).strip();
    }

    private String get(int port, String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5))
                .header("Authorization", bearer()).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException | InterruptedException e) {
            return "(" + e + ")";
        }
    }

    /** A base port with its 40 successors free on loopback (A: base..base+9, B: base+10..). */
    private static int freePortBlock() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int base = 20_000 + ThreadLocalRandom.current().nextInt(2000) * 10;
            boolean free = true;
            for (int p = base; p < base + 40 && free; p++) {
                try (ServerSocket s = new ServerSocket(p, 1, java.net.InetAddress.getLoopbackAddress())) {
                    s.setReuseAddress(true);
                } catch (IOException e) {
                    free = false;
                }
            }
            if (free) {
                return base;
            }
        }
        throw new IOException("no block of 40 free ports on 127.0.0.1");
    }
}
