package dev.kubeos.agent.model;

import dev.kubeos.formats.boot.GrubEnvBlock;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A tiny notation for boot env blocks in test tables.
 *
 * <pre>
 *   -                      missing file (null)
 *   SEQ:DEF                copy with kubeos_seq=SEQ, kubeos_default=DEF, no trial, trial id 0
 *   SEQ:DEF>TRIAL#ID       ... with kubeos_trial=TRIAL, kubeos_trial_id=ID
 *   ...!end=N / ...!noend  kubeos_seq_end=N instead of SEQ / no kubeos_seq_end at all
 *   trunc:SPEC             the block cut to 512 bytes
 *   nohdr:SPEC             the block with a damaged GRUB header
 *   NEW~OLD@N              the first N bytes of NEW over OLD (a torn write)
 *   junk                   1024 bytes that are no GRUB block
 * </pre>
 *
 * Boot records: {@code -} missing, {@code junk}, {@code empty} (block without variables), or the
 * value of kubeos_tried.
 */
final class EnvSpec {

  private EnvSpec() {}

  static byte[] copy(String spec) {
    spec = spec.trim();
    if (spec.equals("-")) {
      return null;
    }
    if (spec.equals("junk")) {
      byte[] junk = new byte[GrubEnvBlock.SIZE];
      for (int i = 0; i < junk.length; i++) {
        junk[i] = (byte) (i * 31 + 7);
      }
      return junk;
    }
    if (spec.startsWith("trunc:")) {
      return Arrays.copyOf(copy(spec.substring(6)), 512);
    }
    if (spec.startsWith("nohdr:")) {
      byte[] b = copy(spec.substring(6));
      b[2] = 'g';
      return b;
    }
    int tilde = spec.indexOf('~');
    if (tilde >= 0) {
      int at = spec.lastIndexOf('@');
      byte[] newer = copy(spec.substring(0, tilde));
      byte[] older = copy(spec.substring(tilde + 1, at));
      int n = Integer.parseInt(spec.substring(at + 1));
      System.arraycopy(newer, 0, older, 0, n);
      return older;
    }
    String end = null;
    boolean noEnd = false;
    int bang = spec.indexOf('!');
    if (bang >= 0) {
      String mod = spec.substring(bang + 1);
      spec = spec.substring(0, bang);
      if (mod.equals("noend")) {
        noEnd = true;
      } else {
        end = mod.substring("end=".length());
      }
    }
    String[] seqAndRest = spec.split(":", 2);
    String seq = seqAndRest[0];
    String rest = seqAndRest[1];
    String def = rest;
    String trial = "";
    String trialId = "0";
    int gt = rest.indexOf('>');
    if (gt >= 0) {
      def = rest.substring(0, gt);
      String[] t = rest.substring(gt + 1).split("#", 2);
      trial = t[0];
      trialId = t[1];
    }
    Map<String, String> v = new LinkedHashMap<>();
    v.put(BootSelector.SEQ, seq);
    v.put(BootSelector.DEFAULT, def);
    v.put(BootSelector.TRIAL, trial);
    v.put(BootSelector.TRIAL_ID, trialId);
    v.put(BootSelector.CMDLINE_A, "console=ttyS0");
    v.put(BootSelector.CMDLINE_B, "console=ttyS0 quiet");
    if (!noEnd) {
      v.put(BootSelector.SEQ_END, end == null ? seq : end);
    }
    return GrubEnvBlock.encode(v);
  }

  static byte[] record(String spec) {
    spec = spec.trim();
    switch (spec) {
      case "-":
        return null;
      case "junk":
        return copy("junk");
      case "empty":
        return GrubEnvBlock.encode(Map.of());
      default:
        return GrubEnvBlock.encode(Map.of(BootSelector.TRIED, spec));
    }
  }

  static String text(byte[] block) {
    return block == null ? "null" : new String(block, StandardCharsets.UTF_8);
  }
}
