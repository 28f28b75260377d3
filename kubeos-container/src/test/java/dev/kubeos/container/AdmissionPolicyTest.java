package dev.kubeos.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.types.CelType;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MatchCondition;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.NamedRuleWithOperations;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.Validation;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.Variable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The proxies' ValidatingAdmissionPolicy ({@code deploy/proxy/admission-policy.yaml}, as {@code
 * kubectl apply -k deploy/} renders it) evaluated with a real CEL implementation, cel-java ({@code
 * dev.cel:cel}), against admission requests: a node's proxy may update its own Node, create its own
 * OSInstance idle and write that OSInstance's status, nothing of another node's, no spec, and
 * nothing at all without the node name its pod-bound token carries.
 *
 * <p>The expressions are read from the file, not copied, and run the way the API server runs a
 * policy: the request must match {@code matchConstraints} and every {@code matchCondition}; then
 * {@code variables} are evaluated in order, and every validation must be true; an error in an
 * expression counts as a denial ({@code failurePolicy: Fail}). fabric8's mock API server, which the
 * cluster tests run against, implements no admission at all: this test is the only check of the
 * policy's logic. It declares the request, object and oldObject as {@code dyn} where the API server
 * types them by their schemas; the policy only uses what both accept (field selection, {@code
 * has()}, {@code in}, {@code size()}, equality).
 */
class AdmissionPolicyTest {
  static final String PROXY = "system:serviceaccount:kubeos-proxy:kubeos-proxy";
  static final String NODE_CLAIM = "authentication.kubernetes.io/node-name";
  static final String NODE_LABEL = "upgrade.openeuler.org/osinstance-node";
  static final String CORDONED = "upgrade.openeuler.org/cordoned-by-proxy";

  static ValidatingAdmissionPolicy policy;
  static ValidatingAdmissionPolicyBinding binding;
  static final CelRuntime RUNTIME = CelRuntimeFactory.standardCelRuntimeBuilder().build();

  @BeforeAll
  static void read() throws IOException {
    List<HasMetadata> all =
        DeployManifestsTest.renderKustomization(
            Path.of(System.getProperty("kubeos.deploy", "../deploy")).toAbsolutePath().normalize());
    policy =
        all.stream()
            .filter(o -> o instanceof ValidatingAdmissionPolicy)
            .map(ValidatingAdmissionPolicy.class::cast)
            .findFirst()
            .orElseThrow(() -> new AssertionError("deploy/ has no ValidatingAdmissionPolicy"));
    binding =
        all.stream()
            .filter(o -> o instanceof ValidatingAdmissionPolicyBinding)
            .map(ValidatingAdmissionPolicyBinding.class::cast)
            .findFirst()
            .orElseThrow(() -> new AssertionError("deploy/ has no policy binding"));
  }

  // ---- the policy as shipped ----

  @Test
  void theBindingEnforcesThePolicyAndItFailsClosed() {
    assertThat(binding.getSpec().getPolicyName()).isEqualTo(policy.getMetadata().getName());
    assertThat(binding.getSpec().getValidationActions()).containsExactly("Deny");
    assertThat(binding.getSpec().getMatchResources())
        .as("no narrowing: every request the policy matches")
        .isNull();
    assertThat(policy.getSpec().getFailurePolicy()).isEqualTo("Fail");
  }

  // ---- Nodes ----

  @Test
  void aProxyMayUpdateItsOwnNode() {
    assertThat(admit(nodeUpdate("n1", proxy("n1")))).isEqualTo(Decision.ALLOWED);
  }

  @Test
  void aProxyMayNotUpdateAnotherNode() {
    Decision d = admit(nodeUpdate("n2", proxy("n1")));
    assertThat(d.allowed()).isFalse();
    assertThat(d.message()).contains("node n1 may update only its own Node, not n2");
  }

