package dev.kubeos.bench;

import dev.kubeos.agent.Agent;
import dev.kubeos.agent.StageRequest;
import dev.kubeos.agent.host.AgentOptions;
import dev.kubeos.agent.host.HostAgents;
import dev.kubeos.agent.oci.OciImages;
import dev.kubeos.agent.port.TarPayload;
import dev.kubeos.agent.stage.ProgressListener;
import dev.kubeos.agent.stage.StageResult;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.formats.files.WorkDirs;
import dev.kubeos.oci.BlobCache;
import dev.kubeos.oci.RegistryClient;
import dev.kubeos.oci.RegistryOptions;
import dev.kubeos.oci.model.Descriptor;
import dev.kubeos.oci.model.ImageReference;
import dev.kubeos.oci.model.MediaTypes;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.testing.RegistryServer;
import dev.kubeos.testing.TestDisks;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Macro benchmark: an upstream-style OS image (~1 GiB {@code /os.tar} in one layer) in Debian's
 * docker-registry on 127.0.0.1, pulled by the agent (pull only, and pull + extract + mkfs.ext4 into
 * a slot of a GPT disk image) side by side with {@code skopeo copy docker://... dir:}.
 */
public final class OciBench {
  private static final int MIB = 1 << 20;

  public static void main(String[] args) throws Exception {
    Path base = Path.of("/var/tmp");
    long size = 1L << 30;
    int runs = 3;
    boolean gzip = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--dir" -> base = Path.of(args[++i]);
        case "--size-mib" -> size = Long.parseLong(args[++i]) * MIB;
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--gzip" -> gzip = true;
        default ->
            throw new IllegalArgumentException(
                "usage: [--dir D] [--size-mib N] [--runs N] [--gzip]");
      }
    }
    Path dir = Files.createTempDirectory(base, "oci-bench-");
    try (RegistryServer registry = RegistryServer.start(dir.resolve("registry"))) {
      run(dir, registry, size, runs, gzip);
    } finally {
      WorkDirs.deleteRecursively(dir);
    }
  }

  private static void run(Path dir, RegistryServer registry, long size, int runs, boolean gzip)
      throws Exception {
    String ref = registry.host() + "/kubeos/os:big";
    RegistryOptions options =
        RegistryOptions.defaults()
            .withHostsDir(dir.resolve("no-certs.d"))
            .withDockerConfig(dir.resolve("no-config.json"));
    FetchOptions http = FetchOptions.defaults().withInsecure(true);
    long t0 = System.nanoTime();
    Path layer = dir.resolve("layer.tar" + (gzip ? ".gz" : ""));
    Sha256 layerDigest = writeLayer(layer, size, gzip);
    RegistryClient client = RegistryClient.forImage(ImageReference.parse(ref), options, http);
    Sha256 digest = push(client, layer, layerDigest, gzip);
    long layerBytes = Files.size(layer);
    Files.delete(layer);
    System.out.printf(
        "image %s: one %s layer of %d MiB (/os.tar of %d MiB incompressible files), built and"
            + " pushed in %.1f s; %d run(s) each (median), dir %s, %d cores%n",
        ref,
        gzip ? "tar+gzip" : "tar",
        layerBytes / MIB,
        size / MIB,
        (System.nanoTime() - t0) / 1e9,
        runs,
        dir,
        Runtime.getRuntime().availableProcessors());

    Path disk = TestDisks.create(dir.resolve("disk.img"), 2, size / MIB + size / MIB / 4 + 64, 16);
    Path state = dir.resolve("persist");
    AgentOptions agentOptions =
        new AgentOptions(disk, dir.resolve("esp"), state, Slot.A, dir.resolve("no-health"), dir)
            .withRegistry(options.hostsDir(), options.dockerConfig(), 4L << 30);
    Agent agent = HostAgents.create(agentOptions, Clock.systemUTC());
    agent.init("v1", null);
    StageRequest request = StageRequest.image(ref, digest.hex(), "v2", http);

    List<String[]> rows = new ArrayList<>();
    double pullOnly =
        median(
            runs,
            () -> {},
            () ->
                pull(
                    new OciImages(options, new BlobCache(dir.resolve("nocache"), 0)),
                    ref,
                    digest,
                    http));
    rows.add(
        row(
            "ours: pull only (stream /os.tar, layer digest verified, no cache)",
            pullOnly,
            layerBytes));
    double pullCache =
        median(
            runs,
            () -> WorkDirs.deleteRecursively(dir.resolve("cache1")),
            () ->
                pull(
                    new OciImages(options, new BlobCache(dir.resolve("cache1"), 4L << 30)),
                    ref,
                    digest,
                    http));
    rows.add(
        row(
            "ours: pull into the blob cache (renamed into place after the digest matched)",
            pullCache,
            layerBytes));
    double skopeo =
        median(
            runs,
            () -> WorkDirs.deleteRecursively(dir.resolve("skopeo")),
            () -> {
              Path out = dir.resolve("skopeo");
              sh("skopeo copy --quiet --src-tls-verify=false docker://" + ref + " dir:" + out);
            });
    rows.add(
        row(
            "skopeo copy docker://... dir: (blobs to files, digests verified)",
            skopeo,
            layerBytes));
    double stage =
        median(
            runs,
            () -> WorkDirs.deleteRecursively(state.resolve("blobs")),
            () -> {
              StageResult r = agent.stage(request, ProgressListener.NONE);
              if (!r.actual().equals(digest)) {
                throw new IllegalStateException("staged " + r.actual());
              }
            });
    rows.add(
        row(
            "ours: stage --image, cold cache (pull + extract + mkfs.ext4 -d of the slot)",
            stage,
            layerBytes));
    long getsBefore = registry.blobGets();
    double warm = median(runs, () -> {}, () -> agent.stage(request, ProgressListener.NONE));
    long warmGets = registry.blobGets() - getsBefore;
    rows.add(
        row(
            "ours: stage --image again, warm cache (" + warmGets + " blob GETs)",
            warm,
            layerBytes));

    System.out.printf("%n| variant | s | MiB/s of the layer | × skopeo |%n|---|---:|---:|---:|%n");
    for (String[] r : rows) {
      double s = Double.parseDouble(r[1]);
      System.out.printf("| %s | %.2f | %s | %.2f |%n", r[0], s, r[2], skopeo / s);
    }
  }

  private static String[] row(String name, double seconds, long bytes) {
    return new String[] {
      name, Double.toString(seconds), String.format("%.0f", bytes / (double) MIB / seconds)
    };
  }

  /** A layer tar holding os.tar, itself a rootfs tar of 64 MiB incompressible files. */
  static Sha256 writeLayer(Path file, long size, boolean gzip) throws Exception {
    long fileSize = 64L * MIB;
    int files = (int) Math.max(1, size / fileSize);
    long osTarSize = 512 /* dir */ + files * (512 + fileSize) + 1024 /* end */;
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    try (OutputStream raw = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20);
        DigestOutputStream digested = new DigestOutputStream(raw, md);
        OutputStream body =
            gzip
                ? new GZIPOutputStream(digested, 1 << 16) {
                  {
                    def.setLevel(Deflater.BEST_SPEED);
                  }
                }
                : digested;
        TarArchiveOutputStream layer = new TarArchiveOutputStream(body)) {
      TarArchiveEntry os = new TarArchiveEntry("os.tar");
      os.setSize(osTarSize);
      os.setMode(0100644);
      layer.putArchiveEntry(os);
      long[] written = {0};
      OutputStream counting =
          new OutputStream() {
            @Override
            public void write(int b) throws IOException {
              layer.write(b);
              written[0]++;
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
              layer.write(b, off, len);
              written[0] += len;
            }

            @Override
            public void close() {}
          };
      TarArchiveOutputStream rootfs = new TarArchiveOutputStream(counting);
      TarArchiveEntry d = new TarArchiveEntry("data/");
      d.setMode(040755);
      rootfs.putArchiveEntry(d);
      rootfs.closeArchiveEntry();
      SplittableRandom rnd = new SplittableRandom(42);
      byte[] buf = new byte[MIB];
      for (int f = 0; f < files; f++) {
        TarArchiveEntry e = new TarArchiveEntry("data/blob" + f);
        e.setSize(fileSize);
        e.setMode(0100644);
        rootfs.putArchiveEntry(e);
        for (long w = 0; w < fileSize; w += buf.length) {
          for (int i = 0; i < buf.length; i += 8) {
            long v = rnd.nextLong();
            for (int k = 0; k < 8; k++) {
              buf[i + k] = (byte) (v >>> (8 * k));
            }
          }
          rootfs.write(buf);
        }
        rootfs.closeArchiveEntry();
      }
      rootfs.finish();
      if (written[0] != osTarSize) {
        throw new IllegalStateException("os.tar is " + written[0] + " bytes, planned " + osTarSize);
      }
      layer.closeArchiveEntry();
      layer.finish();
    }
    return Sha256.of(md.digest());
  }

  static Sha256 push(RegistryClient client, Path layer, Sha256 digest, boolean gzip)
      throws IOException {
    String repo = "kubeos/os";
    Descriptor l =
        client.pushBlob(
            repo, layer, digest, gzip ? MediaTypes.OCI_LAYER_GZIP : MediaTypes.OCI_LAYER);
    Descriptor c =
        client.pushBlob(
            repo,
            "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\"}}"
                .getBytes(StandardCharsets.UTF_8),
            MediaTypes.OCI_CONFIG);
    String manifest =
        "{\"schemaVersion\":2,\"mediaType\":\""
            + MediaTypes.OCI_MANIFEST
            + "\",\"config\":"
            + json(c)
            + ",\"layers\":["
            + json(l)
            + "]}";
    return client.pushManifest(
        repo, "big", manifest.getBytes(StandardCharsets.UTF_8), MediaTypes.OCI_MANIFEST);
  }

  private static String json(Descriptor d) {
    return "{\"mediaType\":\""
        + d.mediaType()
        + "\",\"digest\":\""
        + d.digest()
        + "\",\"size\":"
        + d.size()
        + "}";
  }

  /** Resolves the image, streams its /os.tar to nowhere and verifies the layer digest. */
  private static void pull(OciImages images, String ref, Sha256 digest, FetchOptions http)
      throws IOException {
    try (TarPayload p = images.resolve(ref, digest, http).osTar()) {
      try (InputStream in = p.open()) {
        in.transferTo(OutputStream.nullOutputStream());
      }
      p.verify();
    }
  }

  interface Run {
    void run() throws Exception;
  }

  /**
   * Median of {@code runs} timed runs; before each, {@code prep} (not timed) and {@code sync}, so
   * that no run pays for the write-back of what an earlier one left dirty.
   */
  private static double median(int runs, Run prep, Run r) throws Exception {
    double[] t = new double[runs];
    for (int i = 0; i < runs; i++) {
      prep.run();
      sh("sync");
      long s = System.nanoTime();
      r.run();
      t[i] = (System.nanoTime() - s) / 1e9;
    }
    java.util.Arrays.sort(t);
    return t[runs / 2];
  }

  private static void sh(String cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("bash", "-c", cmd).inheritIO().start();
    if (p.waitFor() != 0) {
      throw new IOException(cmd + " exited " + p.exitValue());
    }
  }
}
