package dev.kubeos.container;

import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.SeccompProfile;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Volume;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The Kubernetes Pod Security Standards
 * (kubernetes.io/docs/concepts/security/pod-security-standards, policy version "latest" as of
 * v1.32) as code, for the fields our pod specs can set. A level returns the rules a pod breaks;
 * empty means admitted.
 *
 * <p>Baseline:
 *
 * <ol>
 *   <li>hostNetwork, hostPID, hostIPC unset or false;
 *   <li>no container privileged;
 *   <li>capabilities.add only from AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD,
 *       NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT;
 *   <li>no hostPath volumes;
 *   <li>no hostPort other than 0;
 *   <li>seccomp profile type not Unconfined (pod and containers);
 *   <li>procMount Default (or unset);
 *   <li>SELinux: type only container_t, container_init_t, container_kvm_t, container_engine_t, no
 *       user or role;
 *   <li>sysctls only the safe set (kernel.shm_rmid_forced, net.ipv4.ip_local_port_range,
 *       net.ipv4.ip_unprivileged_port_start, net.ipv4.tcp_syncookies, net.ipv4.ping_group_range,
 *       net.ipv4.ip_local_reserved_ports, net.ipv4.tcp_keepalive_time, net.ipv4.tcp_fin_timeout,
 *       net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes);
 *   <li>no Windows hostProcess.
 * </ol>
 *
 * <p>Restricted: everything in baseline, and
 *
 * <ol>
 *   <li>volumes only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim,
 *       projected, secret;
 *   <li>allowPrivilegeEscalation false in every container;
 *   <li>runAsNonRoot true (pod or every container) and no runAsUser 0;
 *   <li>seccomp profile RuntimeDefault or Localhost, set on the pod or on every container;
 *   <li>capabilities drop ALL, add nothing but NET_BIND_SERVICE.
 * </ol>
 *
 * <p>Privileged: no rules.
 */
enum PodSecurity {
  PRIVILEGED,
  BASELINE,
  RESTRICTED;

  private static final Set<String> BASELINE_CAPS =
      Set.of(
          "AUDIT_WRITE",
          "CHOWN",
          "DAC_OVERRIDE",
          "FOWNER",
          "FSETID",
          "KILL",
          "MKNOD",
          "NET_BIND_SERVICE",
          "SETFCAP",
          "SETGID",
          "SETPCAP",
          "SETUID",
          "SYS_CHROOT");
  private static final Set<String> SAFE_SYSCTLS =
      Set.of(
          "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
          "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
          "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
          "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
          "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes");
  private static final Set<String> SELINUX_TYPES =
      Set.of("container_t", "container_init_t", "container_kvm_t", "container_engine_t");

  /** The level a namespace enforces, from its {@code pod-security.kubernetes.io/enforce} label. */
  static PodSecurity of(String label) {
    return label == null ? PRIVILEGED : valueOf(label.toUpperCase(java.util.Locale.ROOT));
  }

