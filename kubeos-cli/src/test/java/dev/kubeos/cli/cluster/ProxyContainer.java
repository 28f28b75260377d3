package dev.kubeos.cli.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * ClusterE2E's proxy as the DaemonSet runs it: the operator/proxy image that {@code ./mvnw package}
 * builds (kubeos-container/target/kubeos-image.tar), imported into the guest's containerd and run
 * by it (runc under containerd's shim) with the settings of deploy/proxy/daemonset.yaml's pod
 * template, translated here into {@code ctr run}'s flags, as the kubelet would translate them into
 * the CRI's. Test code, not the product: no kubelet can run in the guests.
 *
 * <p>What the guest cannot do as a pod does, and what stands in for it:
 *
 * <ul>
 *   <li>the pod's network is the CNI's, and there is none: the container shares the node's network
 *       ({@code --net-host}) to reach the API server at 10.0.2.100;
 *   <li>the service account's token: a kubeconfig from the job disk, bind-mounted read-only, named
 *       by {@code KUBECONFIG};
 *   <li>ctr 1.6 (Debian 12's containerd) has no {@code --user}, and applies the image config's user
 *       (65532) when it runs an image. So the unit mounts the image's snapshot itself ({@code ctr
 *       images mount --rw}) and runs it with {@code --rootfs}: the image config is applied here
 *       (entrypoint, environment, working directory) and the process runs as root, which is what
 *       the DaemonSet's {@code runAsUser: 0} asks.
 * </ul>
 *
 * Anything in the pod template that this translation does not know fails the test by name, so the
 * e2e never runs a proxy that differs from the DaemonSet without saying so.
 */
final class ProxyContainer {
  /** The container's name in containerd (namespace {@code k8s.io}, the kubelet's). */
  static final String NAME = "kubeos-proxy";

  /** Where the unit mounts the image's snapshot in the guest. */
  static final String ROOTFS = "/run/kubeos-e2e-proxy/rootfs";

  /** The kubeconfig on the job disk (mounted at /run/kubeos-e2e), as the container sees it too. */
  static final String KUBECONFIG = "/run/kubeos-e2e/kubeconfig";

  /** The line the unit prints once the container's process runs (see {@link ClusterImages}). */
  static final String LINE = "KUBEOS-E2E-PROXY-CONTAINER ";

  /**
   * containerd 1.6's default capability set ({@code ctr oci spec}): what {@code drop: ALL} drops.
   */
  static final List<String> DEFAULT_CAPS =
      List.of(
          "CHOWN",
          "DAC_OVERRIDE",
          "FSETID",
          "FOWNER",
          "MKNOD",
          "NET_RAW",
          "SETGID",
          "SETUID",
          "SETFCAP",
          "SETPCAP",
          "NET_BIND_SERVICE",
          "SYS_CHROOT",
          "KILL",
          "AUDIT_WRITE");

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The image tarball (Jib's OCI layout): its name, manifest digest and image config. */
  record Image(Path tar, String ref, String digest, JsonNode config, List<String> layers) {
    /** Reads {@code tar}'s index, manifest and config. */
    static Image read(Path tar) throws IOException {
      Map<String, byte[]> small = new HashMap<>();
      try (TarArchiveInputStream in = new TarArchiveInputStream(Files.newInputStream(tar))) {
        for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
          if (e.isFile() && e.getSize() < 1 << 20) {
            small.put(e.getName(), in.readAllBytes());
          }
        }
      }
      JsonNode ref = JSON.readTree(need(small, "index.json", tar)).path("manifests").path(0);
      String digest = ref.path("digest").asText();
      JsonNode manifest = JSON.readTree(need(small, blob(digest), tar));
      JsonNode config =
          JSON.readTree(need(small, blob(manifest.path("config").path("digest").asText()), tar));
      List<String> layers = new ArrayList<>();
      for (JsonNode l : manifest.path("layers")) {
        layers.add(blob(l.path("digest").asText()));
      }
      return new Image(
          tar,
          ref.path("annotations").path("org.opencontainers.image.ref.name").asText(),
          digest,
          config.path("config"),
          layers);
    }

    /**
     * Fails unless the image's {@code app/libs/kubeos-cli-*.jar} has the same classes and resources
     * as {@code cliJar} (by name and CRC: jars are not byte-reproducible here): an image built
     * before the code under test changed would test the old proxy.
     */
    void requireBuiltFrom(Path cliJar) throws IOException {
      Map<String, Long> want = crcs(Files.newInputStream(cliJar));
      byte[] inImage = null;
      try (TarArchiveInputStream in = new TarArchiveInputStream(Files.newInputStream(tar))) {
        for (TarArchiveEntry e; inImage == null && (e = in.getNextEntry()) != null; ) {
          if (layers.contains(e.getName())) {
            inImage = jarInLayer(new GZIPInputStream(in, 1 << 16), cliJar);
          }
        }
      }
      if (inImage == null) {
        throw new AssertionError(
            tar + " holds no app/libs/" + cliJar.getFileName() + ": not the kubeos image?");
      }
      if (!crcs(new ByteArrayInputStream(inImage)).equals(want)) {
        throw new AssertionError(
            tar
                + " was built from other code than "
                + cliJar
                + ": rebuild it (./mvnw -B package -DskipTests -pl kubeos-container -am)");
      }
    }

    private static byte[] jarInLayer(InputStream layer, Path cliJar) throws IOException {
      TarArchiveInputStream in = new TarArchiveInputStream(layer);
      String want = "app/libs/" + cliJar.getFileName();
      for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
        String name = e.getName().startsWith("/") ? e.getName().substring(1) : e.getName();
        if (name.equals(want)) {
          return in.readAllBytes();
        }
      }
      return null;
    }