  @Test
  void withoutTheNodeClaimEverythingIsRefused() {
    for (Map<String, Object> user : List.of(user(PROXY, Map.of()), proxyWithClaims(List.of()))) {
      Decision d = admit(nodeUpdate("n1", user));
      assertThat(d.allowed()).as(user.toString()).isFalse();
      assertThat(d.message()).contains("carries no node name");
      assertThat(admit(statusUpdate("n1", user, idleSpec(), idleSpec())).allowed()).isFalse();
      assertThat(admit(create("n1", user, idleSpec())).allowed()).isFalse();
    }
    // two node names: which one? none
    assertThat(admit(nodeUpdate("n1", proxyWithClaims(List.of("n1", "n2")))).allowed()).isFalse();
  }

  @Test
  void onItsOwnNodeAProxyChangesOnlyWhatACordonChanges() {
    // the cordon NodeCordon makes: unschedulable and the ownership annotation, both ways
    Map<String, Object> before = node("n1", Map.of("team", "a"), Map.of("x", "1"), false);
    Map<String, Object> cordoned =
        node("n1", Map.of("team", "a"), Map.of("x", "1", CORDONED, "true"), true);
    assertThat(admit(nodeUpdate(proxy("n1"), before, cordoned))).isEqualTo(Decision.ALLOWED);
    assertThat(admit(nodeUpdate(proxy("n1"), cordoned, before))).isEqualTo(Decision.ALLOWED);
    // a label that steers workloads onto the node, a removed label, another annotation, a taint
    Map<String, Object> steered =
        node(
            "n1",
            Map.of("team", "a", "node-restriction.kubernetes.io/secrets", "yes"),
            Map.of("x", "1"),
            false);
    Decision d = admit(nodeUpdate(proxy("n1"), before, steered));
    assertThat(d.allowed()).isFalse();
    assertThat(d.message()).contains("only spec.unschedulable");
    assertThat(
            admit(nodeUpdate(proxy("n1"), before, node("n1", Map.of(), Map.of("x", "1"), false))))
        .satisfies(r -> assertThat(r.allowed()).isFalse());
    assertThat(
            admit(
                nodeUpdate(
                    proxy("n1"), before, node("n1", Map.of("team", "a"), Map.of("x", "2"), false))))
        .satisfies(r -> assertThat(r.allowed()).isFalse());
    assertThat(
            admit(
                nodeUpdate(proxy("n1"), before, node("n1", Map.of("team", "a"), Map.of(), false))))
        .satisfies(r -> assertThat(r.allowed()).isFalse());
    Map<String, Object> tainted = node("n1", Map.of("team", "a"), Map.of("x", "1"), false);
    @SuppressWarnings("unchecked")
    Map<String, Object> spec = (Map<String, Object>) tainted.get("spec");
    spec.put("taints", List.of(Map.of("key", "dedicated", "effect", "NoSchedule")));
    assertThat(admit(nodeUpdate(proxy("n1"), before, tainted)).allowed()).isFalse();
    // the rest a cordon leaves alone: pod CIDRs, provider ID, finalizers, owner references
    for (Map.Entry<String, Object> change :
        Map.<String, Object>of(
                "spec.podCIDR", "10.9.0.0/24",
                "spec.podCIDRs", List.of("10.0.0.0/24", "10.9.0.0/24"),
                "spec.providerID", "aws:///evil",
                "metadata.finalizers", List.of("example.com/keep"),
                "metadata.ownerReferences",
                    List.of(Map.of("apiVersion", "v1", "kind", "Pod", "name", "x", "uid", "u")))
            .entrySet()) {
      Map<String, Object> changed =
          node("n1", Map.of("team", "a"), Map.of("x", "1", CORDONED, "true"), true);
      String[] path = change.getKey().split("\\.");
      @SuppressWarnings("unchecked")
      Map<String, Object> part = (Map<String, Object>) changed.get(path[0]);
      part.put(path[1], change.getValue());
      Decision refused = admit(nodeUpdate(proxy("n1"), before, changed));
      assertThat(refused.allowed()).as(change.getKey()).isFalse();
      assertThat(refused.message()).as(change.getKey()).contains("only spec.unschedulable");
    }
  }

