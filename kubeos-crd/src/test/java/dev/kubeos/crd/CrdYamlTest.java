package dev.kubeos.crd;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.crdv2.generator.CRDGenerator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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

  static void generate(Path dir) {
    int count =
        new CRDGenerator()
            .customResourceClasses(OS.class, OSInstance.class)
            .forCRDVersions("v1")
            .inOutputDir(dir.toFile())
            .generate();
    assertThat(count).isEqualTo(2);
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
