package dev.kubeos.bench;

import dev.kubeos.agent.Agent;
import dev.kubeos.agent.StageRequest;
import dev.kubeos.agent.delta.DeltaEstimate;
import dev.kubeos.agent.host.AgentOptions;
import dev.kubeos.agent.host.HostAgents;
import dev.kubeos.agent.stage.ProgressListener;
import dev.kubeos.agent.stage.StageResult;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.formats.chunk.ChunkIndex;
import dev.kubeos.formats.chunk.ChunkerParams;
import dev.kubeos.formats.chunk.io.ChunkIndexFiles;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.testing.PayloadServer;
import dev.kubeos.testing.TestDisks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;

/**
 * Macro benchmark: a node whose booted slot holds V1.img stages V2.img (loopback http) once as the
 * full raw image and once as a delta payload, then the same delta again; prints bytes served and
 * wall time of each, side by side. The images come from bench/delta-bench.sh.
 */
public final class DeltaBench {
  private static final long MIB = 1 << 20;

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      throw new IllegalArgumentException("usage: DeltaBench V1.img V2.img WORKDIR");
    }
    // The JDK's HttpServer leaves Nagle on; with keep-alive every small range response then waits
    // for the client's delayed ACK (40 ms). Real servers do not (Go, which docker-registry is
    // written in, sets TCP_NODELAY on every connection; so does nginx's default tcp_nodelay on).
    System.setProperty("sun.net.httpserver.nodelay", "true");
    Path v1 = Path.of(args[0]);
    Path v2 = Path.of(args[1]);
    Path dir = Files.createDirectories(Path.of(args[2]));
    long rootMib = (Math.max(Files.size(v1), Files.size(v2)) + MIB - 1) / MIB;
    Path disk = TestDisks.create(dir.resolve("disk.img"), 2, rootMib, 16);
    BenchDisks.copyInto(v1, disk, TestDisks.partition(disk, "ROOT-A"));
    String v1Sha = BenchDisks.sha256(v1).hex();
    String v2Sha = BenchDisks.sha256(v2).hex();

    long t0 = System.nanoTime();
    ChunkIndex index = ChunkIndexFiles.writeIndex(v2, ChunkerParams.ext4Defaults());
    double indexSeconds = (System.nanoTime() - t0) / 1e9;
    Path indexFile = ChunkIndexFiles.indexPathFor(v2);
    DeltaEstimate est = DeltaEstimate.of(v1, v2, ChunkerParams.ext4Defaults());

    AgentOptions opts =
        new AgentOptions(
            disk,
            dir.resolve("esp"),
            dir.resolve("persist"),
            Slot.A,
            dir.resolve("none.json"),
            dir.resolve("certs"));
    HostAgents.create(opts, Clock.systemUTC()).init("1", v1Sha);
    TestDisks.Part b = TestDisks.partition(disk, "ROOT-B");
    System.out.printf(
        "v1 %s, v2 %s: %d MiB images, %d chunks, index %d bytes (built in %.1f s), %d cores%n",
        v1.getFileName(),
        v2.getFileName(),
        Files.size(v2) / MIB,
        index.chunks().size(),
        Files.size(indexFile),
        indexSeconds,
        Runtime.getRuntime().availableProcessors());
    System.out.printf(
        "delta-stats: %d bytes to fetch (%.2f%% of the image incl. index), %d copied from v1,"
            + " %d zero%n",
        est.totalFetchBytes(),
        100.0 * est.totalFetchBytes() / Files.size(v2),
        est.plan().copyBytes(),
        est.plan().zeroBytes());
    System.out.printf(
        "%-34s %14s %8s %9s%n", "stage of v2 into slot B", "bytes served", "%", "seconds");
    try (PayloadServer server = PayloadServer.http()) {
      server.serve("/v2.img", v2).serve("/v2.img.chunkidx", indexFile);
      FetchOptions insecure = FetchOptions.defaults().withInsecure(true);
      StageRequest full =
          new StageRequest(server.url("/v2.img"), v2Sha, "2", StageRequest.Format.RAW, insecure);
      StageRequest delta =
          new StageRequest(
              server.url("/v2.img.chunkidx"), v2Sha, "2", StageRequest.Format.DELTA, insecure);
      for (int run = 1; run <= 2; run++) {
        BenchDisks.punch(disk, b);
        row(server, "loopback: full raw image (" + run + ")", full, opts, Files.size(v2));
        BenchDisks.punch(disk, b);
        row(server, "loopback: delta, B empty (" + run + ")", delta, opts, Files.size(v2));
        row(server, "loopback: delta again, same version", delta, opts, Files.size(v2));
      }
      // a 1 Gbit/s and a 100 Mbit/s link shared by all connections
      for (long mbit : new long[] {1000, 100}) {
        server.limitRate(mbit * 1_000_000 / 8);
        BenchDisks.punch(disk, b);
        row(server, mbit + " Mbit/s: full raw image", full, opts, Files.size(v2));
        BenchDisks.punch(disk, b);
        row(server, mbit + " Mbit/s: delta, B empty", delta, opts, Files.size(v2));
      }
    }
  }

  private static void row(
      PayloadServer server, String what, StageRequest req, AgentOptions opts, long size) {
    long before = server.bytesSent("/v2.img") + server.bytesSent("/v2.img.chunkidx");
    Agent agent = HostAgents.create(opts, Clock.systemUTC());
    long t = System.nanoTime();
    StageResult r = agent.stage(req, ProgressListener.NONE);
    double s = (System.nanoTime() - t) / 1e9;
    long served = server.bytesSent("/v2.img") + server.bytesSent("/v2.img.chunkidx") - before;
    System.out.printf(
        "%-38s %14d %7.2f%% %9.1f  (%s)%n", what, served, 100.0 * served / size, s, r.actual());
  }
}
