package dev.kubeos.container;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The manifests a user applies with {@code kubectl apply -k deploy/}, rendered the way kustomize
 * renders a plain list of resources (the listed files, in order), then checked: every object parses
 * with the fabric8 model, workloads run the image the build makes, every pod is admitted by its
 * namespace's Pod Security level ({@link PodSecurity}), and RBAC grants exactly the calls the code
 * makes.
 */
class DeployManifestsTest {
  private static final KubernetesSerialization YAML = new KubernetesSerialization();
  private static final Path DEPLOY =
      Path.of(System.getProperty("kubeos.deploy", "../deploy")).toAbsolutePath().normalize();

  /**
   * Every Kubernetes API call of {@code kubeos operator}, as RBAC sees it: {@code
   * scope|apiGroup|resource[/subresource][#resourceName]|verb}, scope "cluster" for a ClusterRole,
   * else the Role's namespace. Read from the code (kubeos-cluster):
   *
   * <ul>
   *   <li>ClusterCache: informers (list + watch) over OS (all namespaces), Nodes, Pods,
   *       OSInstances;
   *   <li>ClusterWriter: merge patch of OSInstance spec (assignment and hand-back), merge patch of
   *       OSInstance status through the status subresource (the drain answer, {@code
   *       status.drain}), merge and JSON patches of Nodes (label, annotations), JSON patch of OS
   *       status through the status subresource, create of core Events;
   *   <li>NodeDrains: create of pods/eviction, list of pods (field selector spec.nodeName) before
   *       it answers "drained";
   *   <li>Operator: fabric8's LeaderElector with a LeaseLock named kubeos-operator in the pod's
   *       namespace: get of that Lease, create of it when missing (create cannot be limited by
   *       name), and acquire/renew/release as a JSON merge patch (fabric8 8's ResourceLock.update
   *       sends PATCH, not PUT; ContainerImageIT checks the verbs the running operator uses).
   * </ul>
   */
  static final Set<String> OPERATOR_CALLS =
      Set.of(
          "cluster|upgrade.openeuler.org|os|list",
          "cluster|upgrade.openeuler.org|os|watch",
          "cluster|upgrade.openeuler.org|os/status|patch",
          "cluster|upgrade.openeuler.org|osinstances|list",
          "cluster|upgrade.openeuler.org|osinstances|watch",
          "cluster|upgrade.openeuler.org|osinstances|patch",
          "cluster|upgrade.openeuler.org|osinstances/status|patch",
          "cluster||nodes|list",
          "cluster||nodes|watch",
          "cluster||nodes|patch",
          "cluster||pods|list",
          "cluster||pods|watch",
          "cluster||pods/eviction|create",
          "cluster||events|create",
          "kubeos-system|coordination.k8s.io|leases|create",
          "kubeos-system|coordination.k8s.io|leases#kubeos-operator|get",
          "kubeos-system|coordination.k8s.io|leases#kubeos-operator|patch");

  /**
   * Every Kubernetes API call of {@code kubeos proxy} (kubeos-cluster, package proxy):
   *
   * <ul>
   *   <li>NodeCordon: get of its Node, update (PUT) to cordon/uncordon;
   *   <li>ChangeSignal: informers on its Node and its OSInstance by name (list + watch);
   *   <li>InstanceStatusWriter: create of its OSInstance when missing (node registration), get of
   *       it, update of the status subresource;
   *   <li>NodeEvents: create of core Events;
   *   <li>ProxyPass: get of the OS named in the OSInstance.
   * </ul>
   *
   * No pods, no evictions (the operator drains), no OSInstance spec writes (the operator hands the
   * node back).
   */
  static final Set<String> PROXY_CALLS =
      Set.of(
          "cluster||nodes|get",
          "cluster||nodes|list",
          "cluster||nodes|watch",
          "cluster||nodes|update",
          "cluster|upgrade.openeuler.org|osinstances|get",
          "cluster|upgrade.openeuler.org|osinstances|list",
          "cluster|upgrade.openeuler.org|osinstances|watch",
          "cluster|upgrade.openeuler.org|osinstances|create",
          "cluster|upgrade.openeuler.org|osinstances/status|update",
          "cluster||events|create",
          "cluster|upgrade.openeuler.org|os|get");

  static List<HasMetadata> objects;

  @BeforeAll
  static void render() throws IOException {
    objects = renderKustomization(DEPLOY);
  }

