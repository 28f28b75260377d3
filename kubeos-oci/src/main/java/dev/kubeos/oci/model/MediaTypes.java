package dev.kubeos.oci.model;

import java.util.Set;

/** The OCI and Docker schema 2 media types the agent reads and writes. */
public final class MediaTypes {
  public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
  public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
  public static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
  public static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";
  public static final String OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
  public static final String OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
  public static final String DOCKER_MANIFEST =
      "application/vnd.docker.distribution.manifest.v2+json";
  public static final String DOCKER_LIST =
      "application/vnd.docker.distribution.manifest.list.v2+json";
  public static final String DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
  public static final String DOCKER_LAYER_GZIP =
      "application/vnd.docker.image.rootfs.diff.tar.gzip";
  public static final String DOCKER_FOREIGN_LAYER_GZIP =
      "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

  /** {@code artifactType} of a KubeOS OS artifact (raw root file-system image + chunk index). */
  public static final String KUBEOS_OS_ARTIFACT = "application/vnd.kubeos.os.v1";

  /** Config media type of a KubeOS OS artifact; how the agent recognises one. */
  public static final String KUBEOS_OS_CONFIG = "application/vnd.kubeos.os.config.v1+json";

  /** Layer: the uncompressed raw root file-system image ({@code rootfs-V.img}). */
  public static final String KUBEOS_ROOTFS_RAW = "application/vnd.kubeos.rootfs.raw.v1";

  /** Layer: the chunk index of the raw image ({@code rootfs-V.img.chunkidx}). */
  public static final String KUBEOS_ROOTFS_CHUNKIDX = "application/vnd.kubeos.rootfs.chunkidx.v1";

  /** The {@code Accept} header of a manifest GET: all four manifest kinds. */
  public static final String MANIFEST_ACCEPT =
      String.join(", ", OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST);

  /** Layer types whose content is a (gzip-compressed or plain) tar. */
  public static final Set<String> TAR_LAYERS =
      Set.of(OCI_LAYER, OCI_LAYER_GZIP, DOCKER_LAYER_GZIP, DOCKER_FOREIGN_LAYER_GZIP);

  public static boolean isIndex(String mediaType) {
    return OCI_INDEX.equals(mediaType) || DOCKER_LIST.equals(mediaType);
  }

  public static boolean isManifest(String mediaType) {
    return OCI_MANIFEST.equals(mediaType) || DOCKER_MANIFEST.equals(mediaType);
  }

  private MediaTypes() {}
}
