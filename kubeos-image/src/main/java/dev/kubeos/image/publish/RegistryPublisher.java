package dev.kubeos.image.publish;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.chunk.io.ChunkIndexFiles;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.RegistryClient;
import dev.kubeos.oci.RegistryOptions;
import dev.kubeos.oci.model.Descriptor;
import dev.kubeos.oci.model.ImageReference;
import dev.kubeos.oci.model.MediaTypes;
import dev.kubeos.oci.model.OsArtifact;
import dev.kubeos.oci.source.FetchOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Date;
import java.util.Locale;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Pushes a build's payloads to a registry with the agent's own registry client (no docker, skopeo
 * or oras needed):
 *
 * <ol>
 *   <li>at {@code REPO:TAG} the upstream-compatible OS image: one uncompressed OCI layer holding
 *       {@code /os.tar} (the build's rootfs-V.tar), for nodes with image type docker/containerd;
 *   <li>at {@code REPO:TAG-raw} the KubeOS OS artifact ({@link OsArtifact}): the raw root
 *       file-system image rootfs-V.img as one uncompressed blob and its chunk index
 *       rootfs-V.img.chunkidx, for whole and delta staging.
 * </ol>
 *
 * The os.tar layer is streamed twice (once to hash it, once to upload it) so it never lands on disk
 * as a second copy of the tarball. Blobs the registry already has are not uploaded again.
 */
public final class RegistryPublisher {
  /** Tag suffix of the KubeOS OS artifact. */
  public static final String RAW_SUFFIX = "-raw";

  private final RegistryOptions options;
  private final FetchOptions fetch;

  public RegistryPublisher(RegistryOptions options, FetchOptions fetch) {
    this.options = options;
    this.fetch = fetch;
  }

  /**
   * What was pushed.
   *
   * @param osImage {@code registry/repo:tag} of the upstream-compatible image
   * @param osImageDigest its manifest digest (the OS resource's checksum for docker/containerd)
   * @param artifact {@code registry/repo:tag-raw} of the KubeOS OS artifact
   * @param artifactDigest its manifest digest (the checksum for {@code --image} raw/delta staging)
   * @param imageSha256 digest of the raw image (what a staged slot hashes to)
   * @param uploadedBytes blob bytes actually uploaded (blobs already present are skipped)
   */
  public record Published(
      String osImage,
      Sha256 osImageDigest,
      String artifact,
      Sha256 artifactDigest,
      Sha256 imageSha256,
      long uploadedBytes) {}

  /**
   * The push target {@code REPO[:TAG]}; without a tag the version (made tag-safe).
   *
   * @throws AgentException INVALID_REQUEST for a digest or a malformed reference
   */
  public static ImageReference target(String text, String version) {
    ImageReference ref = ImageReference.parse(text);
    if (ref.digest() != null) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST, "--push " + text + ": give REPO[:TAG], not a digest");
    }
    String last = text.substring(text.lastIndexOf('/') + 1);
    String tag = last.contains(":") ? ref.tag() : tagFor(version);
    return new ImageReference(ref.registry(), ref.repository(), tag, null);
  }

  /** A version as a tag: characters a tag cannot hold become '_'. */
  static String tagFor(String version) {
    String t = version.replaceAll("[^A-Za-z0-9_.-]", "_");
    return t.startsWith(".") || t.startsWith("-") ? "v" + t : t;
  }

  /** Pushes both payloads of a build. */
  public Published push(
      ImageReference target, String version, Path rootfsTar, Path rootfsImage, Sha256 imageSha256)
      throws IOException {
    RegistryClient client = RegistryClient.forImage(target, options, fetch);
    String repo = target.repository();
    long[] uploaded = {0};

    // (a) upstream-compatible image: FROM scratch + COPY os.tar /
    long tarSize = Files.size(rootfsTar);
    Counted layer = hashLayer(rootfsTar, tarSize);
    Descriptor layerDesc =
        new Descriptor(MediaTypes.OCI_LAYER, layer.digest(), layer.length(), null);
    if (!client.hasBlob(repo, layer.digest())) {
      uploaded[0] += layer.length();
    }
    client.pushBlob(repo, layerDesc, out -> writeLayer(rootfsTar, tarSize, out));
    ObjectNode config = JsonNodeFactory.instance.objectNode();
    config.put("architecture", architecture()).put("os", "linux");
    config.putObject("config");
    config
        .putObject("rootfs")
        .put("type", "layers")
        .putArray("diff_ids")
        .add(layer.digest().toString());
    config.putObject("annotations").put("org.opencontainers.image.version", version);
    byte[] configBytes = config.toString().getBytes(StandardCharsets.UTF_8);
    Descriptor configDesc = client.pushBlob(repo, configBytes, MediaTypes.OCI_CONFIG);
    ObjectNode m = JsonNodeFactory.instance.objectNode();
    m.put("schemaVersion", 2).put("mediaType", MediaTypes.OCI_MANIFEST);
    m.set("config", descriptor(configDesc, null));
    m.putArray("layers").add(descriptor(layerDesc, null));
    m.putObject("annotations").put("org.opencontainers.image.version", version);
    byte[] manifest = m.toString().getBytes(StandardCharsets.UTF_8);
    Sha256 osDigest = client.pushManifest(repo, target.tag(), manifest, MediaTypes.OCI_MANIFEST);

    // (b) KubeOS OS artifact: raw image + chunk index
    Descriptor image =
        new Descriptor(MediaTypes.KUBEOS_ROOTFS_RAW, imageSha256, Files.size(rootfsImage), null);
    if (!client.hasBlob(repo, imageSha256)) {
      uploaded[0] += image.size();
    }
    client.pushBlob(repo, rootfsImage, imageSha256, MediaTypes.KUBEOS_ROOTFS_RAW);
    Path indexFile = ChunkIndexFiles.indexPathFor(rootfsImage);
    Descriptor index = null;
    if (Files.isRegularFile(indexFile)) {
      byte[] indexBytes = Files.readAllBytes(indexFile);
      index = client.pushBlob(repo, indexBytes, MediaTypes.KUBEOS_ROOTFS_CHUNKIDX);
    }
    byte[] artifactConfig = OsArtifact.config(version, rootfsImage.getFileName().toString(), image);
    Descriptor artifactConfigDesc =
        client.pushBlob(repo, artifactConfig, MediaTypes.KUBEOS_OS_CONFIG);
    byte[] artifactManifest =
        OsArtifact.manifest(
            artifactConfigDesc,
            image,
            rootfsImage.getFileName().toString(),
            index,
            indexFile.getFileName().toString(),
            version);
    String rawTag = target.tag() + RAW_SUFFIX;
    Sha256 artifactDigest =
        client.pushManifest(repo, rawTag, artifactManifest, MediaTypes.OCI_MANIFEST);
    String base = target.registry() + "/" + repo;
    return new Published(
        base + ":" + target.tag(),
        osDigest,
        base + ":" + rawTag,
        artifactDigest,
        imageSha256,
        uploaded[0]);
  }

  private record Counted(Sha256 digest, long length) {}

  /** Pass 1: the layer's digest and length, without storing it. */
  private static Counted hashLayer(Path rootfsTar, long tarSize) throws IOException {
    MessageDigest md = sha256();
    long[] count = {0};
    OutputStream counting =
        new OutputStream() {
          @Override
          public void write(int b) {
            count[0]++;
          }

          @Override
          public void write(byte[] b, int off, int len) {
            count[0] += len;
          }
        };
    try (DigestOutputStream out = new DigestOutputStream(counting, md)) {
      writeLayer(rootfsTar, tarSize, out);
    }
    return new Counted(Sha256.of(md.digest()), count[0]);
  }

  /** The layer: a tar with the single regular file {@code os.tar} (fixed metadata). */
  static void writeLayer(Path rootfsTar, long tarSize, OutputStream out) throws IOException {
    if (Files.size(rootfsTar) != tarSize) {
      throw new AgentException(
          ErrorCode.IO_ERROR, rootfsTar + " changed while it was being pushed; push again");
    }
    OutputStream shielded =
        new java.io.FilterOutputStream(out) {
          @Override
          public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
          }

          @Override
          public void close() throws IOException {
            flush(); // the HTTP body is closed by the client
          }
        };
    TarArchiveOutputStream tar = new TarArchiveOutputStream(shielded);
    tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
    TarArchiveEntry e = new TarArchiveEntry("os.tar");
    e.setSize(tarSize);
    e.setMode(0100644);
    e.setModTime(new Date(0));
    e.setUserId(0);
    e.setGroupId(0);
    tar.putArchiveEntry(e);
    try (InputStream in = Files.newInputStream(rootfsTar)) {
      in.transferTo(tar);
    }
    tar.closeArchiveEntry();
    tar.finish();
    tar.close();
  }

  private static ObjectNode descriptor(Descriptor d, String title) {
    ObjectNode n = JsonNodeFactory.instance.objectNode();
    n.put("mediaType", d.mediaType()).put("digest", d.digest().toString()).put("size", d.size());
    if (title != null) {
      n.putObject("annotations").put("org.opencontainers.image.title", title);
    }
    return n;
  }

  private static String architecture() {
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    return switch (arch) {
      case "x86_64", "amd64" -> "amd64";
      case "aarch64", "arm64" -> "arm64";
      default -> arch;
    };
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