  @Test
  void aProxyCreatesAndDeletesNoNode() {
    assertThat(admit(request("CREATE", "", "nodes", "", "n1", proxy("n1"), node("n1"), null)))
        .satisfies(d -> assertThat(d.allowed()).isFalse());
    assertThat(admit(request("DELETE", "", "nodes", "", "n1", proxy("n1"), null, node("n1"))))
        .satisfies(d -> assertThat(d.message()).contains("deletes no Node"));
  }

  // ---- OSInstances ----

  @Test
  void aProxyMayRecordItsPhaseInItsOwnOsInstancesStatus() {
    Map<String, Object> spec = upgradeSpec();
    assertThat(admit(statusUpdate("n1", proxy("n1"), spec, spec))).isEqualTo(Decision.ALLOWED);
  }

  @Test
  void aProxyMayNotWriteAnotherNodesOsInstance() {
    Map<String, Object> spec = upgradeSpec();
    Decision d = admit(statusUpdate("n2", proxy("n1"), spec, spec));
    assertThat(d.allowed()).isFalse();
    assertThat(d.message()).contains("only the OSInstance named n1, not n2");
  }

  @Test
  void aProxyChangesNoSpecNeitherThroughStatusNorDirectly() {
    // the hand-back upstream's proxy makes: nodestatus back to idle
    Decision handBack = admit(statusUpdate("n1", proxy("n1"), upgradeSpec(), idleSpec()));
    assertThat(handBack.allowed()).isFalse();
    assertThat(handBack.message()).contains("writes no OSInstance spec");
    Map<String, Object> evil = upgradeSpec();
    evil.put("sysconfigs", settings("kernel.core_pattern"));
    assertThat(admit(update("n1", "", proxy("n1"), upgradeSpec(), evil)).allowed()).isFalse();
    assertThat(admit(update("n1", "", proxy("n1"), upgradeSpec(), Map.of())).allowed()).isFalse();
  }

  @Test
  void aProxyMayRegisterItsOwnNodeIdle() {
    assertThat(admit(create("n1", proxy("n1"), idleSpec()))).isEqualTo(Decision.ALLOWED);
    Map<String, Object> emptySettings = idleSpec();
    emptySettings.put("sysconfigs", new HashMap<>(Map.of("configs", List.of())));
    assertThat(admit(create("n1", proxy("n1"), emptySettings))).isEqualTo(Decision.ALLOWED);
  }

  @Test
  void aProxyMayNotRegisterAnotherNode() {
    Decision d = admit(create("n2", proxy("n1"), idleSpec()));
    assertThat(d.allowed()).isFalse();
    assertThat(d.message()).contains("only the OSInstance named n1, not n2");
  }

  @Test
  void aProxyRegistersWithoutWorkOrSettings() {
    assertThat(admit(create("n1", proxy("n1"), upgradeSpec())).allowed()).isFalse();
    Map<String, Object> preloaded = idleSpec();
    preloaded.put("sysconfigs", settings("kernel.core_pattern"));
    Decision d = admit(create("n1", proxy("n1"), preloaded));
    assertThat(d.allowed()).isFalse();
    assertThat(d.message()).contains("registers its node idle");
    Map<String, Object> upgradeSettings = idleSpec();
    upgradeSettings.put("upgradeconfigs", settings("kernel.modprobe"));
    assertThat(admit(create("n1", proxy("n1"), upgradeSettings)).allowed()).isFalse();
    assertThat(admit(create("n1", proxy("n1"), Map.of())).allowed()).as("no spec").isFalse();
  }

