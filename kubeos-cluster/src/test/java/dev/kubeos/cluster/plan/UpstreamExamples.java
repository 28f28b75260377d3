package dev.kubeos.cluster.plan;

import dev.kubeos.crd.OS;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The fixtures of {@code src/test/resources/upstream-examples/}: upstream KubeOS's published
 * example OS resources with their placeholders filled in (each file names its upstream source).
 */
public final class UpstreamExamples {
  /** Every fixture file. */
  public static final List<String> FILES =
      List.of(
          "upgrade-docker.yaml",
          "upgrade-disk-mtls.yaml",
          "upgrade-containerd-with-configs.yaml",
          "config.yaml",
          "config-kubelet-containerd-pam.yaml",
          "rollback.yaml",
          "upgrade-serial-selector-window.yaml",
          "upgrade-parallel-dated-window.yaml",
          "sample-upgrade_v1alpha1_os.yaml",
          "upgrade-containerd-mtls-flag.yaml",
          "upgrade-with-configs-empty-key.yaml",
          "upgrade-containerd-selector-window.yaml",
          "config-settings-guide.yaml",
          "config-appendix-models.yaml",
          "rollback-config-version.yaml");

  private UpstreamExamples() {}

  /** The fixture as the Java type of the CR. */
  public static OS load(String file) {
    try (InputStream in =
        UpstreamExamples.class.getResourceAsStream("/upstream-examples/" + file)) {
      if (in == null) {
        throw new IllegalArgumentException("no fixture upstream-examples/" + file);
      }
      return new KubernetesSerialization().unmarshal(in, OS.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