  /** The objects of a kustomization that lists files only, in the order kustomize emits them. */
  static List<HasMetadata> renderKustomization(Path dir) throws IOException {
    @SuppressWarnings("unchecked")
    Map<String, Object> k =
        YAML.unmarshal(Files.readString(dir.resolve("kustomization.yaml")), Map.class);
    assertThat(k.keySet())
        .as("a plain kustomization: old kustomize (v2.0.3) renders it, so does this test")
        .containsOnly("apiVersion", "kind", "resources");
    List<HasMetadata> out = new ArrayList<>();
    for (Object r : (List<?>) k.get("resources")) {
      Path file = dir.resolve(r.toString());
      assertThat(file).as("a listed resource is a file").isRegularFile();
      for (String doc : Files.readString(file).split("(?m)^---\\s*$")) {
        if (doc.lines().allMatch(l -> l.isBlank() || l.trim().startsWith("#"))) {
          continue;
        }
        out.add(YAML.unmarshal(doc, HasMetadata.class));
      }
    }
    return out;
  }

  @Test
  void everyObjectParsesWithTheModel() {
    assertThat(objects).hasSizeGreaterThanOrEqualTo(17);
    assertThat(objects)
        .as("no kind the fabric8 model does not know")
        .noneMatch(o -> o instanceof GenericKubernetesResource);
    assertThat(objects).filteredOn(o -> o instanceof CustomResourceDefinition).hasSize(2);
    assertThat(names(Namespace.class)).containsExactlyInAnyOrder("kubeos-system", "kubeos-proxy");
    assertThat(names(Deployment.class)).containsExactly("kubeos-operator");
    assertThat(names(DaemonSet.class)).containsExactly("kubeos-proxy");
    assertThat(names(NetworkPolicy.class)).containsExactly("kubeos-operator");
  }

  @Test
  void workloadsRunTheImageTheBuildMakes() {
    String image = System.getProperty("kubeos.image");
    assertThat(image).as("set by kubeos-container/pom.xml").isNotBlank();
    for (HasMetadata o : objects) {
      PodSpec pod = podSpec(o);
      if (pod != null) {
        assertThat(pod.getContainers())
            .allSatisfy(
                c -> assertThat(c.getImage()).as(o.getMetadata().getName()).isEqualTo(image));
      }
    }
  }

  @Test
  void everyPodIsAdmittedByItsNamespacesPodSecurityLevel() {
    int pods = 0;
    for (HasMetadata o : objects) {
      PodSpec pod = podSpec(o);
      if (pod == null) {
        continue;
      }
      pods++;
      PodSecurity level = level(o.getMetadata().getNamespace());
      assertThat(level.violations(pod))
          .as(o.getKind() + " " + o.getMetadata().getName() + " under " + level)
          .isEmpty();
    }
    assertThat(pods).isEqualTo(2);
    assertThat(level("kubeos-system")).isEqualTo(PodSecurity.RESTRICTED);
    assertThat(level("kubeos-proxy")).isEqualTo(PodSecurity.PRIVILEGED);
  }

