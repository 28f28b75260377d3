package dev.kubeos.bench;

import dev.kubeos.agent.StageRequest;
import dev.kubeos.agent.host.AgentOptions;
import dev.kubeos.agent.host.HostAgents;
import dev.kubeos.agent.stage.ProgressListener;
import dev.kubeos.agent.stage.StageResult;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.formats.chunk.ChunkerParams;
import dev.kubeos.formats.chunk.io.ChunkIndexFiles;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.formats.files.WorkDirs;
import dev.kubeos.oci.RegistryClient;
import dev.kubeos.oci.RegistryOptions;
import dev.kubeos.oci.model.Descriptor;
import dev.kubeos.oci.model.ImageReference;
import dev.kubeos.oci.model.MediaTypes;
import dev.kubeos.oci.model.OsArtifact;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.testing.RegistryServer;
import dev.kubeos.testing.TestDisks;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * Macro benchmark: the KubeOS OS artifact (raw image + chunk index) of a one-package upgrade in
 * Debian's docker-registry on 127.0.0.1, staged by the agent whole (raw blob through {@code
 * RawImageWriter}) and as a delta from the booted slot (Range requests on the blob), side by side
 * with {@code skopeo copy docker://... dir:} of the same raw blob in the same run.
 */
public final class OciRawBench {
  private static final long MIB = 1 << 20;

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      throw new IllegalArgumentException("usage: OciRawBench V1.img V2.img WORKDIR [RUNS]");
    }
    Path v1 = Path.of(args[0]);
    Path v2 = Path.of(args[1]);
    Path dir = Files.createDirectories(Path.of(args[2]));
    int runs = args.length > 3 ? Integer.parseInt(args[3]) : 3;
    WorkDirs.deleteRecursively(dir.resolve("registry"));
    try (RegistryServer registry = RegistryServer.start(dir.resolve("registry"))) {
      run(v1, v2, dir, registry, runs);
    }
  }

  private static void run(Path v1, Path v2, Path dir, RegistryServer registry, int runs)
      throws Exception {
    String repo = "kubeos/os";
    String base = registry.host() + "/" + repo;
    RegistryOptions options =
        RegistryOptions.defaults()
            .withHostsDir(dir.resolve("no-certs.d"))
            .withDockerConfig(dir.resolve("no-config.json"));
    FetchOptions http = FetchOptions.defaults().withInsecure(true);
    RegistryClient client = RegistryClient.forImage(ImageReference.parse(base), options, http);
    long size = Files.size(v2);
    long t0 = System.nanoTime();
    ChunkIndexFiles.writeIndex(v2, ChunkerParams.ext4Defaults());
    Sha256 v2Sha = BenchDisks.sha256(v2);
    Descriptor raw = client.pushBlob(repo, v2, v2Sha, MediaTypes.KUBEOS_ROOTFS_RAW);
    Descriptor index =
        client.pushBlob(
            repo,
            Files.readAllBytes(ChunkIndexFiles.indexPathFor(v2)),
            MediaTypes.KUBEOS_ROOTFS_CHUNKIDX);
    Descriptor config =
        client.pushBlob(repo, OsArtifact.config("2", "v2.img", raw), MediaTypes.KUBEOS_OS_CONFIG);
    Sha256 withIndex =
        client.pushManifest(
            repo,
            "2-raw",
            OsArtifact.manifest(config, raw, "v2.img", index, "v2.img.chunkidx", "2"),
            MediaTypes.OCI_MANIFEST);
    Sha256 whole =
        client.pushManifest(
            repo,
            "2-whole",
            OsArtifact.manifest(config, raw, "v2.img", null, null, "2"),
            MediaTypes.OCI_MANIFEST);
    // the same raw blob as a plain OCI image layer, for skopeo
    Descriptor ociConfig =
        client.pushBlob(
            repo,
            "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\"}}"
                .getBytes(StandardCharsets.UTF_8),
            MediaTypes.OCI_CONFIG);
    String plain =
        "{\"schemaVersion\":2,\"mediaType\":\""
            + MediaTypes.OCI_MANIFEST
            + "\",\"config\":"
            + json(ociConfig, ociConfig.mediaType())
            + ",\"layers\":["
            + json(raw, MediaTypes.OCI_LAYER)
            + "]}";
    client.pushManifest(
        repo, "2-plain", plain.getBytes(StandardCharsets.UTF_8), MediaTypes.OCI_MANIFEST);
    System.out.printf(
        "v2 %s: %d MiB raw image + %d byte index, indexed and pushed in %.1f s; %d run(s) each"
            + " (median), %d cores%n",
        v2,
        size / MIB,
        index.size(),
        (System.nanoTime() - t0) / 1e9,
        runs,
        Runtime.getRuntime().availableProcessors());

    long rootMib = (Math.max(Files.size(v1), size) + MIB - 1) / MIB;
    Path disk = TestDisks.create(dir.resolve("disk.img"), 2, rootMib, 16);
    BenchDisks.copyInto(v1, disk, TestDisks.partition(disk, "ROOT-A"));
    Path state = dir.resolve("persist");
    WorkDirs.deleteRecursively(state);
    WorkDirs.deleteRecursively(dir.resolve("esp"));
    AgentOptions cached =
        new AgentOptions(disk, dir.resolve("esp"), state, Slot.A, dir.resolve("no-health"), dir)
            .withRegistry(options.hostsDir(), options.dockerConfig(), 4L << 30);
    AgentOptions uncached = cached.withRegistry(options.hostsDir(), options.dockerConfig(), 1);
    HostAgents.create(cached, Clock.systemUTC()).init("1", BenchDisks.sha256(v1).hex());
    TestDisks.Part b = TestDisks.partition(disk, "ROOT-B");
    StageRequest deltaReq = StageRequest.image(base + ":2-raw", withIndex.hex(), "2", http);
    StageRequest wholeReq = StageRequest.image(base + ":2-whole", whole.hex(), "2", http);

    List<String> rows = new ArrayList<>();
    double skopeo =
        median(
            runs,
            () -> WorkDirs.deleteRecursively(dir.resolve("skopeo")),
            () -> {
              Path out = dir.resolve("skopeo");
              sh(
                  "skopeo copy --quiet --src-tls-verify=false docker://"
                      + base
                      + ":2-plain dir:"
                      + out);
              return size;
            },
            null);
    rows.add(
        row(
            "skopeo copy docker://... dir: (raw blob to a file, digest verified)",
            skopeo,
            size,
            size,
            skopeo));
    long[] fetched = new long[1];
    double wholeNoCache =
        median(runs, () -> cold(disk, b, state), () -> stage(uncached, wholeReq), fetched);
    rows.add(
        row(
            "ours: stage --image artifact, whole (raw blob -> slot, no cache tee)",
            wholeNoCache,
            size,
            fetched[0],
            skopeo));
    double wholeTee =
        median(runs, () -> cold(disk, b, state), () -> stage(cached, wholeReq), fetched);
    rows.add(
        row(
            "ours: stage --image artifact, whole, teed into the blob cache",
            wholeTee,
            size,
            fetched[0],
            skopeo));
    double delta = median(runs, () -> cold(disk, b, state), () -> stage(cached, deltaReq), fetched);
    rows.add(
        row(
            "ours: stage --image artifact, delta from slot A (B empty)",
            delta,
            size,
            fetched[0],
            skopeo));
    long gets = registry.blobGets();
    double again = median(runs, () -> {}, () -> stage(cached, deltaReq), fetched);
    rows.add(
        row(
            "ours: the same artifact again (" + (registry.blobGets() - gets) + " blob GETs)",
            again,
            size,
            fetched[0],
            skopeo));
    System.out.printf(
        "%n| variant | s | MiB/s of the image | bytes from the registry | %% of the image | ×"
            + " skopeo |%n|---|---:|---:|---:|---:|---:|%n");
    rows.forEach(System.out::println);
  }

  interface Run {
    long run() throws Exception;
  }

  /** Slot B punched to zeros and the blob cache emptied. */
  private static void cold(Path disk, TestDisks.Part b, Path state) throws Exception {
    BenchDisks.punch(disk, b);
    WorkDirs.deleteRecursively(state.resolve("blobs"));
  }

  private static long stage(AgentOptions opts, StageRequest req) throws Exception {
    StageResult r = HostAgents.create(opts, Clock.systemUTC()).stage(req, ProgressListener.NONE);
    return r.fetchedBytes();
  }

  private static String row(String what, double s, long size, long fetched, double skopeo) {
    return String.format(
        "| %s | %.2f | %.0f | %,d | %.2f%% | %.2f |",
        what, s, size / (double) MIB / s, fetched, 100.0 * fetched / size, skopeo / s);
  }

  interface Prep {
    void run() throws Exception;
  }

  /**
   * Median of {@code runs} timed runs; before each, {@code prep} (not timed) and {@code sync}, so
   * that no run pays for the write-back of what an earlier one left dirty.
   */
  private static double median(int runs, Prep prep, Run r, long[] lastFetched) throws Exception {
    double[] t = new double[runs];
    for (int i = 0; i < runs; i++) {
      prep.run();
      sh("sync");
      long s = System.nanoTime();
      long f = r.run();
      t[i] = (System.nanoTime() - s) / 1e9;
      if (lastFetched != null) {
        lastFetched[0] = f;
      }
    }
    java.util.Arrays.sort(t);
    return t[runs / 2];
  }

  private static String json(Descriptor d, String mediaType) {
    return "{\"mediaType\":\""
        + mediaType
        + "\",\"digest\":\""
        + d.digest()
        + "\",\"size\":"
        + d.size()
        + "}";
  }

  private static void sh(String cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("bash", "-c", cmd).inheritIO().start();
    if (p.waitFor() != 0) {
      throw new IOException(cmd + " exited " + p.exitValue());
    }
  }
}
