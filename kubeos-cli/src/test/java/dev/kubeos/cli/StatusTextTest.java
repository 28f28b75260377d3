package dev.kubeos.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.api.Json;
import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.EtcMergeStatus;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.SlotState;
import dev.kubeos.api.agent.SlotStatus;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code kubeos agent status}: the /etc merge report is shown when there is one, else left out. */
class StatusTextTest {
  static final AgentStatus STATUS =
      new AgentStatus(
          Slot.A,
          Slot.A,
          Slot.B,
          Slot.B,
          false,
          Map.of(Slot.A, new SlotStatus("1.0", null, SlotState.VERIFIED, Instant.EPOCH)),
          null);
  static final EtcMergeStatus MERGE =
      new EtcMergeStatus(
          Slot.A,
          Slot.B,
          "2.0",
          Instant.parse("2026-12-03T01:00:00Z"),
          "/persist/etc/B/upper",
          List.of("/etc/hosts", "/etc/machine-id"),
          List.of("/etc/hosts: changed on the node and in the new version; the node's is kept"),
          7,
          null);

  @Test
  void withoutAMergeTheJsonHasNoEtcMergeMember() throws Exception {
    String json = AgentCommands.StatusText.json(STATUS);
    assertThat(Json.mapper().readTree(json).has("etcMerge")).isFalse();
    assertThat(AgentCommands.StatusText.human(STATUS)).doesNotContain("etc merge");
  }

  @Test
  void theMergeReportRoundTripsAndIsShownWithItsConflicts() throws Exception {
    AgentStatus s = STATUS.withEtcMerge(MERGE);
    String json = AgentCommands.StatusText.json(s);
    assertThat(Json.mapper().readValue(json, AgentStatus.class)).isEqualTo(s);
    assertThat(Json.mapper().readTree(json).path("etcMerge").path("conflicts").get(0).asText())
        .startsWith("/etc/hosts");
    assertThat(AgentCommands.StatusText.human(s))
        .contains(
            "etc merge:     slot A -> B (2.0) at 2026-12-03T01:00:00Z: 2 node entries kept, 7 from"
                + " the new version, 1 conflicts",
            "  conflict:    /etc/hosts: changed on the node and in the new version");
  }

  @Test
  void aStatusFromAnAgentWithoutTheFieldStillReads() throws Exception {
    String old =
        "{\"bootedSlot\":\"A\",\"defaultSlot\":\"A\",\"trialSlot\":null,\"nextBootSlot\":\"A\","
            + "\"trialBoot\":false,\"slots\":{},\"lastFailure\":null}";
    assertThat(Json.mapper().readValue(old, AgentStatus.class).etcMerge()).isNull();
  }
}
