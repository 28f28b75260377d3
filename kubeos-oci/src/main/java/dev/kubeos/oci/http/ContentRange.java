package dev.kubeos.oci.http;

import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A parsed {@code Content-Range: bytes first-last/total} header (RFC 9110 §14.4), the one parser
 * for every range answer: payload resumes, delta ranges, registry blobs and multipart parts.
 *
 * @param first the first byte served
 * @param last the last byte served (inclusive)
 * @param total the size of the whole resource, empty for {@code /*}
 */
public record ContentRange(long first, long last, OptionalLong total) {
  private static final Pattern FORM = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");

  /** The header value parsed; empty when it is null, malformed, or {@code last < first}. */
  public static Optional<ContentRange> parse(String header) {
    if (header == null) {
      return Optional.empty();
    }
    Matcher m = FORM.matcher(header.trim());
    if (!m.matches()) {
      return Optional.empty();
    }
    try {
      long first = Long.parseLong(m.group(1));
      long last = Long.parseLong(m.group(2));
      if (last < first) {
        return Optional.empty();
      }
      OptionalLong total =
          m.group(3).equals("*")
              ? OptionalLong.empty()
              : OptionalLong.of(Long.parseLong(m.group(3)));
      return Optional.of(new ContentRange(first, last, total));
    } catch (NumberFormatException e) {
      return Optional.empty(); // more digits than a long holds
    }
  }

  /** Whether {@code header} describes exactly bytes {@code first..last}. */
  public static boolean covers(String header, long first, long last) {
    return parse(header).filter(r -> r.first == first && r.last == last).isPresent();
  }

  /** Whether {@code header} describes a range starting at {@code first}. */
  public static boolean startsAt(String header, long first) {
    return parse(header).filter(r -> r.first == first).isPresent();
  }

  /** One past the last byte served. */
  public long end() {
    return last + 1;
  }
}
