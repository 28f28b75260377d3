package dev.kubeos.agent.oci;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.RegistryClient;
import dev.kubeos.oci.RegistryOptions;
import dev.kubeos.oci.model.Descriptor;
import dev.kubeos.oci.model.ImageReference;
import dev.kubeos.oci.model.MediaTypes;
import dev.kubeos.oci.source.FetchOptions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Builds upstream-style OS images for tests (a small rootfs tar as {@code /os.tar} in a layer,
 * config, manifest) and pushes them with the agent's own {@link RegistryClient}.
 */
final class TestImage {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** How the image is laid out. */
  enum Kind {
    /** Docker schema 2, one gzip layer (what {@code docker build} + {@code docker push} makes). */
    DOCKER,
    /** OCI media types, an uncompressed lower layer without os.tar, os.tar in the top layer. */
    OCI_TWO_LAYERS
  }

  final String version;
  final byte[] osTar;
  final List<byte[]> layers = new ArrayList<>();
  final List<Descriptor> layerDescriptors = new ArrayList<>();
  byte[] manifest;
  Sha256 digest;

  private TestImage(String version, byte[] osTar) {
    this.version = version;
    this.osTar = osTar;
  }

  /**
   * A rootfs with {@code /etc/os-release} naming {@code version} and {@code randomKiB} KiB of
   * incompressible data in {@code /usr/lib/blob} (so cuts can land mid-blob).
   */
  static TestImage of(String version, int randomKiB) {
    byte[] random = new byte[randomKiB << 10];
    new Random(version.hashCode()).nextBytes(random);
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put(
        "etc/os-release",
        ("PRETTY_NAME=\"KubeOS " + version + "\"\nVERSION_ID=" + version + "\n")
            .getBytes(StandardCharsets.UTF_8));
    files.put("usr/lib/blob", random);
    return new TestImage(version, tar(files, List.of("etc", "usr", "usr/lib")));
  }

  static byte[] tar(Map<String, byte[]> files, List<String> dirs) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      for (String d : dirs) {
        TarArchiveEntry e = new TarArchiveEntry(d + "/");
        e.setMode(040755);
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
      }
      for (Map.Entry<String, byte[]> f : files.entrySet()) {
        TarArchiveEntry e = new TarArchiveEntry(f.getKey());
        e.setSize(f.getValue().length);
        e.setMode(0100644);
        tar.putArchiveEntry(e);
        tar.write(f.getValue());
        tar.closeArchiveEntry();
      }
      tar.finish();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static byte[] gzip(byte[] plain) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(plain);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Pushes the image as {@code repository:tag} to the registry of {@code client}. */
  TestImage push(RegistryClient client, String repository, String tag, Kind kind) {
    boolean docker = kind == Kind.DOCKER;
    layers.clear();
    layerDescriptors.clear();
    String layerType;
    if (docker) {
      layers.add(gzip(tar(Map.of("os.tar", osTar), List.of())));
      layerType = MediaTypes.DOCKER_LAYER_GZIP;
    } else {
      layers.add(
          tar(Map.of("README", "lower layer\n".getBytes(StandardCharsets.UTF_8)), List.of()));
      layers.add(tar(Map.of("./os.tar", osTar), List.of()));
      layerType = MediaTypes.OCI_LAYER;
    }
    for (byte[] l : layers) {
      layerDescriptors.add(client.pushBlob(repository, l, layerType));
    }
    ObjectNode config = JSON.createObjectNode();
    config.put("architecture", "amd64").put("os", "linux");
    ObjectNode rootfs = config.putObject("rootfs").put("type", "layers");
    ArrayNode diffIds = rootfs.putArray("diff_ids");
    layers.forEach(l -> diffIds.add("sha256:" + hex(l)));
    byte[] configBytes = config.toString().getBytes(StandardCharsets.UTF_8);
    Descriptor cfg =
        client.pushBlob(
            repository, configBytes, docker ? MediaTypes.DOCKER_CONFIG : MediaTypes.OCI_CONFIG);
    ObjectNode m = JSON.createObjectNode();
    String type = docker ? MediaTypes.DOCKER_MANIFEST : MediaTypes.OCI_MANIFEST;
    m.put("schemaVersion", 2).put("mediaType", type);
    m.set("config", descriptor(cfg));
    ArrayNode ls = m.putArray("layers");
    layerDescriptors.forEach(d -> ls.add(descriptor(d)));
    manifest = m.toString().getBytes(StandardCharsets.UTF_8);
    digest = client.pushManifest(repository, tag, manifest, type);
    return this;
  }

  private static String hex(byte[] b) {
    return dev.kubeos.oci.model.ManifestDocument.sha256(b).hex();
  }

  private static ObjectNode descriptor(Descriptor d) {
    ObjectNode n = JSON.createObjectNode();
    n.put("mediaType", d.mediaType()).put("digest", d.digest().toString()).put("size", d.size());
    return n;
  }

  /** A client that pushes to {@code registryHost} over http with the given options. */
  static RegistryClient pusher(String registryHost, RegistryOptions options) {
    return RegistryClient.forImage(
        ImageReference.parse(registryHost + "/x/y"),
        options,
        FetchOptions.defaults().withInsecure(true));
  }
}