  @Test
  void theProxyNeedsPrivilegedOnlyForItsHostPathVolume() {
    PodSpec proxy = podSpec(one(DaemonSet.class, "kubeos-proxy"));
    assertThat(PodSecurity.BASELINE.violations(proxy))
        .containsExactly("baseline: hostPath volume agent-socket");
    // the directory, not the socket file: it survives agent restarts (kubeos-agent.socket makes
    // it and systemd keeps it)
    assertThat(proxy.getVolumes())
        .filteredOn(v -> v.getHostPath() != null)
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.getHostPath().getPath()).isEqualTo("/run/os-agent");
              assertThat(v.getHostPath().getType()).isEqualTo("Directory");
            });
    assertThat(proxy.getContainers().get(0).getArgs())
        .containsSequence("--socket", "/run/os-agent/os-agent.sock");
  }

  /**
   * The proxy's memory bounds follow its JVM flags (docs/benchmarks.md, "Agent and proxy memory"):
   * the limit lies above the JVM's own limits (heap, metaspace, code cache, direct memory) plus the
   * rest measured idle (CDS archive, libjvm, symbols, malloc, stacks: under 48 MiB), so the JVM's
   * limits act before the kernel's; the request covers the measured idle RSS (80 MiB).
   */
  @Test
  void theProxysMemoryBoundsLieAboveItsJvmsOwnLimits() {
    var proxy = podSpec(one(DaemonSet.class, "kubeos-proxy")).getContainers().get(0);
    String opts =
        proxy.getEnv().stream()
            .filter(e -> e.getName().equals("JAVA_TOOL_OPTIONS"))
            .findFirst()
            .orElseThrow()
            .getValue();
    long jvm =
        mib(opts, "-Xmx")
            + mib(opts, "-XX:MaxMetaspaceSize=")
            + mib(opts, "-XX:ReservedCodeCacheSize=")
            + mib(opts, "-XX:MaxDirectMemorySize=");
    long limit = quantityMib(proxy.getResources().getLimits().get("memory"));
    long request = quantityMib(proxy.getResources().getRequests().get("memory"));
    assertThat(limit)
        .as("limit over the JVM's limits (%d MiB) + 48 MiB", jvm)
        .isGreaterThan(jvm + 48);
    assertThat(request).as("request over the measured idle RSS").isGreaterThanOrEqualTo(80);
    assertThat(request).isLessThan(limit);
  }

  private static long mib(String opts, String flag) {
    for (String o : opts.split(" ")) {
      if (o.startsWith(flag)) {
        String v = o.substring(flag.length()).toLowerCase(java.util.Locale.ROOT);
        assertThat(v).as(flag).endsWith("m");
        return Long.parseLong(v.substring(0, v.length() - 1));
      }
    }
    throw new AssertionError("no " + flag + " in JAVA_TOOL_OPTIONS: " + opts);
  }

  private static long quantityMib(io.fabric8.kubernetes.api.model.Quantity q) {
    assertThat(q.getFormat()).isEqualTo("Mi");
    return Long.parseLong(q.getAmount());
  }

  @Test
  void operatorRbacIsExactlyItsCalls() {
    assertThat(grants("kubeos-system", "kubeos-operator")).isEqualTo(new TreeSet<>(OPERATOR_CALLS));
  }

  @Test
  void proxyRbacIsExactlyItsCalls() {
    assertThat(grants("kubeos-proxy", "kubeos-proxy")).isEqualTo(new TreeSet<>(PROXY_CALLS));
  }

  /**
   * Who may edit OS resources and OSInstances, and who may create pods in the privileged proxy
   * namespace, is left to cluster admins: nothing shipped aggregates into the built-in {@code
   * admin}, {@code edit} or {@code view} roles (an aggregated rule would hand the CRDs to every
   * namespace editor), nothing is bound to anyone but the two service accounts, no Role or binding
   * lives in {@code kubeos-proxy}, and neither service account may create pods.
   */
  @Test
  void onlyClusterAdminsMayEditOsResourcesOrCreatePodsInTheProxyNamespace() {
    for (HasMetadata o : objects) {
      if (o instanceof ClusterRole r) {
        assertThat(r.getAggregationRule()).as(r.getMetadata().getName()).isNull();
      }
      if (o instanceof ClusterRole || o instanceof Role) {
        Map<String, String> labels = o.getMetadata().getLabels();
        assertThat(labels == null ? Map.<String, String>of() : labels)
            .as(o.getKind() + " " + o.getMetadata().getName() + ": no aggregate-to-* label")
            .allSatisfy(
                (k, v) -> assertThat(k).doesNotStartWith("rbac.authorization.k8s.io/aggregate-to"));
      }
      List<Subject> subjects =
          o instanceof ClusterRoleBinding b
              ? b.getSubjects()
              : o instanceof RoleBinding b ? b.getSubjects() : List.of();
      assertThat(subjects)
          .as(o.getKind() + " " + o.getMetadata().getName() + " binds only our service accounts")
          .allSatisfy(
              sub -> {
                assertThat(sub.getKind()).isEqualTo("ServiceAccount");
                assertThat(sub.getNamespace() + "/" + sub.getName())
                    .isIn("kubeos-system/kubeos-operator", "kubeos-proxy/kubeos-proxy");
              });
      if (o instanceof Role || o instanceof RoleBinding) {
        assertThat(o.getMetadata().getNamespace())
            .as("no Role or RoleBinding in the privileged namespace")
            .isNotEqualTo("kubeos-proxy");
      }
    }
    for (Set<String> calls : List.of(OPERATOR_CALLS, PROXY_CALLS)) {
      assertThat(calls).noneMatch(c -> c.matches("[^|]*\\|\\|pods\\|(create|update|patch)"));
    }
  }

  @Test
  void metricsServiceSelectsTheOperatorsMetricsPort() {
    Service svc = one(Service.class, "kubeos-operator-metrics");
    Deployment d = one(Deployment.class, "kubeos-operator");
    assertThat(d.getSpec().getTemplate().getMetadata().getLabels())
        .containsAllEntriesOf(svc.getSpec().getSelector());
    assertThat(svc.getSpec().getPorts())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.getTargetPort().getStrVal()).isEqualTo("metrics");
              assertThat(d.getSpec().getTemplate().getSpec().getContainers().get(0).getPorts())
                  .anySatisfy(cp -> assertThat(cp.getName()).isEqualTo("metrics"));
            });
  }

  @Test
  void monitoringAddsAServiceMonitorForTheMetricsService() throws IOException {
    List<HasMetadata> monitoring = renderKustomization(DEPLOY.resolve("monitoring"));
    Service svc = one(Service.class, "kubeos-operator-metrics");
    assertThat(monitoring)
        .singleElement()
        .satisfies(
            o -> {
              assertThat(o.getKind()).isEqualTo("ServiceMonitor");
              assertThat(o.getMetadata().getNamespace()).isEqualTo("kubeos-system");
              Map<String, Object> spec = ((GenericKubernetesResource) o).get("spec");
              assertThat(spec.toString()).contains("port=metrics");
              @SuppressWarnings("unchecked")
              Map<String, String> match =
                  (Map<String, String>)
                      ((Map<String, Object>) spec.get("selector")).get("matchLabels");
              assertThat(svc.getMetadata().getLabels()).containsAllEntriesOf(match);
            });
  }

  /** What the RBAC objects grant the service account {@code ns/name}, in the calls' notation. */
  private static Set<String> grants(String ns, String name) {
    Set<String> out = new TreeSet<>();
    for (HasMetadata o : objects) {
      if (o instanceof ClusterRoleBinding b && boundTo(b.getSubjects(), ns, name)) {
        expand(out, "cluster", clusterRole(b.getRoleRef().getName()).getRules());
      } else if (o instanceof RoleBinding b && boundTo(b.getSubjects(), ns, name)) {
        String bns = b.getMetadata().getNamespace();
        List<PolicyRule> rules =
            "ClusterRole".equals(b.getRoleRef().getKind())
                ? clusterRole(b.getRoleRef().getName()).getRules()
                : role(bns, b.getRoleRef().getName()).getRules();
        expand(out, bns, rules);
      }
    }
    return out;
  }

  private static void expand(Set<String> out, String scope, List<PolicyRule> rules) {
    for (PolicyRule r : rules) {
      assertThat(r.getVerbs()).as("no wildcard verbs").doesNotContain("*");
      assertThat(r.getResources()).as("no wildcard resources").doesNotContain("*");
      List<String> names =
          r.getResourceNames() == null || r.getResourceNames().isEmpty()
              ? List.of("")
              : r.getResourceNames();
      for (String g : r.getApiGroups()) {
        for (String res : r.getResources()) {
          for (String n : names) {
            for (String v : r.getVerbs()) {
              out.add(scope + "|" + g + "|" + res + (n.isEmpty() ? "" : "#" + n) + "|" + v);
            }
          }
        }
      }
    }
  }

  private static boolean boundTo(List<Subject> subjects, String ns, String name) {
    return subjects.stream()
        .anyMatch(
            s ->
                "ServiceAccount".equals(s.getKind())
                    && ns.equals(s.getNamespace())
                    && name.equals(s.getName()));
  }

  private static ClusterRole clusterRole(String name) {
    return one(ClusterRole.class, name);
  }

  private static Role role(String ns, String name) {
    return objects.stream()
        .filter(
            o ->
                o instanceof Role
                    && name.equals(o.getMetadata().getName())
                    && ns.equals(o.getMetadata().getNamespace()))
        .map(Role.class::cast)
        .findFirst()
        .orElseThrow(() -> new AssertionError("no Role " + ns + "/" + name));
  }

  private static PodSecurity level(String namespace) {
    Namespace ns = one(Namespace.class, namespace);
    return PodSecurity.of(ns.getMetadata().getLabels().get("pod-security.kubernetes.io/enforce"));
  }

  private static PodSpec podSpec(HasMetadata o) {
    if (o instanceof Deployment d) {
      return d.getSpec().getTemplate().getSpec();
    }
    if (o instanceof DaemonSet d) {
      return d.getSpec().getTemplate().getSpec();
    }
    return null;
  }

  private static <T extends HasMetadata> T one(Class<T> type, String name) {
    return objects.stream()
        .filter(o -> type.isInstance(o) && name.equals(o.getMetadata().getName()))
        .map(type::cast)
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + name));
  }

  private static List<String> names(Class<? extends HasMetadata> type) {
    return objects.stream().filter(type::isInstance).map(o -> o.getMetadata().getName()).toList();
  }
}