  @Test
  void theNodeLabelOfAnOsInstanceNamesTheProxysOwnNode() {
    Map<String, Object> req = create("n1", proxy("n1"), idleSpec());
    object(req).put("metadata", Map.of("name", "n1", "labels", Map.of(NODE_LABEL, "n2")));
    assertThat(admit(req).allowed()).isFalse();
    Map<String, Object> st = statusUpdate("n1", proxy("n1"), upgradeSpec(), upgradeSpec());
    object(st).put("metadata", Map.of("name", "n1", "labels", Map.of(NODE_LABEL, "n2")));
    assertThat(admit(st).allowed()).isFalse();
    object(st).put("metadata", Map.of("name", "n1", "labels", Map.of(NODE_LABEL, "n1")));
    assertThat(admit(st)).isEqualTo(Decision.ALLOWED);
  }

  @Test
  void aProxyDeletesNoOsInstance() {
    Map<String, Object> old = osInstance("n1", idleSpec());
    Decision d =
        admit(
            request(
                "DELETE",
                "upgrade.openeuler.org",
                "osinstances",
                "",
                "n1",
                proxy("n1"),
                null,
                old));
    assertThat(d.allowed()).isFalse();
  }

  // ---- whom it concerns ----

  @Test
  void otherUsersAndOtherResourcesAreNotItsConcern() {
    Map<String, Object> operator =
        user("system:serviceaccount:kubeos-system:kubeos-operator", Map.of());
    // the operator hands the node back: a spec write, without any node claim
    assertThat(admit(update("n1", "", operator, upgradeSpec(), idleSpec())))
        .isEqualTo(Decision.NOT_MATCHED);
    assertThat(admit(nodeUpdate("n2", user("kubernetes-admin", Map.of()))))
        .isEqualTo(Decision.NOT_MATCHED);
    // the proxy creates Events; they are not this policy's (RBAC limits them)
    Map<String, Object> event =
        request("CREATE", "", "events", "", "x", proxy("n1"), Map.of("metadata", Map.of()), null);
    assertThat(admit(event)).isEqualTo(Decision.NOT_MATCHED);
  }

  @Test
  void everyMessageExpressionEvaluatesToAString() throws CelEvaluationException {
    // a denial's message as written, for each validation that has one, on a Node and an OSInstance
    int checked = 0;
    for (Map<String, Object> req :
        List.of(nodeUpdate("n2", proxy("n1")), create("n2", proxy("n1"), idleSpec()))) {
      Map<String, Object> vars = variables(req);
      for (Validation v : policy.getSpec().getValidations()) {
        if (v.getMessageExpression() != null) {
          assertThat(eval(v.getMessageExpression(), req, vars, SimpleType.STRING))
              .asString()
              .contains("n1", "n2");
          checked++;
        }
      }
    }
    assertThat(checked).isPositive();
  }

  // ---- the evaluator: the API server's steps for one policy ----

  /** The outcome of the policy for one request. */
  record Decision(boolean allowed, String message) {
    static final Decision ALLOWED = new Decision(true, "allowed");
    static final Decision NOT_MATCHED = new Decision(true, "not matched");
  }

  static Decision admit(Map<String, Object> request) {
    if (!matches(request)) {
      return Decision.NOT_MATCHED;
    }
    for (MatchCondition c : policy.getSpec().getMatchConditions()) {
      try {
        if (!Boolean.TRUE.equals(eval(c.getExpression(), request, Map.of(), SimpleType.BOOL))) {
          return Decision.NOT_MATCHED;
        }
      } catch (CelEvaluationException e) {
        return new Decision(false, "matchCondition " + c.getName() + " failed: " + e.getMessage());
      }
    }
    Map<String, Object> vars;
    try {
      vars = variables(request);
    } catch (IllegalStateException e) {
      return new Decision(false, e.getMessage());
    }
    for (Validation v : policy.getSpec().getValidations()) {
      Object ok;
      try {
        ok = eval(v.getExpression(), request, vars, SimpleType.BOOL);
      } catch (CelEvaluationException e) {
        return new Decision(false, "failurePolicy Fail: " + v.getExpression() + ": " + e);
      }
      if (!Boolean.TRUE.equals(ok)) {
        return new Decision(false, message(v, request, vars));
      }
    }
    return Decision.ALLOWED;
  }

