package dev.kubeos.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Real GPT disk images for tests, made with {@code sgdisk} and cross-checked with {@code sfdisk
 * --json} (both from the host, see scripts/install-deps.sh).
 *
 * <p>{@link #create(Path, long, long, long)} lays out the boot contract: partition 1 {@code ESP}
 * (type EF00), 2 {@code ROOT-A} (8304), 3 {@code ROOT-B} (8304), 4 {@code PERSIST} (8300), each 1
 * MiB aligned, starting at sector 2048, with the fixed unique GUIDs below so tests can assert them.
 * The image file is sparse: it costs disk space only for what is written.
 */
public final class TestDisks {
  /** Logical sector size of every image made here. */
  public static final int SECTOR = 512;

  private static final long MIB = 1 << 20;

  /** Disk GUID of images made by {@link #create(Path, long, long, long)}. */
  public static final UUID DISK_GUID = UUID.fromString("d15c0000-1234-4abc-8def-0123456789ab");

  /** Unique GUID (PARTUUID) of partition 1, {@code ESP}. */
  public static final UUID ESP_UUID = UUID.fromString("e5e5e5e5-0001-4a11-9111-0000000000e1");

  /** Unique GUID (PARTUUID) of partition 2, {@code ROOT-A}. */
  public static final UUID ROOT_A_UUID = UUID.fromString("a0a1a2a3-0002-4a22-9222-00000000000a");

  /** Unique GUID (PARTUUID) of partition 3, {@code ROOT-B}. */
  public static final UUID ROOT_B_UUID = UUID.fromString("b0b1b2b3-0003-4a33-9333-00000000000b");

  /** Unique GUID (PARTUUID) of partition 4, {@code PERSIST}. */
  public static final UUID PERSIST_UUID = UUID.fromString("f0f1f2f3-0004-4a44-9444-0000000000ff");

  /** One partition to create: sgdisk type code (e.g. {@code 8304}); uuid null = random. */
  public record Spec(String name, String typeCode, long sizeMiB, UUID uuid) {
    public Spec {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(typeCode, "typeCode");
      if (sizeMiB <= 0) {
        throw new IllegalArgumentException("partition " + name + " needs a positive size");
      }
    }
  }

  /** A partition as reported by {@code sfdisk --json} (sectors of {@link #SECTOR} bytes). */
  public record Part(
      int number, String name, UUID uuid, UUID type, long startSector, long sizeSectors) {
    public long offsetBytes() {
      return startSector * SECTOR;
    }

    public long sizeBytes() {
      return sizeSectors * SECTOR;
    }

    public long lastSector() {
      return startSector + sizeSectors - 1;
    }
  }

  /** Output of a finished command. */
  public record Result(int exitCode, String stdout, String stderr) {}

  private static final Map<List<Spec>, Path> TEMPLATES = new ConcurrentHashMap<>();
  private static Path templateDir;
  private static int templateCount;

  private TestDisks() {}

  /** Creates the boot-contract disk ESP / ROOT-A / ROOT-B / PERSIST; returns {@code file}. */
  public static Path create(Path file, long espMiB, long rootMiB, long persistMiB) {
    return create(
        file,
        List.of(
            new Spec("ESP", "EF00", espMiB, ESP_UUID),
            new Spec("ROOT-A", "8304", rootMiB, ROOT_A_UUID),
            new Spec("ROOT-B", "8304", rootMiB, ROOT_B_UUID),
            new Spec("PERSIST", "8300", persistMiB, PERSIST_UUID)));
  }

  /**
   * Creates a sparse image holding {@code specs} as partitions 1..n in order, 1 MiB aligned, with
   * disk GUID {@link #DISK_GUID}. The image is 1 MiB (protective MBR, primary GPT, alignment) plus
   * the partitions plus 1 MiB (backup GPT) long. Returns {@code file}.
   *
   * <p>sgdisk sleeps a second after every write (it syncs and waits for the kernel), so each
   * distinct layout is partitioned once per JVM into a private temporary directory and then copied
   * with {@code cp --sparse=always}. Equal specs therefore give identical images, including the
   * GUIDs sgdisk picks when a {@link Spec#uuid()} is null.
   */
  public static Path create(Path file, List<Spec> specs) {
    Path template = TEMPLATES.computeIfAbsent(List.copyOf(specs), TestDisks::buildTemplate);
    run("cp", "--sparse=always", template.toString(), file.toString());
    return file;
  }

  private static synchronized Path buildTemplate(List<Spec> specs) {
    try {
      if (templateDir == null) {
        templateDir = Files.createTempDirectory("kubeos-testdisks-");
        Path dir = templateDir;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
      }
      return sgdisk(templateDir.resolve("template-" + templateCount++ + ".img"), specs);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a temporary directory", e);
    }
  }

  private static void deleteTree(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort at JVM exit
    }
  }

  private static Path sgdisk(Path file, List<Spec> specs) {
    long mib = 2;
    List<String> cmd = new ArrayList<>(List.of("sgdisk", "-o", "-U", DISK_GUID.toString()));
    for (int i = 0; i < specs.size(); i++) {
      Spec s = specs.get(i);
      int n = i + 1;
      mib += s.sizeMiB();
      cmd.addAll(List.of("-n", n + ":0:+" + s.sizeMiB() + "M", "-t", n + ":" + s.typeCode()));
      cmd.addAll(List.of("-c", n + ":" + s.name()));
      if (s.uuid() != null) {
        cmd.addAll(List.of("-u", n + ":" + s.uuid()));
      }
    }
    cmd.add(file.toString());
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.setLength(0);
      raf.setLength(mib * MIB);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + file, e);
    }
    run(cmd);
    return file;
  }

  /** The partitions of {@code file} as {@code sfdisk --json} reports them, in table order. */
  public static List<Part> partitions(Path file) {
    String json = run("sfdisk", "--json", file.toString());
    String label = field(json, "label");
    if (!"gpt".equals(label)) {
      throw new AssertionError("sfdisk reports label '" + label + "', not gpt:\n" + json);
    }
    String sectorSize = field(json, "sectorsize");
    if (sectorSize != null && !sectorSize.equals(String.valueOf(SECTOR))) {
      throw new AssertionError("sfdisk reports sector size " + sectorSize + ":\n" + json);
    }
    String device = field(json, "device");
    int array = json.indexOf("\"partitions\"");
    List<Part> parts = new ArrayList<>();
    if (array < 0) {
      return parts;
    }
    Matcher m = Pattern.compile("\\{([^{}]*)\\}").matcher(json.substring(array));
    while (m.find()) {
      String obj = m.group(1);
      String node = field(obj, "node");
      String suffix = node.startsWith(device) ? node.substring(device.length()) : node;
      Matcher digits = Pattern.compile("(\\d+)$").matcher(suffix);
      if (!digits.find()) {
        throw new AssertionError("cannot tell the partition number of node " + node);
      }
      String name = field(obj, "name");
      parts.add(
          new Part(
              Integer.parseInt(digits.group(1)),
              name == null ? "" : name,
              UUID.fromString(field(obj, "uuid")),
              UUID.fromString(field(obj, "type")),
              Long.parseLong(field(obj, "start")),
              Long.parseLong(field(obj, "size"))));
    }
    return parts;
  }

  /** The partition named {@code name} of {@code file} (per sfdisk); fails when absent. */
  public static Part partition(Path file, String name) {
    return partitions(file).stream()
        .filter(p -> p.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no partition named " + name + " in " + file));
  }

  /**
   * Formats {@code part} of {@code disk} as ext4 in place (mkfs.ext4 {@code -E offset=}), filled
   * from {@code sourceDir} (null = empty) with root-owned files, labelled {@code label}.
   */
  public static void mkfsExt4(Path disk, Part part, Path sourceDir, String label) {
    List<String> cmd = new ArrayList<>(List.of("mkfs.ext4", "-q", "-F", "-L", label));
    cmd.addAll(List.of("-E", "offset=" + part.offsetBytes() + ",root_owner=0:0"));
    if (sourceDir != null) {
      cmd.addAll(List.of("-d", sourceDir.toString()));
    }
    cmd.addAll(List.of(disk.toString(), (part.sizeBytes() / 1024) + "k"));
    run(cmd);
  }

  /** Runs {@code debugfs -R request} on the ext4 file system in {@code part}; returns stdout. */
  public static String debugfs(Path disk, Part part, String request) {
    return run("debugfs", "-R", request, disk + "?offset=" + part.offsetBytes());
  }

  /** Runs a command; returns its stdout, or fails with the command and all of its output. */
  public static String run(String... command) {
    return run(List.of(command));
  }

  /** Runs a command; returns its stdout, or fails with the command and all of its output. */
  public static String run(List<String> command) {
    Result r = exec(command);
    if (r.exitCode() != 0) {
      throw new AssertionError(
          "command failed with exit code "
              + r.exitCode()
              + ": "
              + String.join(" ", command)
              + "\nstdout:\n"
              + r.stdout()
              + "\nstderr:\n"
              + r.stderr());
    }
    return r.stdout();
  }

  /** Runs a command (LC_ALL=C, 120 s limit) and returns its exit code and output. */
  public static Result exec(List<String> command) {
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().put("LC_ALL", "C");
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new AssertionError(
          "cannot run " + command.get(0) + " (install it with scripts/install-deps.sh): " + e, e);
    }
    try {
      p.getOutputStream().close();
      CompletableFuture<String> err =
          CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()));
      String out = drain(p.getInputStream());
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("timed out after 120 s: " + String.join(" ", command));
      }
      return new Result(p.exitValue(), out, err.join());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while running " + command, e);
    }
  }

  private static String drain(InputStream in) {
    try (in) {
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      in.transferTo(buf);
      return buf.toString(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The value of {@code "key": value} (string unescaped, or a bare number), or null. */
  private static String field(String json, String key) {
    Matcher m =
        Pattern.compile("\"" + key + "\"\\s*:\\s*(?:\"((?:[^\"\\\\]|\\\\.)*)\"|(-?\\d+))")
            .matcher(json);
    if (!m.find()) {
      return null;
    }
    if (m.group(2) != null) {
      return m.group(2);
    }
    return m.group(1).replaceAll("\\\\(.)", "$1");
  }
}
