package dev.kubeos.agent;

import static dev.kubeos.api.agent.ErrorCode.PRECONDITION_FAILED;

import dev.kubeos.agent.model.BootState;
import dev.kubeos.agent.model.NodeView;
import dev.kubeos.agent.settings.Versions;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.SlotState;
import dev.kubeos.api.agent.SlotStatus;
import java.util.Optional;

/**
 * Why the agent refuses an operation: each check throws {@code PRECONDITION_FAILED} (or {@code
 * INVALID_REQUEST} for a bad request) with what to do instead, and returns what the operation acts
 * on.
 */
final class Preconditions {
  private Preconditions() {}

  static void requireVersion(String version) {
    Versions.require(version);
  }

  /** init only sets up a fresh image. */
  static void requireNoBootEnv(Optional<BootState> boot) {
    if (boot.isPresent()) {
      throw new AgentException(
          PRECONDITION_FAILED,
          "the boot environment under the boot dir is already initialised (default slot "
              + boot.get().defaultSlot()
              + "); init only sets up a fresh image");
    }
  }

  /** The slot a stage writes: the inactive one, when neither a trial nor a rollback needs it. */
  static Slot requireStageTarget(NodeView view) {
    Slot target = view.inactive();
    requireNoTrialBoot(view, "stage");
    if (view.boot().defaultSlot() == target) {
      throw new AgentException(
          PRECONDITION_FAILED,
          "slot "
              + target
              + " is the committed default (a rollback to it is pending); staging over it could"
              + " leave the node without a bootable slot. Reboot into slot "
              + target
              + " first, or run 'kubeos agent rollback' again to undo the pending rollback.");
    }
    return target;
  }

  /** The slot activate arms: the inactive one, verified and not the default already. */
  static Slot requireActivatable(NodeView view) {
    Slot target = view.inactive();
    requireNoTrialBoot(view, "activate");
    SlotStatus staged = view.state().slot(target);
    if (staged.state() != SlotState.VERIFIED) {
      throw new AgentException(
          PRECONDITION_FAILED,
          "nothing verified is staged in slot "
              + target
              + " (state "
              + staged.state()
              + "); run 'kubeos agent stage' first");
    }
    if (view.boot().defaultSlot() == target) {
      throw new AgentException(
          PRECONDITION_FAILED,
          "slot " + target + " is already the committed default; the next boot starts it");
    }
    return target;
  }

  /** The slot commit makes the default: the booted one, on a trial boot of verified content. */
  static Slot requireCommittable(NodeView view) {
    Slot booted = view.booted();
    if (!view.trialBoot() || view.state().slot(booted).state() != SlotState.VERIFIED) {
      throw new AgentException(
          PRECONDITION_FAILED,
          "the booted slot "
              + booted
              + " is not a verified trial boot (default "
              + view.boot().defaultSlot()
              + ", trial "
              + (view.boot().trialSlot() == null ? "none" : view.boot().trialSlot())
              + "); nothing to commit");
    }
    return booted;
  }

  /** The slot rollback makes the default: the other one, verified and not failed. */
  static Slot requireRollbackTarget(NodeView view) {
    Slot other = view.inactive();
    SlotStatus target = view.state().slot(other);
    if (target.state() != SlotState.VERIFIED) {
      throw new AgentException(
          PRECONDITION_FAILED,
          "cannot roll back to slot "
              + other
              + ": it is "
              + target.state()
              + (target.state() == SlotState.FAILED_TRIAL
                  ? " (" + target.version() + " failed its trial boot)"
                  : "")
              + "; only a verified slot that has not failed a trial can become the default");
    }
    return other;
  }

  private static void requireNoTrialBoot(NodeView view, String operation) {
    if (view.trialBoot()) {
      throw new AgentException(
          PRECONDITION_FAILED,
          "the node runs an uncommitted trial of slot "
              + view.booted()
              + "; "
              + operation
              + " would touch its fallback slot "
              + view.inactive()
              + ". Commit the trial ('kubeos agent commit' or health) or reboot to fall back first.");
    }
  }
}
