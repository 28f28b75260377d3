package dev.kubeos.cli;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.core.domain.properties.HasName.Predicates.name;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The layering rule of CONVENTIONS.md and the module graph of docs/architecture.md, enforced by the
 * build. Model, API and planning code is pure: it reaches no file system, no process, no network
 * and no Kubernetes client; only ports do. It may use fabric8's model classes (the Kubernetes
 * object types, CustomResource as the base of our resources, the CRD annotations). Every "never"
 * edge of the module graph is a rule here, and every package is on one of the lists below, so a new
 * package has to be placed before the build passes.
 */
class LayeringTest {
  private static final JavaClasses CLASSES =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          // other modules' test jars on this test classpath (kubeos-cluster's, for ClusterE2E)
          .withImportOption(location -> !location.contains("-tests.jar"))
          .importPackages("dev.kubeos");

  /** Data and rules: no I/O, no Kubernetes client. */
  private static final String[] PURE = {
    "dev.kubeos.api..",
    "dev.kubeos.crd..",
    "..model..",
    "..plan..",
    "dev.kubeos.formats.boot..",
    "dev.kubeos.formats.chunk",
    "dev.kubeos.formats.digest..",
    "dev.kubeos.formats.settings..",
    "dev.kubeos.formats.trust..",
    "dev.kubeos.oci.source.."
  };

  /** The agent's ports: interfaces (and a forwarding base) that implementations plug into. */
  private static final String[] PORTS = {"dev.kubeos.agent.port.."};

  /** The agent's implementations of its ports and its life cycle. */
  private static final String[] AGENT_IMPLEMENTATION = {
    "dev.kubeos.agent",
    "dev.kubeos.agent.boot..",
    "dev.kubeos.agent.delta..",
    "dev.kubeos.agent.disk..",
    "dev.kubeos.agent.etc",
    "dev.kubeos.agent.health..",
    "dev.kubeos.agent.host..",
    "dev.kubeos.agent.oci..",
    "dev.kubeos.agent.payload..",
    "dev.kubeos.agent.settings",
    "dev.kubeos.agent.stage..",
    "dev.kubeos.agent.state..",
    "dev.kubeos.agent.trust.."
  };

  /** Implementations in the shared modules (kubeos-rpc, kubeos-oci, kubeos-formats). */
  private static final String[] SHARED_IMPLEMENTATION = {
    "dev.kubeos.rpc..",
    "dev.kubeos.oci",
    "dev.kubeos.oci.http..",
    "dev.kubeos.formats.chunk.io..",
    "dev.kubeos.formats.files..",
    "dev.kubeos.formats.signing.."
  };

  /** The users of the shared modules: control plane, image builder, command line. */
  private static final String[] APPLICATIONS = {
    "dev.kubeos.cluster.operator..",
    "dev.kubeos.cluster.proxy",
    "dev.kubeos.image",
    "dev.kubeos.image.build..",
    "dev.kubeos.image.config..",
    "dev.kubeos.image.publish..",
    "dev.kubeos.image.source..",
    "dev.kubeos.cli.."
  };

  /** kubeos-testfixtures: on test class paths only. */
  private static final String[] TEST_SUPPORT = {"dev.kubeos.testing.."};

  private static final String[] SHARED_MODULES = {
    "dev.kubeos.rpc..", "dev.kubeos.oci..", "dev.kubeos.formats.."
  };

  /** fabric8 packages that hold data types and annotations only. */
  private static final String[] FABRIC8_MODEL = {
    "io.fabric8.kubernetes.api.model..",
    "io.fabric8.kubernetes.model.annotation..",
    "io.fabric8.generator.annotation..",
    "io.fabric8.crd.generator.annotation.."
  };

  private static String[] concat(String[]... lists) {
    return Stream.of(lists).flatMap(Arrays::stream).toArray(String[]::new);
  }

  @Test
  void everyPackageIsOnTheLayeringList() {
    classes()
        .should()
        .resideInAnyPackage(
            concat(
                PURE,
                PORTS,
                AGENT_IMPLEMENTATION,
                SHARED_IMPLEMENTATION,
                APPLICATIONS,
                TEST_SUPPORT))
        .because("a new package must be placed on LayeringTest's lists to get its rules")
        .check(CLASSES);
  }

  @Test
  void modelAndApiCodeDoesNoIo() {
    ArchRule rule =
        noClasses()
            .that()
            .resideInAnyPackage(PURE)
            .should()
            .dependOnClassesThat(
                // Path and URI are values (naming a file is not touching it); every other class
                // of these packages reads, writes or connects
                resideInAnyPackage("java.nio.file..", "java.nio.channels..", "java.net..")
                    .and(not(name("java.nio.file.Path")))
                    .and(not(name("java.net.URI"))))
            .orShould()
            .dependOnClassesThat()
            .haveFullyQualifiedName("java.lang.ProcessBuilder")
            .orShould()
            .dependOnClassesThat()
            .haveFullyQualifiedName("java.lang.Runtime")
            .orShould()
            .dependOnClassesThat()
            .haveNameMatching(
                "java\\.io\\.(File|RandomAccessFile|FileInputStream|FileOutputStream|FileReader|FileWriter)")
            .because(
                "planning and model code must stay pure (CONVENTIONS.md 2): I/O goes through ports");
    rule.check(CLASSES);
  }

