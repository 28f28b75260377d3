package dev.kubeos.cli;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.core.domain.properties.HasName.Predicates.name;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.Test;

/**
 * The layering rule of CONVENTIONS.md, enforced by the build: model, API and planning code is pure.
 * It reaches no file system, no process, no network and no Kubernetes client; only ports do. It may
 * use fabric8's model classes (the Kubernetes object types, CustomResource as the base of our
 * resources, the CRD annotations).
 */
class LayeringTest {
  private static final JavaClasses CLASSES =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("dev.kubeos");

  private static final String[] PURE = {
    "dev.kubeos.api..", "dev.kubeos.crd..", "..model..", "..plan.."
  };

  /** fabric8 packages that hold data types and annotations only. */
  private static final String[] FABRIC8_MODEL = {
    "io.fabric8.kubernetes.api.model..",
    "io.fabric8.kubernetes.model.annotation..",
    "io.fabric8.generator.annotation..",
    "io.fabric8.crd.generator.annotation.."
  };

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
  void portsDependOnNoImplementation() {
    noClasses()
        .that()
        .resideInAPackage("dev.kubeos.agent.port..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.kubeos.agent.host..",
            "dev.kubeos.agent.disk..",
            "dev.kubeos.agent.boot..",
            "dev.kubeos.agent.stage..")
        .check(CLASSES);
  }
}
