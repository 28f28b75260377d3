import java.security.MessageDigest;

/**
 * SHA-256 throughput of this JVM (the JIT it runs with): {@code THREADS} threads hash a 1 MiB
 * buffer over and over for {@code SECONDS}, then print MB/s (10^6 bytes) per thread and in total.
 * The guest bench runs it with C1 only and with tiered C2 under each QEMU CPU model: it shows what
 * the JIT makes of SHA-256 there, and it is the quickest way to make a JIT crash show itself.
 * Usage: java HashLoop.java SECONDS THREADS   (or java -cp DIR HashLoop ...)
 */
public final class HashLoop {
  public static void main(String[] args) throws Exception {
    long seconds = Long.parseLong(args[0]);
    int threads = Integer.parseInt(args[1]);
    long[] bytes = new long[threads];
    Thread[] ts = new Thread[threads];
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    long t0 = System.nanoTime();
    for (int i = 0; i < threads; i++) {
      int n = i;
      ts[i] =
          new Thread(
              () -> {
                try {
                  MessageDigest md = MessageDigest.getInstance("SHA-256");
                  byte[] buf = new byte[1 << 20];
                  for (int k = 0; k < buf.length; k++) {
                    buf[k] = (byte) (k * 31 + n);
                  }
                  while (System.nanoTime() < end) {
                    md.update(buf);
                    bytes[n] += buf.length;
                    if ((bytes[n] & ((16 << 20) - 1)) == 0) {
                      buf[(int) (bytes[n] >>> 20) & (buf.length - 1)] ^= md.digest()[0];
                    }
                  }
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      ts[i].start();
    }
    long total = 0;
    StringBuilder per = new StringBuilder();
    for (int i = 0; i < threads; i++) {
      ts[i].join();
      total += bytes[i];
      per.append(' ').append(bytes[i] / 1_000_000);
    }
    double s = (System.nanoTime() - t0) / 1e9;
    System.out.printf(
        "hashloop %.1f s, %d thread(s), MB per thread:%s, total %.1f MB/s%n",
        s, threads, per, total / 1e6 / s);
  }
}
