package dev.kubeos.agent.state;

import dev.kubeos.agent.model.AgentState;
import dev.kubeos.agent.port.StateStore;
import java.io.IOException;
import java.util.Optional;

/** In-memory state store; {@link #failNextSave()} injects a crash before the save lands. */
public final class MemoryStateStore implements StateStore {
  private volatile AgentState state;
  private volatile boolean failNext;
  private volatile int saves;

  @Override
  public Optional<AgentState> load() {
    return Optional.ofNullable(state);
  }

  @Override
  public synchronized void save(AgentState next) throws IOException {
    if (failNext) {
      failNext = false;
      throw new IOException("injected failure before saving the agent state");
    }
    state = next;
    saves++;
  }

  public void failNextSave() {
    failNext = true;
  }

  public int saves() {
    return saves;
  }
}