    private static Map<String, Long> crcs(InputStream jar) throws IOException {
      Map<String, Long> out = new TreeMap<>();
      try (ZipInputStream z = new ZipInputStream(jar)) {
        for (ZipEntry e; (e = z.getNextEntry()) != null; ) {
          if (!e.isDirectory() && !e.getName().startsWith("META-INF/")) {
            z.transferTo(java.io.OutputStream.nullOutputStream());
            out.put(e.getName(), e.getCrc());
          }
        }
      }
      return out;
    }

    private static String blob(String digest) {
      return "blobs/" + digest.replace(':', '/');
    }

    private static byte[] need(Map<String, byte[]> small, String name, Path tar) {
      byte[] b = small.get(name);
      if (b == null) {
        throw new AssertionError(tar + ": no " + name + " (not an OCI image layout tarball?)");
      }
      return b;
    }
  }

  private ProxyContainer() {}

  /** deploy/proxy/daemonset.yaml. */
  static DaemonSet daemonSet(Path deploy) throws IOException {
    return new KubernetesSerialization()
        .unmarshal(Files.readString(deploy.resolve("proxy/daemonset.yaml")), DaemonSet.class);
  }

  /**
   * {@code ctr run}'s arguments after {@code run --rm} for {@code node}: flags, then the rootfs
   * ({@link #ROOTFS}), the container's name and its command line, one argument per element.
   */
  static List<String> ctrRun(DaemonSet ds, Image image, String node) {
    PodSpec pod = ds.getSpec().getTemplate().getSpec();
    refuse(pod.getHostNetwork(), "hostNetwork");
    refuse(pod.getHostPID(), "hostPID");
    refuse(pod.getHostIPC(), "hostIPC");
    if (pod.getContainers().size() != 1
        || pod.getInitContainers() != null && !pod.getInitContainers().isEmpty()) {
      throw new IllegalStateException("the proxy pod template must have exactly one container");
    }
    Container c = pod.getContainers().get(0);
    if (!image.ref().equals(c.getImage())) {
      throw new IllegalStateException(
          "the DaemonSet runs " + c.getImage() + ", the image tarball is " + image.ref());
    }
    List<String> a = new ArrayList<>(List.of("--rootfs", "--net-host"));
    SecurityContext sc = c.getSecurityContext();
    refuse(sc.getPrivileged(), "privileged");
    if (sc.getRunAsUser() == null
        || sc.getRunAsUser() != 0
        || !Long.valueOf(0).equals(sc.getRunAsGroup())) {
      throw new IllegalStateException(
          "ctr 1.6 runs a --rootfs container as root only; the DaemonSet asks for user "
              + sc.getRunAsUser()
              + ":"
              + sc.getRunAsGroup());
    }
    if (Boolean.TRUE.equals(sc.getReadOnlyRootFilesystem())) {
      a.add("--read-only");
    }
    if (Boolean.TRUE.equals(sc.getAllowPrivilegeEscalation())) {
      a.add("--allow-new-privs");
    }
    String seccomp = sc.getSeccompProfile() == null ? null : sc.getSeccompProfile().getType();
    if ("RuntimeDefault".equals(seccomp)) {
      a.add("--seccomp");
    } else if (seccomp != null && !"Unconfined".equals(seccomp)) {
      throw new IllegalStateException("seccompProfile " + seccomp + " is not translated");
    }
    List<String> drop = sc.getCapabilities() == null ? List.of() : sc.getCapabilities().getDrop();
    List<String> add = sc.getCapabilities() == null ? List.of() : sc.getCapabilities().getAdd();
    if (add != null && !add.isEmpty()) {
      throw new IllegalStateException("capabilities.add " + add + " is not translated");
    }
    for (String cap : drop == null ? List.<String>of() : drop) {
      for (String d : "ALL".equals(cap) ? DEFAULT_CAPS : List.of(cap)) {
        a.add("--cap-drop");
        a.add("CAP_" + d);
      }
    }
    Quantity memory = c.getResources().getLimits().get("memory");
    if (memory != null) {
      a.add("--memory-limit");
      a.add(Quantity.getAmountInBytes(memory).toBigInteger().toString());
    }
    JsonNode cfg = image.config();
    a.add("--cwd");
    a.add(c.getWorkingDir() != null ? c.getWorkingDir() : cfg.path("WorkingDir").asText("/"));
    for (JsonNode e : cfg.path("Env")) {
      a.add("--env");
      a.add(e.asText());
    }
    for (EnvVar e : c.getEnv()) {
      String value;
      if (e.getValueFrom() == null) {
        value = e.getValue();
      } else if (e.getValueFrom().getFieldRef() != null
          && "spec.nodeName".equals(e.getValueFrom().getFieldRef().getFieldPath())) {
        value = node;
      } else {
        throw new IllegalStateException("env " + e.getName() + ": valueFrom is not translated");
      }
      a.add("--env");
      a.add(e.getName() + "=" + value);
    }
    a.add("--env");
    a.add("KUBECONFIG=" + KUBECONFIG);
    a.add("--mount");
    a.add("type=bind,src=" + KUBECONFIG + ",dst=" + KUBECONFIG + ",options=rbind:ro");
    for (VolumeMount m : c.getVolumeMounts()) {
      Volume v =
          pod.getVolumes().stream()
              .filter(x -> x.getName().equals(m.getName()))
              .findFirst()
              .orElseThrow(() -> new IllegalStateException("no volume " + m.getName()));
      String ro = Boolean.TRUE.equals(m.getReadOnly()) ? "ro" : "rw";
      a.add("--mount");
      if (v.getHostPath() != null) {
        a.add(
            "type=bind,src="
                + v.getHostPath().getPath()
                + ",dst="
                + m.getMountPath()
                + ",options=rbind:"
                + ro);
      } else if (v.getEmptyDir() != null && "Memory".equals(v.getEmptyDir().getMedium())) {
        Quantity size = v.getEmptyDir().getSizeLimit();
        a.add(
            "type=tmpfs,src=tmpfs,dst="
                + m.getMountPath()
                + ",options=nosuid:nodev:"
                + ro
                + (size == null ? "" : ":size=" + Quantity.getAmountInBytes(size).toBigInteger()));
      } else {
        throw new IllegalStateException("volume " + m.getName() + " is not translated");
      }
    }
    a.add(ROOTFS);
    a.add(NAME);
    List<String> command =
        c.getCommand() != null && !c.getCommand().isEmpty()
            ? c.getCommand()
            : JSON.convertValue(
                cfg.path("Entrypoint"),
                JSON.getTypeFactory().constructCollectionType(List.class, String.class));
    a.addAll(command);
    a.addAll(c.getArgs());
    return a;
  }

  private static void refuse(Boolean set, String what) {
    if (Boolean.TRUE.equals(set)) {
      throw new IllegalStateException("the proxy pod template sets " + what + ": not translated");
    }
  }
}
