package dev.kubeos.crd;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crdv2.generator.CRDGenerator;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CRDs under deploy/crds are generated from the Java types; this test fails when the committed
 * YAML differs from what the types generate. Regenerate with {@code ./mvnw -pl kubeos-crd test
 * -Dtest=CrdYamlTest -Dkubeos.crd.update=true}.
 */
class CrdYamlTest {
  static final Path COMMITTED = Path.of("..", "deploy", "crds");
  static final List<String> FILES =
      List.of("os.upgrade.openeuler.org-v1.yml", "osinstances.upgrade.openeuler.org-v1.yml");

  static void generate(Path dir) throws IOException {
    int count =
        new CRDGenerator()
            .customResourceClasses(OS.class, OSInstance.class)
            .forCRDVersions("v1")
            .inOutputDir(dir.toFile())
            .generate();
    assertThat(count).isEqualTo(2);
    declaredColumnOrder(dir.resolve(FILES.get(0)), OS.class);
    declaredColumnOrder(dir.resolve(FILES.get(1)), OSInstance.class);
  }

  /**
   * The generator sorts printer columns by jsonPath; {@code kubectl get} shows them in the CRD's
   * order, and upstream's columns must come first (scripts read them by position). So the columns
   * are put in the order the type declares them ({@link AdditionalPrinterColumn} annotations, in
   * source order), and the file is written back.
   */
  static void declaredColumnOrder(Path file, Class<?> type) throws IOException {
    List<String> order =
        Arrays.stream(type.getAnnotationsByType(AdditionalPrinterColumn.class))
            .map(AdditionalPrinterColumn::name)
            .toList();
    CustomResourceDefinition crd =
        Serialization.unmarshal(Files.readString(file), CustomResourceDefinition.class);
    for (CustomResourceDefinitionVersion v : crd.getSpec().getVersions()) {
      List<CustomResourceColumnDefinition> cols = new ArrayList<>(v.getAdditionalPrinterColumns());
      assertThat(cols)
          .extracting(CustomResourceColumnDefinition::getName)
          .containsExactlyInAnyOrderElementsOf(order);
      cols.sort(Comparator.comparingInt(c -> order.indexOf(c.getName())));
      v.setAdditionalPrinterColumns(cols);
    }
    String header = Files.readString(file).lines().findFirst().orElseThrow();
    String yaml = Serialization.asYaml(crd);
    Files.writeString(file, header + "\n" + yaml.substring(yaml.indexOf('\n') + 1));
  }

  /** Upstream's printer columns come first, with upstream's names and paths, in its order. */
  @Test
  void upstreamPrinterColumnsComeFirst(@TempDir Path dir) throws IOException {
    generate(dir);
    assertThat(columns(dir.resolve(FILES.get(0))).subList(0, 3))
        .containsExactly(
            "OS VERSION=.spec.osversion",
            "SYSCONFIG VERSION=.spec.sysconfigs.version",
            "UPGRADECONFIG VERSION=.spec.upgradeconfigs.version");
    assertThat(columns(dir.resolve(FILES.get(1))).subList(0, 5))
        .containsExactly(
            "NODESTATUS=.spec.nodestatus",
            "SYSCONFIG-VERSION-CURRENT=.status.sysconfigs.version",
            "SYSCONFIG-VERSION-DESIRED=.spec.sysconfigs.version",
            "UPGRADECONFIG-VERSION-CURRENT=.status.upgradeconfigs.version",
            "UPGRADECONFIG-VERSION-DESIRED=.spec.upgradeconfigs.version");
  }

  private static List<String> columns(Path file) throws IOException {
    CustomResourceDefinition crd =
        Serialization.unmarshal(Files.readString(file), CustomResourceDefinition.class);
    return crd.getSpec().getVersions().get(0).getAdditionalPrinterColumns().stream()
        .map(c -> c.getName() + "=" + c.getJsonPath())
        .toList();
  }

  @Test
  void committedCrdsMatchTheJavaTypes(@TempDir Path dir) throws IOException {
    generate(dir);
    if (Boolean.getBoolean("kubeos.crd.update")) {
      Files.createDirectories(COMMITTED);
      for (String f : FILES) {
        Files.copy(
            dir.resolve(f),
            COMMITTED.resolve(f),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    }
    try (Stream<Path> s = Files.list(dir)) {
      assertThat(s.map(p -> p.getFileName().toString()).collect(Collectors.toSet()))
          .containsExactlyInAnyOrderElementsOf(FILES);
    }
    for (String f : FILES) {
      assertThat(COMMITTED.resolve(f))
          .as(
              "deploy/crds/%s is stale: regenerate it with ./mvnw -pl kubeos-crd test"
                  + " -Dtest=CrdYamlTest -Dkubeos.crd.update=true",
              f)
          .exists()
          .hasSameTextualContentAs(dir.resolve(f));
    }
  }
}
