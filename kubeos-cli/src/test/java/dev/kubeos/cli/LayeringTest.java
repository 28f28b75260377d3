package dev.kubeos.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.Test;

/**
 * The layering rule of CONVENTIONS.md, enforced by the build: model and API code is pure. It
 * reaches no file system, no process, no network and no Kubernetes client; only ports do.
 */
class LayeringTest {
  private static final JavaClasses CLASSES =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("dev.kubeos");

  private static final String[] PURE = {"dev.kubeos.api..", "..model.."};

  @Test
  void modelAndApiCodeDoesNoIo() {
    ArchRule rule =
        noClasses()
            .that()
            .resideInAnyPackage(PURE)
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(
                "java.nio.file..", "java.nio.channels..", "java.net..", "io.fabric8..")
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
