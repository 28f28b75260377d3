package dev.kubeos.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;

/**
 * Debian's {@code docker-registry} (CNCF distribution 2.8) on 127.0.0.1 with a free port, a temp
 * storage directory and optional htpasswd auth. Requests are read back from its access log, so
 * tests can count what a client fetched.
 *
 * <pre>{@code
 * try (RegistryServer r = RegistryServer.start(tempDir)) { ... r.host() ... r.requests() ... }
 * }</pre>
 */
public final class RegistryServer implements AutoCloseable {
  public static final Path BINARY = Path.of("/usr/bin/docker-registry");
  private static final Pattern ACCESS =
      Pattern.compile("\"([A-Z]+) (\\S+) HTTP/[0-9.]+\" (\\d{3})");

  /** One request from the access log. */
  public record Request(String method, String path, int status) {}

  private final Path dir;
  private final String user;
  private final String password;
  private final TestPki tls;
  private int port;
  private Process process;

  private RegistryServer(Path dir, String user, String password, TestPki tls) {
    this.dir = dir;
    this.user = user;
    this.password = password;
    this.tls = tls;
  }

  /** Starts an open registry (no auth, plain http) storing under {@code dir}. */
  public static RegistryServer start(Path dir) {
    return new RegistryServer(dir, null, null, null).startProcess();
  }

  /** Starts a registry that demands Basic auth of {@code user}/{@code password} (htpasswd). */
  public static RegistryServer startWithHtpasswd(Path dir, String user, String password) {
    return new RegistryServer(dir, user, password, null).startProcess();
  }

  /** Starts an open registry serving https with the server certificate of {@code pki}. */
  public static RegistryServer startTls(Path dir, TestPki pki) {
    return new RegistryServer(dir, null, null, pki).startProcess();
  }

  private RegistryServer startProcess() {
    try {
      Files.createDirectories(storage());
      StringBuilder config = new StringBuilder();
      port = freePort();
      config
          .append("version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\n")
          .append("storage:\n  filesystem:\n    rootdirectory: ")
          .append(storage())
          .append("\n  delete:\n    enabled: true\n")
          .append("http:\n  addr: 127.0.0.1:")
          .append(port)
          .append("\n  headers:\n    X-Content-Type-Options: [nosniff]\n");
      if (tls != null) {
        config
            .append("  tls:\n    certificate: ")
            .append(tls.serverCertPem())
            .append("\n    key: ")
            .append(tls.serverKeyPem())
            .append("\n");
      }
      if (user != null) {
        Path htpasswd = dir.resolve("htpasswd");
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        String hash = OpenBSDBCrypt.generate("2y", password.toCharArray(), salt, 6);
        Files.writeString(htpasswd, user + ":" + hash + "\n", StandardCharsets.UTF_8);
        config
            .append("auth:\n  htpasswd:\n    realm: kubeos-test\n    path: ")
            .append(htpasswd)
            .append("\n");
      }
      Path file = dir.resolve("config.yml");
      Files.writeString(file, config.toString());
      process =
          new ProcessBuilder(BINARY.toString(), "serve", file.toString())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile()))
              .start();
      awaitUp();
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void awaitUp() throws IOException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2); // a bound, not a wait
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException(
            "docker-registry exited with " + process.exitValue() + ": " + Files.readString(log()));
      }
      try {
        HttpURLConnection c =
            (HttpURLConnection) URI.create("http://" + host() + "/v2/").toURL().openConnection();
        c.setConnectTimeout(500);
        c.getResponseCode(); // an https registry answers plain http with 400: it is up
        c.disconnect();
        return;
      } catch (IOException notYet) {
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted", e);
        }
      }
    }
    throw new IOException("docker-registry did not answer on " + host() + " within 2 min");
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** {@code 127.0.0.1:<port>}, the registry part of image references. */
  public String host() {
    return "127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  /** The registry's storage root (filesystem driver). */
  public Path storage() {
    return dir.resolve("storage");
  }

  /** Where the blob with {@code hex} digest lives in the storage directory. */
  public Path blobData(String hex) {
    return storage()
        .resolve("docker/registry/v2/blobs/sha256")
        .resolve(hex.substring(0, 2))
        .resolve(hex)
        .resolve("data");
  }

  public Path log() {
    return dir.resolve("registry.log");
  }

  /** The requests served so far, from the access log, in order. */
  public List<Request> requests() {
    List<Request> out = new ArrayList<>();
    try {
      if (!Files.exists(log())) {
        return out;
      }
      for (String line : Files.readAllLines(log(), StandardCharsets.UTF_8)) {
        Matcher m = ACCESS.matcher(line);
        if (m.find() && line.startsWith("127.0.0.1 ")) {
          out.add(new Request(m.group(1), m.group(2), Integer.parseInt(m.group(3))));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** GET requests of blobs so far. */
  public long blobGets() {
    return requests().stream()
        .filter(r -> r.method().equals("GET") && r.path().contains("/blobs/sha256:"))
        .count();
  }

  public boolean running() {
    return process != null && process.isAlive();
  }

  /** Stops the registry (SIGKILL, like a crash or a pulled cable) and waits for it. */
  public void stop() {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public void close() {
    stop();
  }
}
