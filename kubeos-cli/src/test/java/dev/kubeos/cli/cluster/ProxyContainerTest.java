package dev.kubeos.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** ClusterE2E's translation of deploy/proxy/daemonset.yaml into {@code ctr run}'s arguments. */
class ProxyContainerTest {
  private static final Path DEPLOY = Path.of("..", "deploy");

  /** An image config as Jib writes it for the kubeos image (kubeos-container/pom.xml). */
  private static ProxyContainer.Image image(String ref) {
    ObjectNode config = new ObjectMapper().createObjectNode();
    config.putArray("Entrypoint").add("/opt/java/bin/java").add("dev.kubeos.cli.Main");
    config.putArray("Env").add("JAVA_HOME=/opt/java").add("PATH=/opt/java/bin");
    config.put("WorkingDir", "/home/nonroot");
    config.put("User", "65532:65532");
    return new ProxyContainer.Image(
        Path.of("kubeos-image.tar"), ref, "sha256:00", config, List.of());
  }

  private static String ref(DaemonSet ds) {
    return ds.getSpec().getTemplate().getSpec().getContainers().get(0).getImage();
  }

  @Test
  void theDaemonSetsPodBecomesCtrFlagsForTheNode() throws Exception {
    DaemonSet ds = ProxyContainer.daemonSet(DEPLOY);
    List<String> a = ProxyContainer.ctrRun(ds, image(ref(ds)), "node-a");

    assertThat(a).startsWith("--rootfs", "--net-host").contains("--read-only", "--seccomp");
    assertThat(a).doesNotContain("--allow-new-privs");
    // drop: [ALL] drops every capability containerd grants by default
    assertThat(Collections.frequency(a, "--cap-drop"))
        .isEqualTo(ProxyContainer.DEFAULT_CAPS.size());
    assertThat(a).contains("CAP_NET_RAW", "CAP_DAC_OVERRIDE", "CAP_SYS_CHROOT");
    assertThat(a).containsSequence("--memory-limit", String.valueOf(224L << 20));
    assertThat(a).containsSequence("--cwd", "/home/nonroot");
    // the image's environment, the pod's (NODE_NAME from spec.nodeName), the kubeconfig
    assertThat(a)
        .containsSequence("--env", "PATH=/opt/java/bin")
        .containsSequence("--env", "NODE_NAME=node-a")
        .containsSequence("--env", "KUBECONFIG=" + ProxyContainer.KUBECONFIG)
        .anyMatch(s -> s.startsWith("JAVA_TOOL_OPTIONS=-XX:+UseSerialGC "));
    assertThat(a)
        .contains(
            "type=bind,src=/run/os-agent,dst=/run/os-agent,options=rbind:rw",
            "type=tmpfs,src=tmpfs,dst=/tmp,options=nosuid:nodev:rw:size=" + (16 << 20));
    // rootfs, name, then the image's entrypoint with the container's args
    assertThat(a)
        .endsWith(
            ProxyContainer.ROOTFS,
            ProxyContainer.NAME,
            "/opt/java/bin/java",
            "dev.kubeos.cli.Main",
            "proxy",
            "--socket",
            "/run/os-agent/os-agent.sock");
  }

  @Test
  void whatCannotBeTranslatedIsRefusedByName() throws Exception {
    DaemonSet ds = ProxyContainer.daemonSet(DEPLOY);
    assertThatThrownBy(() -> ProxyContainer.ctrRun(ds, image("other/image:1"), "node-a"))
        .hasMessageContaining("the image tarball is other/image:1");

    ds.getSpec()
        .getTemplate()
        .getSpec()
        .getContainers()
        .get(0)
        .getSecurityContext()
        .setRunAsUser(1000L);
    assertThatThrownBy(() -> ProxyContainer.ctrRun(ds, image(ref(ds)), "node-a"))
        .hasMessageContaining("as root only")
        .hasMessageContaining("1000");

    DaemonSet privileged = ProxyContainer.daemonSet(DEPLOY);
    privileged.getSpec().getTemplate().getSpec().setHostPID(true);
    assertThatThrownBy(() -> ProxyContainer.ctrRun(privileged, image(ref(privileged)), "node-a"))
        .hasMessageContaining("hostPID");
  }
}
