import java.nio.ByteBuffer;
import java.security.MessageDigest;

/**
 * How fast one fresh JVM's SHA-256 is from its first byte: hashes MIB MiB in 4 MiB updates and
 * prints the MB/s (10^6 bytes) of every 256 MiB, so a JIT that reaches its SHA-256 intrinsics late
 * shows as slow first columns. {@code direct}: 4 MiB direct buffers, as the agent's stage hashes
 * (MessageDigest.update(ByteBuffer) of a direct buffer goes through 4 KiB array chunks); {@code
 * heap}: 4 MiB byte arrays. Usage: java -cp DIR HashWarmup direct|heap MIB
 */
public final class HashWarmup {
  public static void main(String[] args) throws Exception {
    boolean direct = args[0].equals("direct");
    int mib = Integer.parseInt(args[1]);
    ByteBuffer buf = direct ? ByteBuffer.allocateDirect(4 << 20) : ByteBuffer.allocate(4 << 20);
    for (int i = 0; i < buf.capacity(); i++) {
      buf.put(i, (byte) (i * 31 + 7));
    }
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    long t0 = System.nanoTime();
    long t = t0;
    StringBuilder cols = new StringBuilder();
    for (int i = 1; i <= mib / 4; i++) {
      md.update(buf.clear());
      if (i % 64 == 0) {
        long now = System.nanoTime();
        cols.append(String.format(" %4.0f", (256 << 20) / 1e6 / ((now - t) / 1e9)));
        t = now;
      }
    }
    byte[] d = md.digest();
    System.out.printf(
        "JDK %-8s %-6s %5.2f s; MB/s per 256 MiB:%s (digest %02x%02x)%n",
        System.getProperty("java.version"),
        args[0],
        (System.nanoTime() - t0) / 1e9,
        cols,
        d[0],
        d[1]);
  }
}
