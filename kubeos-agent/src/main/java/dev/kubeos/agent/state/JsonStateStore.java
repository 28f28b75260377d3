package dev.kubeos.agent.state;

import dev.kubeos.agent.model.AgentState;
import dev.kubeos.agent.port.StateStore;
import dev.kubeos.api.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/** The agent state as JSON in {@code <state-dir>/agent-state.json}, replaced atomically. */
public final class JsonStateStore implements StateStore {
  public static final String FILE = "agent-state.json";

  private final Path file;

  public JsonStateStore(Path stateDir) {
    this.file = stateDir.resolve(FILE);
  }

  @Override
  public Optional<AgentState> load() throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    try {
      return Optional.of(Json.mapper().readValue(bytes, AgentState.class));
    } catch (IOException e) {
      throw new IOException("agent state " + file + " is not readable JSON: " + e.getMessage(), e);
    }
  }

  @Override
  public void save(AgentState state) throws IOException {
    AtomicFiles.write(
        file, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(state));
  }
}
