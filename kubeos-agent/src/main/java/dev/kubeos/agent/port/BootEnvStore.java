package dev.kubeos.agent.port;

import java.io.IOException;

/**
 * The bootloader environment on the ESP: two redundant agent-written GRUB environment blocks
 * ({@code copy 0}, {@code copy 1}) and the GRUB-written boot record (which trial GRUB consumed).
 * Each block is a 1024-byte GRUB environment block; a missing file reads as {@code null}.
 */
public interface BootEnvStore {

  /** Raw bytes of agent copy {@code index} (0 or 1), or null when it does not exist. */
  byte[] readCopy(int index) throws IOException;

  /** Replaces agent copy {@code index} durably (written, synced) with {@code block}. */
  void writeCopy(int index, byte[] block) throws IOException;

  /** Raw bytes of the GRUB-owned boot record, or null when it does not exist. */
  byte[] readBootRecord() throws IOException;

  /**
   * Replaces the GRUB-owned boot record. Only image set-up ({@code init}) and the simulated
   * firmware of tests write it; on a node GRUB rewrites it in place with save_env.
   */
  void writeBootRecord(byte[] block) throws IOException;
}
