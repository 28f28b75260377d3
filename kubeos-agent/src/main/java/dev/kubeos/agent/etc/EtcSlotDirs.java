package dev.kubeos.agent.etc;

import dev.kubeos.api.agent.Slot;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The overlay dirs under {@code /persist/etc}, one set per slot: {@code A} and {@code B} are
 * symbolic links to generation directories {@code A.N} / {@code B.N}, each holding {@code upper},
 * {@code work} and {@code conflicts.txt}. A slot without its link uses the shared {@code upper} and
 * {@code work} of images and nodes from before per-slot dirs (the initramfs hook decides the same
 * way). A new generation is switched to by an atomic rename of the link.
 */
public final class EtcSlotDirs {
  private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

  private final Path root;

  public EtcSlotDirs(Path root) {
    this.root = root;
  }

  public Path root() {
    return root;
  }

  /** The upper dir slot {@code s} boots with. */
  public Path upperOf(Slot s) {
    Path link = root.resolve(s.name());
    return Files.isSymbolicLink(link) ? link.resolve("upper") : root.resolve("upper");
  }

  /** The generation dir slot {@code s}'s link names, if it has one. */
  public Optional<Path> generationOf(Slot s) throws IOException {
    Path link = root.resolve(s.name());
    if (!Files.isSymbolicLink(link)) {
      return Optional.empty();
    }
    return Optional.of(root.resolve(Files.readSymbolicLink(link)));
  }

  /**
   * A new, empty generation dir for slot {@code s}, after deleting the leftovers of interrupted
   * merges (generations of {@code s} its link does not name).
   */
  public Path newGeneration(Slot s) throws IOException {
    Files.createDirectories(root);
    Optional<Path> current = generationOf(s);
    Pattern name = Pattern.compile(Pattern.quote(s.name()) + "\\.(\\d{1,9})");
    long max = 0;
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
      for (Path e : entries) {
        Matcher m = name.matcher(e.getFileName().toString());
        if (!m.matches()) {
          continue;
        }
        max = Math.max(max, Long.parseLong(m.group(1)));
        if (current.isEmpty() || !current.get().getFileName().equals(e.getFileName())) {
          deleteTree(e);
        }
      }
    }
    Path gen = root.resolve(s.name() + "." + (max + 1));
    Files.createDirectory(gen);
    return gen;
  }

  /**
   * Points slot {@code s}'s link at {@code generation} (atomic rename, directory fsynced), then
   * deletes the generation it named before.
   */
  public void switchTo(Slot s, Path generation) throws IOException {
    Optional<Path> old = generationOf(s);
    Path tmp = root.resolve("." + s.name() + ".link");
    Files.deleteIfExists(tmp);
    Files.createSymbolicLink(tmp, generation.getFileName());
    Files.move(tmp, root.resolve(s.name()), StandardCopyOption.ATOMIC_MOVE);
    EtcUpperWriter.force(root);
    if (old.isPresent() && !old.get().getFileName().equals(generation.getFileName())) {
      deleteTree(old.get());
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir, NOFOLLOW)) {
      return;
    }
    Files.walkFileTree(
        dir,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            Files.delete(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
            if (e != null) {
              throw e;
            }
            Files.delete(d);
            return FileVisitResult.CONTINUE;
          }
        });
  }
}
