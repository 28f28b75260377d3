package dev.kubeos.agent.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.agent.model.BootDecision;
import dev.kubeos.agent.model.BootSelector;
import dev.kubeos.agent.model.BootState;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.formats.boot.GrubConfigTemplate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileBootEnvStoreIT {

  @TempDir Path boot;

  private static String listing(Path file) throws Exception {
    return GrubTools.editenv(file, "list");
  }

  @Test
  void missingFilesReadAsNullAndTheDirectoryIsCreatedOnWrite() throws Exception {
    FileBootEnvStore store = new FileBootEnvStore(boot);
    assertThat(store.readCopy(0)).isNull();
    assertThat(store.readCopy(1)).isNull();
    assertThat(store.readBootRecord()).isNull();
    assertThat(store.directory()).isEqualTo(boot.resolve("kubeos")).doesNotExist();
    byte[] block = BootSelector.emptyBootRecord();
    store.writeCopy(1, block);
    assertThat(boot.resolve("kubeos/grubenv.1")).hasBinaryContent(block);
    assertThat(store.readCopy(1)).isEqualTo(block);
    assertThat(store.readCopy(0)).isNull();
  }

  @Test
  void writesReplaceAtomicallyAndLeaveNoTemporaryFiles() throws Exception {
    FileBootEnvStore store = new FileBootEnvStore(boot);
    BootEnv env = new BootEnv(store);
    env.initialize(Slot.A);
    for (int i = 0; i < 6; i++) {
      env.write(env.read().orElseThrow().withTrial(Slot.B, i));
    }
    try (Stream<Path> files = Files.list(store.directory())) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("grubenv.0", "grubenv.1", "grubenv.boot");
    }
    assertThat(env.read().orElseThrow().seq()).isEqualTo(8);
    assertThat(env.read().orElseThrow().trialId()).isEqualTo(5);
    assertThat(Files.size(store.directory().resolve("grubenv.0"))).isEqualTo(1024);
  }

  @Test
  void disarmingATrialClearsItFromBothCopies() throws Exception {
    FileBootEnvStore store = new FileBootEnvStore(boot);
    BootEnv env = new BootEnv(store);
    env.initialize(Slot.A);
    env.write(env.read().orElseThrow().withTrial(Slot.B, 7));
    env.write(env.read().orElseThrow().withTrial(Slot.B, 8)); // both copies arm a trial now

    BootState disarmed = env.write(env.read().orElseThrow().withoutTrial());

    for (int copy = 0; copy < 2; copy++) {
      BootState state = BootSelector.decode(store.readCopy(copy)).orElseThrow();
      assertThat(state.trialSlot()).as("copy " + copy).isNull();
    }
    assertThat(env.read().orElseThrow()).isEqualTo(disarmed);
    // even if the newest copy is lost, the other one no longer arms the trial
    int newest = BootSelector.newestIndex(store.readCopy(0), store.readCopy(1));
    store.writeCopy(newest, new byte[1024]);
    BootDecision fallback = env.nextBoot();
    assertThat(fallback.trial()).isFalse();
    assertThat(fallback.slot()).isEqualTo(Slot.A);
    assertThat(listing(store.directory().resolve(FileBootEnvStore.copyName(1 - newest))))
        .contains("kubeos_trial=\n");
  }

  @Test
  void grubEditenvReadsTheFilesTheAgentWrites() throws Exception {
    FileBootEnvStore store = new FileBootEnvStore(boot);
    BootEnv env = new BootEnv(store);
    env.initialize(Slot.A);
    BootState armed =
        env.write(
            new BootState(0, Slot.A, Slot.B, 12, Map.of(Slot.A, "quiet", Slot.B, "quiet dbg\\x")));
    Path dir = boot.resolve("kubeos");
    assertThat(listing(dir.resolve("grubenv.1")))
        .isEqualTo(
            "kubeos_seq=2\nkubeos_default=A\nkubeos_trial=\nkubeos_trial_id=0\n"
                + "kubeos_cmdline_a=\nkubeos_cmdline_b=\nkubeos_seq_end=2\n");
    assertThat(armed.seq()).isEqualTo(3);
    assertThat(listing(dir.resolve("grubenv.0")))
        .isEqualTo(
            "kubeos_seq=3\nkubeos_default=A\nkubeos_trial=B\nkubeos_trial_id=12\n"
                + "kubeos_cmdline_a=quiet\nkubeos_cmdline_b=quiet dbg\\x\nkubeos_seq_end=3\n");
    assertThat(listing(dir.resolve("grubenv.boot"))).isEmpty();
    assertThat(env.nextBoot()).isEqualTo(new BootDecision(Slot.B, true, 12));

    // GRUB consumes the trial: save_env rewrites the record; grub-editenv does the same edit.
    GrubTools.editenv(dir.resolve("grubenv.boot"), "set", "kubeos_tried=12");
    assertThat(env.triedTrialId()).isEqualTo(12);
    assertThat(env.nextBoot()).isEqualTo(new BootDecision(Slot.A, false, 0));
  }

  @Test
  void aFailingWriteIsAnIoErrorAndKeepsTheState() throws Exception {
    FileBootEnvStore store = new FileBootEnvStore(boot);
    BootEnv env = new BootEnv(store);
    env.initialize(Slot.B);
    // A non-empty directory where the temporary file of copy 0 goes: opening it for writing
    // fails as a broken ESP would (permissions do not stop root).
    Path blocker = store.directory().resolve("grubenv.0.tmp").resolve("blocker");
    Files.createDirectories(blocker);
    byte[] copy0 = store.readCopy(0);
    assertThatThrownBy(() -> env.write(BootState.initial(Slot.A)))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.IO_ERROR))
        .hasMessageContaining("copy 0")
        .hasMessageContaining("previous boot state is still in effect");
    assertThat(store.readCopy(0)).isEqualTo(copy0);
    assertThat(env.read().orElseThrow().defaultSlot()).isEqualTo(Slot.B);
    Files.delete(blocker);
    Files.delete(blocker.getParent());
    assertThat(env.write(BootState.initial(Slot.A)).seq()).isEqualTo(3);
    assertThat(env.read().orElseThrow().defaultSlot()).isEqualTo(Slot.A);
  }

  @Test
  void theRenderedGrubCfgPassesGrubScriptCheck() throws Exception {
    Path cfg = boot.resolve("grub.cfg");
    Files.writeString(cfg, GrubConfigTemplate.render(GrubConfigTemplateTest.values()));
    GrubTools.Result ok = GrubTools.run("grub-script-check", cfg.toString());
    assertThat(ok.exit()).as("grub-script-check: %s%s", ok.out(), ok.err()).isZero();

    // The check is not vacuous: an unterminated if is rejected.
    Path broken = boot.resolve("broken.cfg");
    Files.writeString(broken, Files.readString(cfg).replaceFirst("\nfi\n", "\n"));
    GrubTools.Result bad = GrubTools.run("grub-script-check", broken.toString());
    assertThat(bad.exit()).isNotZero();
  }
}