  /** The rules {@code pod} breaks at this level (empty: admitted). */
  List<String> violations(PodSpec pod) {
    List<String> v = new ArrayList<>();
    if (this == PRIVILEGED) {
      return v;
    }
    PodSecurityContext psc = pod.getSecurityContext();
    List<Container> containers =
        Stream.concat(
                pod.getInitContainers() == null ? Stream.empty() : pod.getInitContainers().stream(),
                pod.getContainers().stream())
            .toList();
    // baseline
    if (isTrue(pod.getHostNetwork()) || isTrue(pod.getHostPID()) || isTrue(pod.getHostIPC())) {
      v.add("baseline: host namespaces");
    }
    for (Volume vol : list(pod.getVolumes())) {
      if (vol.getHostPath() != null) {
        v.add("baseline: hostPath volume " + vol.getName());
      }
    }
    if (psc != null) {
      if (unconfined(psc.getSeccompProfile())) {
        v.add("baseline: pod seccomp Unconfined");
      }
      if (psc.getSeLinuxOptions() != null && !selinuxOk(psc.getSeLinuxOptions())) {
        v.add("baseline: pod SELinux options");
      }
      list(psc.getSysctls()).stream()
          .filter(s -> !SAFE_SYSCTLS.contains(s.getName()))
          .forEach(s -> v.add("baseline: unsafe sysctl " + s.getName()));
      if (psc.getWindowsOptions() != null && isTrue(psc.getWindowsOptions().getHostProcess())) {
        v.add("baseline: hostProcess");
      }
    }
    for (Container c : containers) {
      SecurityContext sc = c.getSecurityContext();
      list(c.getPorts()).stream()
          .filter(p -> p.getHostPort() != null && p.getHostPort() != 0)
          .forEach(p -> v.add("baseline: hostPort in " + c.getName()));
      if (sc == null) {
        continue;
      }
      if (isTrue(sc.getPrivileged())) {
        v.add("baseline: privileged " + c.getName());
      }
      Capabilities caps = sc.getCapabilities();
      if (caps != null) {
        list(caps.getAdd()).stream()
            .filter(a -> !BASELINE_CAPS.contains(a))
            .forEach(a -> v.add("baseline: capability " + a + " in " + c.getName()));
      }
      if (unconfined(sc.getSeccompProfile())) {
        v.add("baseline: seccomp Unconfined in " + c.getName());
      }
      if (sc.getProcMount() != null && !"Default".equals(sc.getProcMount())) {
        v.add("baseline: procMount in " + c.getName());
      }
      if (sc.getSeLinuxOptions() != null && !selinuxOk(sc.getSeLinuxOptions())) {
        v.add("baseline: SELinux options in " + c.getName());
      }
      if (sc.getWindowsOptions() != null && isTrue(sc.getWindowsOptions().getHostProcess())) {
        v.add("baseline: hostProcess in " + c.getName());
      }
    }
    if (this == BASELINE) {
      return v;
    }
    // restricted
    for (Volume vol : list(pod.getVolumes())) {
      boolean allowed =
          vol.getConfigMap() != null
              || vol.getCsi() != null
              || vol.getDownwardAPI() != null
              || vol.getEmptyDir() != null
              || vol.getEphemeral() != null
              || vol.getPersistentVolumeClaim() != null
              || vol.getProjected() != null
              || vol.getSecret() != null;
      if (!allowed) {
        v.add("restricted: volume type of " + vol.getName());
      }
    }
    boolean podNonRoot = psc != null && isTrue(psc.getRunAsNonRoot());
    boolean podSeccomp = psc != null && confined(psc.getSeccompProfile());
    if (psc != null && psc.getRunAsUser() != null && psc.getRunAsUser() == 0) {
      v.add("restricted: pod runAsUser 0");
    }
    for (Container c : containers) {
      SecurityContext sc = c.getSecurityContext();
      if (sc == null || !Boolean.FALSE.equals(sc.getAllowPrivilegeEscalation())) {
        v.add("restricted: allowPrivilegeEscalation not false in " + c.getName());
      }
      Boolean nonRoot = sc == null ? null : sc.getRunAsNonRoot();
      if (Boolean.FALSE.equals(nonRoot) || (nonRoot == null && !podNonRoot)) {
        v.add("restricted: runAsNonRoot not true in " + c.getName());
      }
      if (sc != null && sc.getRunAsUser() != null && sc.getRunAsUser() == 0) {
        v.add("restricted: runAsUser 0 in " + c.getName());
      }
      SeccompProfile sp = sc == null ? null : sc.getSeccompProfile();
      if (sp == null ? !podSeccomp : !confined(sp)) {
        v.add("restricted: seccomp RuntimeDefault/Localhost not set for " + c.getName());
      }
      Capabilities caps = sc == null ? null : sc.getCapabilities();
      if (caps == null || !list(caps.getDrop()).contains("ALL")) {
        v.add("restricted: capabilities not dropping ALL in " + c.getName());
      }
      if (caps != null) {
        list(caps.getAdd()).stream()
            .filter(a -> !"NET_BIND_SERVICE".equals(a))
            .forEach(a -> v.add("restricted: capability " + a + " in " + c.getName()));
      }
    }
    return v;
  }

  private static boolean selinuxOk(io.fabric8.kubernetes.api.model.SELinuxOptions o) {
    return (o.getType() == null || o.getType().isEmpty() || SELINUX_TYPES.contains(o.getType()))
        && (o.getUser() == null || o.getUser().isEmpty())
        && (o.getRole() == null || o.getRole().isEmpty());
  }

  private static boolean unconfined(SeccompProfile p) {
    return p != null && "Unconfined".equals(p.getType());
  }

  private static boolean confined(SeccompProfile p) {
    return p != null && ("RuntimeDefault".equals(p.getType()) || "Localhost".equals(p.getType()));
  }

  private static boolean isTrue(Boolean b) {
    return Boolean.TRUE.equals(b);
  }

  private static <T> List<T> list(List<T> l) {
    return l == null ? List.of() : l;
  }
}
