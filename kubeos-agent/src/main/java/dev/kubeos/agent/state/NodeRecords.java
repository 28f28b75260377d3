package dev.kubeos.agent.state;

import static dev.kubeos.api.agent.ErrorCode.PRECONDITION_FAILED;

import dev.kubeos.agent.boot.BootEnv;
import dev.kubeos.agent.model.AgentState;
import dev.kubeos.agent.model.BootState;
import dev.kubeos.agent.model.NodeView;
import dev.kubeos.agent.port.StateStore;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.SlotState;
import dev.kubeos.api.agent.SlotStatus;
import java.io.IOException;
import java.time.Clock;

/**
 * The node's two durable records, read together: the boot decisions in the boot env (on the ESP,
 * for GRUB) and the slot contents in the agent's state (on PERSIST). Each write is one atomic write
 * of one of them; the order of the writes is the caller's, and the safety invariant rests on it.
 *
 * @param bootEnv the bootloader environment on the ESP
 * @param stateStore the agent's slot records on PERSIST
 * @param booted the slot the running system was booted from
 * @param clock time source of the records
 */
public record NodeRecords(BootEnv bootEnv, StateStore stateStore, Slot booted, Clock clock) {
  private static final System.Logger LOG = System.getLogger("kubeos.agent");

  /** Reads everything; changes nothing. */
  public NodeView view() throws IOException {
    BootState boot =
        bootEnv
            .read()
            .orElseThrow(
                () ->
                    new AgentException(
                        PRECONDITION_FAILED,
                        "no valid boot environment under the boot dir: the node was not set up"
                            + " with 'kubeos agent init' (or the image builder)"));
    return new NodeView(booted, boot, bootEnv.triedTrialId(), state());
  }

  /** Reads everything and records a failed trial GRUB reported, if any (needs the lock). */
  public NodeView reconcile() throws IOException {
    NodeView view = view();
    AgentState recorded = view.stateWithFailureRecorded(clock.instant());
    if (view.failedTrial().isPresent()) {
      save(recorded);
      BootState cleared = bootEnv.write(view.boot().withoutTrial());
      LOG.log(System.Logger.Level.INFO, String.valueOf(recorded.lastFailure()));
      return new NodeView(view.booted(), cleared, view.triedTrialId(), recorded);
    }
    return view;
  }

  /** The slot records; empty before init. */
  public AgentState state() throws IOException {
    return stateStore.load().orElse(AgentState.empty());
  }

  public void save(AgentState state) throws IOException {
    stateStore.save(state);
  }

  /** Replaces the record of one slot, stamped now. */
  public void saveSlot(Slot slot, String version, String sha256, SlotState state)
      throws IOException {
    save(state().withSlot(slot, new SlotStatus(version, sha256, state, clock.instant())));
  }
}
