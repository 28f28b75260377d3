package dev.kubeos.agent.etc.model;

import java.util.Map;
import java.util.Objects;

/**
 * One entry of an /etc tree as the merge compares it: type, permission bits, owner, group, the
 * content (SHA-256 of a regular file, the target of a symbolic link, the device number of a special
 * file) and the {@code user.*} extended attributes.
 *
 * @param type what the entry is
 * @param mode permission bits including set-uid, set-gid and sticky (07777)
 * @param uid owner
 * @param gid group
 * @param content file: hex SHA-256; symlink: target; special file: device number; dir: empty
 * @param xattrs {@code user.*} extended attributes, name to hex value
 */
public record EtcEntry(
    Type type, int mode, int uid, int gid, String content, Map<String, String> xattrs) {

  /** Entry types; overlayfs whiteouts never appear in a tree (trees are merged views). */
  public enum Type {
    FILE,
    DIR,
    SYMLINK,
    OTHER
  }

  public EtcEntry {
    Objects.requireNonNull(type, "type");
    content = content == null ? "" : content;
    xattrs = xattrs == null ? Map.of() : Map.copyOf(xattrs);
  }

  public boolean isDir() {
    return type == Type.DIR;
  }

  /**
   * Same type, content, owner, group, xattrs and (except for symbolic links, whose mode Linux
   * ignores) permission bits: what "the node did not change this entry" means.
   */
  public boolean sameAs(EtcEntry other) {
    return other != null
        && type == other.type
        && (type == Type.SYMLINK || mode == other.mode)
        && uid == other.uid
        && gid == other.gid
        && content.equals(other.content)
        && xattrs.equals(other.xattrs);
  }

  @Override
  public String toString() {
    return String.format("%s %04o %d:%d %s", type, mode, uid, gid, content);
  }
}