  @Test
  void pureCodeUsesFabric8ModelClassesButNeverTheClient() {
    noClasses()
        .that()
        .resideInAnyPackage(PURE)
        .should()
        .dependOnClassesThat(
            resideInAnyPackage("io.fabric8..", "io.javaoperatorsdk..", "io.vertx..", "okhttp3..")
                .and(not(resideInAnyPackage(FABRIC8_MODEL)))
                .and(not(name("io.fabric8.kubernetes.client.CustomResource"))))
        .because(
            "API types and the planner are data and rules; talking to the API server (client,"
                + " dsl, informers, http, serialization utils) belongs to the reconciler")
        .check(CLASSES);
  }

  @Test
  void theAgentNeverNeedsKubernetesLibraries() {
    noClasses()
        .that()
        .resideInAnyPackage("dev.kubeos.agent..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("io.fabric8..", "io.javaoperatorsdk..")
        .check(CLASSES);
  }

  @Test
  void theAgentNeverDependsOnItsCallers() {
    noClasses()
        .that()
        .resideInAnyPackage("dev.kubeos.agent..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.kubeos.crd..", "dev.kubeos.cluster..", "dev.kubeos.image..", "dev.kubeos.cli..")
        .check(CLASSES);
  }

  @Test
  void portsDependOnNoImplementation() {
    noClasses()
        .that()
        .resideInAnyPackage(PORTS)
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(concat(AGENT_IMPLEMENTATION, SHARED_IMPLEMENTATION))
        .because("a port names what the agent needs; shared models may cross it, code may not")
        .check(CLASSES);
  }

  @Test
  void theClusterNeverDependsOnTheAgent() {
    noClasses()
        .that()
        .resideInAnyPackage("dev.kubeos.cluster..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.kubeos.agent..", "dev.kubeos.image..", "dev.kubeos.cli..")
        .because("the proxy talks to the agent through kubeos-rpc only")
        .check(CLASSES);
  }

  @Test
  void theImageBuilderNeverDependsOnTheAgent() {
    noClasses()
        .that()
        .resideInAnyPackage("dev.kubeos.image..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.kubeos.agent..", "dev.kubeos.cluster..", "dev.kubeos.cli..")
        .because(
            "the builder uses kubeos-oci and kubeos-formats; the agent's first init of a new disk"
                + " comes in through its DiskInitializer port, wired by kubeos-cli")
        .check(CLASSES);
  }

  @Test
  void sharedModulesNeverDependOnTheirUsers() {
    noClasses()
        .that()
        .resideInAnyPackage(SHARED_MODULES)
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.kubeos.agent..",
            "dev.kubeos.cluster..",
            "dev.kubeos.image..",
            "dev.kubeos.cli..",
            "dev.kubeos.crd..")
        .check(CLASSES);
  }

  @Test
  void rpcDependsOnTheApiAndJacksonOnly() {
    classes()
        .that()
        .resideInAnyPackage("dev.kubeos.rpc..")
        .should()
        .onlyDependOnClassesThat()
        .resideInAnyPackage(
            "java..",
            "dev.kubeos.rpc..",
            "dev.kubeos.api",
            "dev.kubeos.api.agent..",
            "jdk.net..",
            "com.fasterxml.jackson..")
        .check(CLASSES);
  }

  @Test
  void formatsNeedNeitherRegistryNorRpc() {
    noClasses()
        .that()
        .resideInAnyPackage("dev.kubeos.formats..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.kubeos.oci..", "dev.kubeos.rpc..")
        .check(CLASSES);
    noClasses()
        .that()
        .resideInAnyPackage("dev.kubeos.oci..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.kubeos.rpc..")
        .check(CLASSES);
  }

  @Test
  void theApiDependsOnNoOtherModule() {
    noClasses()
        .that()
        .resideInAnyPackage("dev.kubeos.api..")
        .should()
        .dependOnClassesThat(
            resideInAnyPackage("dev.kubeos..").and(not(resideInAnyPackage("dev.kubeos.api.."))))
        .check(CLASSES);
  }

  @Test
  void productionCodeNeverUsesTestFixtures() {
    noClasses()
        .that()
        .resideOutsideOfPackages(TEST_SUPPORT)
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(TEST_SUPPORT)
        .check(CLASSES);
  }
}
