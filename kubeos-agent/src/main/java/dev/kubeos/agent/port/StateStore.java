package dev.kubeos.agent.port;

import dev.kubeos.agent.model.AgentState;
import java.io.IOException;
import java.util.Optional;

/** The agent's own record of slot contents, on PERSIST; every save is atomic. */
public interface StateStore {

  Optional<AgentState> load() throws IOException;

  /** Replaces the state atomically: after a crash, either the old or the new state is read. */
  void save(AgentState state) throws IOException;
}
