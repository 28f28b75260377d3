package dev.kubeos.crd;

import io.fabric8.generator.annotation.Min;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/**
 * Observed progress of an {@link OS} rollout (an addition: upstream's OS has no status). The
 * condition types are {@link #PROGRESSING}, {@link #COMPLETE}, {@link #PAUSED} and {@link #HALTED}.
 */
public class OSStatus {
  /** Nodes are being worked on or waited for. */
  public static final String PROGRESSING = "Progressing";

  /** Every selected node is at the target; nothing is in progress. */
  public static final String COMPLETE = "Complete";

  /** {@code spec.pause} is set: no new node is started. */
  public static final String PAUSED = "Paused";

  /** The rollout stopped for a reason that needs a person (failure budget, invalid spec, ...). */
  public static final String HALTED = "Halted";

  private List<Condition> conditions = new ArrayList<>();

  @Min(0)
  private int selected;

  @Min(0)
  private int atTarget;

  @Min(0)
  private int inProgress;

  @Min(0)
  private int failed;

  private Long observedGeneration;

  /** The four condition types above, each with status, reason, message and transition time. */
  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions == null ? new ArrayList<>() : conditions;
  }

  /** Nodes the resource selects (node selector, control-plane opt-in). */
  public int getSelected() {
    return selected;
  }

  public void setSelected(int selected) {
    this.selected = selected;
  }

  /** Selected nodes that already run the target version (or configuration). */
  public int getAtTarget() {
    return atTarget;
  }

  public void setAtTarget(int atTarget) {
    this.atTarget = atTarget;
  }

  /** Selected nodes being upgraded, configured or rolled back right now. */
  public int getInProgress() {
    return inProgress;
  }

  public void setInProgress(int inProgress) {
    this.inProgress = inProgress;
  }

  /** Selected nodes whose attempt at the current target failed; charged to the failure budget. */
  public int getFailed() {
    return failed;
  }

  public void setFailed(int failed) {
    this.failed = failed;
  }

  /** {@code metadata.generation} of the spec this status describes. */
  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }
}
