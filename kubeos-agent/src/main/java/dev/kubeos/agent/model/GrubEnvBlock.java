package dev.kubeos.agent.model;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The GRUB environment block format ({@code grub-editenv}, {@code load_env}, {@code save_env}): the
 * header {@code "# GRUB Environment Block\n"}, then {@code name=value\n} lines where a value's
 * backslash and newline are preceded by a backslash, then {@code #} padding up to the block size.
 *
 * <p>{@link #parse} follows GRUB's own reader ({@code grub_envblk_iterate}) byte for byte,
 * including its behaviour on damaged blocks (it stops at the first line that runs off the end of
 * the block, keeping what it read so far), so that Java sees exactly the variables GRUB's {@code
 * load_env} sees. {@link #encode} produces the bytes {@code grub-editenv FILE create} followed by
 * {@code grub-editenv FILE set k1=v1 k2=v2 ...} produces. Text is UTF-8. Pure: no I/O.
 */
public final class GrubEnvBlock {

  /** Size of every block the boot contract uses (GRUB's default environment block size). */
  public static final int SIZE = 1024;

  /** The signature GRUB requires at the start of a block. */
  public static final String HEADER = "# GRUB Environment Block\n";

  private static final byte[] HEADER_BYTES = HEADER.getBytes(StandardCharsets.US_ASCII);

  private GrubEnvBlock() {}

  /**
   * Reads the variables of a block in file order, as GRUB does. A name that occurs twice keeps its
   * first position and its last value (as {@code load_env} would leave it).
   *
   * @return empty when {@code block} is null, is not {@value #SIZE} bytes or lacks the header
   */
  public static Optional<LinkedHashMap<String, String>> parse(byte[] block) {
    if (block == null || block.length != SIZE || !hasHeader(block)) {
      return Optional.empty();
    }
    LinkedHashMap<String, String> vars = new LinkedHashMap<>();
    int p = HEADER_BYTES.length;
    int end = block.length;
    while (p < end) {
      if (block[p] == '#') {
        // A comment or the padding: skip to the end of the line.
        while (p < end && block[p] != '\n') {
          p++;
        }
      } else {
        // GRUB takes everything up to the next '=' as the name (even across newlines).
        int nameStart = p;
        while (p < end && block[p] != '=') {
          p++;
        }
        if (p == end) {
          break; // broken: no '=' before the end; GRUB stops here
        }
        int nameEnd = p;
        p++;
        int valueStart = p;
        while (p < end) {
          if (block[p] == '\n') {
            break;
          } else if (block[p] == '\\') {
            p++;
          }
          p++;
        }
        if (p >= end) {
          break; // broken: the value runs off the end of the block; GRUB stops here
        }
        ByteArrayOutputStream value = new ByteArrayOutputStream(p - valueStart);
        for (int q = valueStart; q < p; q++) {
          if (block[q] == '\\') {
            q++;
          }
          value.write(block[q]);
        }
        vars.put(
            cString(Arrays.copyOfRange(block, nameStart, nameEnd)), cString(value.toByteArray()));
      }
      p++;
    }
    return Optional.of(vars);
  }

  /**
   * Encodes variables (in map iteration order) into a {@value #SIZE}-byte block, exactly as
   * grub-editenv writes them into a fresh block.
   *
   * @throws IllegalArgumentException when a name or value cannot be represented (empty name, name
   *     with {@code =}, newline or NUL, name starting with {@code #}, value with NUL) or when the
   *     variables need more than {@value #SIZE} bytes (the message gives the size needed)
   */
  public static byte[] encode(Map<String, String> vars) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(SIZE);
    out.writeBytes(HEADER_BYTES);
    for (Map.Entry<String, String> e : vars.entrySet()) {
      String name = e.getKey();
      String value = e.getValue();
      checkName(name);
      if (value == null || value.indexOf('\0') >= 0) {
        throw new IllegalArgumentException(
            "GRUB environment variable " + name + " has a null value or a NUL character");
      }
      out.writeBytes(name.getBytes(StandardCharsets.UTF_8));
      out.write('=');
      for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
        if (b == '\\' || b == '\n') {
          out.write('\\');
        }
        out.write(b);
      }
      out.write('\n');
    }
    if (out.size() > SIZE) {
      throw new IllegalArgumentException(
          "GRUB environment block overflow: the variables need "
              + out.size()
              + " bytes but a block holds "
              + SIZE
              + " bytes; shorten the values (e.g. the kernel command lines) by "
              + (out.size() - SIZE)
              + " bytes");
    }
    byte[] block = new byte[SIZE];
    Arrays.fill(block, (byte) '#');
    System.arraycopy(out.toByteArray(), 0, block, 0, out.size());
    return block;
  }

  private static void checkName(String name) {
    if (name == null
        || name.isEmpty()
        || name.startsWith("#")
        || name.indexOf('=') >= 0
        || name.indexOf('\n') >= 0
        || name.indexOf('\0') >= 0) {
      throw new IllegalArgumentException(
          "not a GRUB environment variable name: '"
              + name
              + "' (expected a non-empty name without '=', newline or NUL, not starting with '#')");
    }
  }

  private static boolean hasHeader(byte[] block) {
    return Arrays.equals(block, 0, HEADER_BYTES.length, HEADER_BYTES, 0, HEADER_BYTES.length);
  }

  /** GRUB handles names and values as C strings: a NUL byte ends them. */
  private static String cString(byte[] bytes) {
    int len = 0;
    while (len < bytes.length && bytes[len] != 0) {
      len++;
    }
    return new String(bytes, 0, len, StandardCharsets.UTF_8);
  }
}
