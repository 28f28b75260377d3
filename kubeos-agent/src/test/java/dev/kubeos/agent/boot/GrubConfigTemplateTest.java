package dev.kubeos.agent.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.formats.boot.GrubConfigTemplate;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class GrubConfigTemplateTest {

  static Map<String, String> values() {
    Map<String, String> v = new HashMap<>();
    v.put("ESP_FS_UUID", "1A2B-3C4D");
    v.put("ROOT_A_PARTUUID", "0fc63daf-8483-4772-8e79-3d69d8477de4");
    v.put("ROOT_B_PARTUUID", "9b6c4a77-1d2e-4e0b-9a4e-5f0d1c2b3a40");
    v.put("ROOT_A_GPT_INDEX", "2");
    v.put("ROOT_B_GPT_INDEX", "3");
    v.put("KERNEL", "/boot/vmlinuz");
    v.put("INITRD", "/boot/initrd.img");
    v.put("CMDLINE", "console=ttyS0,115200 quiet");
    return v;
  }

  @Test
  void templateUsesExactlyTheKnownPlaceholders() {
    Matcher m = Pattern.compile("@([A-Z][A-Z0-9_]*)@").matcher(GrubConfigTemplate.template());
    TreeSet<String> used = new TreeSet<>();
    while (m.find()) {
      used.add(m.group(1));
    }
    assertThat(used).isEqualTo(GrubConfigTemplate.placeholderNames());
  }

  @Test
  void rendersAllValues() {
    String cfg = GrubConfigTemplate.render(values());
    assertThat(cfg)
        .doesNotContain("@")
        .contains("set kubeos_esp_uuid='1A2B-3C4D'")
        .contains("set kubeos_gpt_b='3'")
        .contains("set kubeos_base_cmdline='console=ttyS0,115200 quiet'")
        .contains("root=PARTUUID=$kubeos_partuuid ro panic=10 kubeos.slot=$kubeos_boot_slot")
        .contains("$kubeos_base_cmdline $kubeos_extra")
        .contains("load_env --file")
        .contains("save_env --file \"$kubeos_envdir/grubenv.boot\" kubeos_tried");
  }

  @Test
  void rejectsMissingUnknownAndUnsafeValues() {
    Map<String, String> missing = values();
    missing.remove("INITRD");
    assertThatThrownBy(() -> GrubConfigTemplate.render(missing))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("without a value")
        .hasMessageContaining("INITRD");
    Map<String, String> unknown = values();
    unknown.put("ROOT_C_PARTUUID", "x");
    assertThatThrownBy(() -> GrubConfigTemplate.render(unknown))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown")
        .hasMessageContaining("ROOT_C_PARTUUID");
    for (String[] bad :
        new String[][] {
          {"CMDLINE", "quiet' ; echo pwned '"},
          {"CMDLINE", "a\nb"},
          {"ROOT_A_GPT_INDEX", "0"},
          {"ROOT_B_GPT_INDEX", "two"},
          {"KERNEL", "vmlinuz"},
          {"INITRD", "/boot/initrd img"},
          {"ESP_FS_UUID", "LABEL=ESP"},
        }) {
      Map<String, String> v = values();
      v.put(bad[0], bad[1]);
      assertThatThrownBy(() -> GrubConfigTemplate.render(v))
          .as("%s=%s", bad[0], bad[1])
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(bad[0]);
    }
  }
}