  /** Whether the request's resource, subresource and operation are in matchConstraints. */
  static boolean matches(Map<String, Object> request) {
    @SuppressWarnings("unchecked")
    Map<String, Object> res = (Map<String, Object>) request.get("resource");
    String sub = (String) request.get("subResource");
    String resource = res.get("resource") + (sub.isEmpty() ? "" : "/" + sub);
    for (NamedRuleWithOperations r : policy.getSpec().getMatchConstraints().getResourceRules()) {
      if (r.getApiGroups().contains(res.get("group"))
          && r.getResources().contains(resource)
          && r.getOperations().contains(request.get("operation"))) {
        return true;
      }
    }
    return false;
  }

  static Map<String, Object> variables(Map<String, Object> request) {
    Map<String, Object> vars = new LinkedHashMap<>();
    for (Variable v : policy.getSpec().getVariables()) {
      try {
        vars.put(v.getName(), eval(v.getExpression(), request, vars, SimpleType.DYN));
      } catch (CelEvaluationException e) {
        throw new IllegalStateException("variable " + v.getName() + ": " + e.getMessage(), e);
      }
    }
    return vars;
  }

  static String message(Validation v, Map<String, Object> request, Map<String, Object> vars) {
    if (v.getMessageExpression() != null) {
      try {
        return (String) eval(v.getMessageExpression(), request, vars, SimpleType.STRING);
      } catch (CelEvaluationException e) {
        // the API server falls back to the static message
      }
    }
    return v.getMessage() == null ? "failed expression: " + v.getExpression() : v.getMessage();
  }

  static Object eval(
      String expression, Map<String, Object> request, Map<String, Object> vars, CelType result)
      throws CelEvaluationException {
    CelCompiler compiler =
        CelCompilerFactory.standardCelCompilerBuilder()
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
            .addVar("request", SimpleType.DYN)
            .addVar("object", SimpleType.DYN)
            .addVar("oldObject", SimpleType.DYN)
            .addVar("variables", SimpleType.DYN)
            .setResultType(result)
            .build();
    CelAbstractSyntaxTree ast;
    try {
      ast = compiler.compile(expression).getAst();
    } catch (dev.cel.common.CelValidationException e) {
      throw new AssertionError("the policy's CEL does not compile: " + expression, e);
    }
    Map<String, Object> in = new HashMap<>();
    in.put("request", request);
    in.put("object", request.get("object"));
    in.put("oldObject", request.get("oldObject"));
    in.put("variables", vars);
    return RUNTIME.createProgram(ast).eval(in);
  }

  // ---- admission requests ----

  static Map<String, Object> user(String name, Map<String, List<String>> extra) {
    Map<String, Object> u = new HashMap<>();
    u.put("username", name);
    u.put("groups", List.of("system:serviceaccounts", "system:authenticated"));
    u.put("extra", extra);
    return u;
  }

  /** The proxy on {@code node}, as its pod-bound token authenticates it. */
  static Map<String, Object> proxy(String node) {
    return proxyWithClaims(List.of(node));
  }

  static Map<String, Object> proxyWithClaims(List<String> nodes) {
    Map<String, List<String>> extra = new HashMap<>();
    extra.put("authentication.kubernetes.io/pod-name", List.of("kubeos-proxy-abcde"));
    extra.put(NODE_CLAIM, nodes);
    return user(PROXY, extra);
  }

  static Map<String, Object> request(
      String operation,
      String group,
      String resource,
      String subResource,
      String name,
      Map<String, Object> user,
      Map<String, Object> object,
      Map<String, Object> oldObject) {
    Map<String, Object> r = new HashMap<>();
    r.put("operation", operation);
    r.put("name", name);
    r.put("namespace", resource.equals("nodes") ? "" : "default");
    r.put("resource", Map.of("group", group, "version", "v1", "resource", resource));
    r.put("subResource", subResource);
    r.put("userInfo", user);
    r.put("object", object);
    r.put("oldObject", oldObject);
    return r;
  }

  static Map<String, Object> node(String name) {
    return node(name, Map.of("kubernetes.io/hostname", name), Map.of(), true);
  }

  /** A Node as the API server holds it: absent labels, annotations or taints are absent keys. */
  static Map<String, Object> node(
      String name, Map<String, String> labels, Map<String, String> annotations, boolean cordoned) {
    Map<String, Object> meta = new HashMap<>(Map.of("name", name));
    if (!labels.isEmpty()) {
      meta.put("labels", labels);
    }
    if (!annotations.isEmpty()) {
      meta.put("annotations", annotations);
    }
    Map<String, Object> spec = new HashMap<>(Map.of("podCIDR", "10.0.0.0/24"));
    if (cordoned) {
      spec.put("unschedulable", true);
    }
    return new HashMap<>(Map.of("metadata", meta, "spec", spec));
  }

  static Map<String, Object> nodeUpdate(String name, Map<String, Object> user) {
    return request("UPDATE", "", "nodes", "", name, user, node(name), node(name));
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> nodeUpdate(
      Map<String, Object> user, Map<String, Object> before, Map<String, Object> after) {
    String name = (String) ((Map<String, Object>) after.get("metadata")).get("name");
    return request("UPDATE", "", "nodes", "", name, user, after, before);
  }

  static Map<String, Object> osInstance(String name, Map<String, Object> spec) {
    Map<String, Object> o = new HashMap<>();
    o.put("metadata", new HashMap<>(Map.of("name", name, "labels", Map.of(NODE_LABEL, name))));
    if (!spec.isEmpty()) {
      o.put("spec", spec);
    }
    o.put("status", Map.of("phase", "Draining"));
    return o;
  }

  static Map<String, Object> create(
      String name, Map<String, Object> user, Map<String, Object> spec) {
    Map<String, Object> o = osInstance(name, spec);
    o.remove("status");
    return request("CREATE", "upgrade.openeuler.org", "osinstances", "", name, user, o, null);
  }

  static Map<String, Object> statusUpdate(
      String name,
      Map<String, Object> user,
      Map<String, Object> before,
      Map<String, Object> after) {
    return update(name, "status", user, before, after);
  }

  static Map<String, Object> update(
      String name,
      String subResource,
      Map<String, Object> user,
      Map<String, Object> before,
      Map<String, Object> after) {
    return request(
        "UPDATE",
        "upgrade.openeuler.org",
        "osinstances",
        subResource,
        name,
        user,
        osInstance(name, after),
        osInstance(name, before));
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> object(Map<String, Object> request) {
    return (Map<String, Object>) request.get("object");
  }

  /** {@code spec} as the proxy registers a node: nodestatus idle, nothing else. */
  static Map<String, Object> idleSpec() {
    return new HashMap<>(Map.of("nodestatus", "idle"));
  }

  /** {@code spec} as the operator assigns an upgrade. */
  static Map<String, Object> upgradeSpec() {
    Map<String, Object> s = new HashMap<>();
    s.put("nodestatus", "upgrade");
    s.put("namespacedname", Map.of("name", "os-v2", "namespace", "default"));
    s.put("sysconfigs", Map.of("version", "c1", "configs", new ArrayList<>()));
    return s;
  }

  static Map<String, Object> settings(String sysctl) {
    return Map.of(
        "version",
        "evil",
        "configs",
        List.of(
            Map.of(
                "model",
                "kernel.sysctl",
                "contents",
                List.of(Map.of("key", sysctl, "value", "|/tmp/x %p")))));
  }
}
