package dev.kubeos.image.build;

import dev.kubeos.formats.boot.GrubConfigTemplate;
import dev.kubeos.image.plan.BuildPlan;
import dev.kubeos.image.plan.DiskGeometry;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The disk steps: GPT with sgdisk, ROOT-A with {@code mkfs.ext4 -d} at the partition's offset, the
 * ESP (GRUB EFI loader, the boot contract's grub.cfg, the env blocks written by the agent's own
 * {@code init}) and PERSIST (agent state, /etc overlay dirs, /var). No loop device, no mount.
 */
final class DiskSteps {
  /** GRUB modules the loader carries (loaded on demand by grub.cfg's insmod). */
  static final String GRUB_MODULES =
      "part_gpt fat ext2 loadenv regexp test linux normal configfile search search_fs_uuid"
          + " search_label echo serial terminal efi_gop all_video gzio halt reboot sleep";

  private final BuildPlan plan;
  private final Exec exec;
  private final HostTools tools;
  private final Path work;
  private final DiskInitializer diskInit;
  private final DiskGeometry geo;

  DiskSteps(BuildPlan plan, Exec exec, HostTools tools, Path work, DiskInitializer diskInit) {
    this.plan = plan;
    this.exec = exec;
    this.tools = tools;
    this.work = work;
    this.diskInit = diskInit;
    this.geo = plan.disk();
  }

  void partition() throws IOException {
    Path disk = plan.diskImage();
    Files.deleteIfExists(disk);
    try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
      f.setLength(geo.sizeBytes()); // sparse
    }
    List<String> argv = new ArrayList<>(List.of(tools.path(Tool.SGDISK), "-o"));
    for (DiskGeometry.Partition p : geo.partitions()) {
      int n = p.number();
      argv.addAll(
          List.of(
              "-n" + n + ":" + p.firstSector() + ":" + p.lastSector(),
              "-t" + n + ":" + p.typeCode(),
              "-c" + n + ":" + p.name(),
              "-u" + n + ":" + p.partUuid()));
    }
    argv.addAll(List.of("-U", geo.diskGuid().toString(), disk.toString()));
    exec.run(argv);
  }

  /** Writes ROOT-A from the staging tree; returns the partition's SHA-256. */
  String slotA(Path root) throws IOException {
    DiskGeometry.Partition a = geo.partition("ROOT-A");
    mkfsExt4(
        exec,
        tools,
        plan.diskImage(),
        a.offsetBytes(),
        a.sizeBytes(),
        "ROOT-A",
        geo.rootFsUuid(),
        root);
    return sha256Range(plan.diskImage(), a.offsetBytes(), a.sizeBytes());
  }

  void esp(String slotASha256) throws IOException {
    Path esp = work.resolve("esp");
    Path boot = esp.resolve("EFI/BOOT");
    Files.createDirectories(boot);
    Path embedded = work.resolve("grub-embedded.cfg");
    Files.writeString(
        embedded,
        "# KubeOS: find the ESP by its FAT volume id and run the boot contract's grub.cfg\n"
            + "serial --unit=0 --speed=115200\n"
            + "terminal_input console serial\n"
            + "terminal_output console serial\n"
            + "insmod part_gpt\ninsmod fat\ninsmod search_fs_uuid\n"
            + "search --no-floppy --fs-uuid --set=root "
            + geo.espFsUuid()
            + "\nconfigfile ($root)/EFI/BOOT/grub.cfg\n");
    exec.run(
        List.of(
            tools.path(Tool.GRUB_MKSTANDALONE),
            "-O",
            "x86_64-efi",
            "--directory=" + tools.grubEfiDir(),
            "-o",
            boot.resolve("BOOTX64.EFI").toString(),
            "--install-modules=" + GRUB_MODULES,
            "--modules=part_gpt fat search_fs_uuid configfile serial terminal",
            "--fonts=",
            "--locales=",
            "--themes=",
            "boot/grub/grub.cfg=" + embedded));
    Files.writeString(
        boot.resolve("grub.cfg"),
        GrubConfigTemplate.render(
            Map.of(
                "ESP_FS_UUID", geo.espFsUuid(),
                "ROOT_A_PARTUUID", geo.partition("ROOT-A").partUuid().toString(),
                "ROOT_B_PARTUUID", geo.partition("ROOT-B").partUuid().toString(),
                "ROOT_A_GPT_INDEX", String.valueOf(geo.partition("ROOT-A").number()),
                "ROOT_B_GPT_INDEX", String.valueOf(geo.partition("ROOT-B").number()),
                "KERNEL", BuildPlan.KERNEL,
                "INITRD", BuildPlan.INITRD,
                "CMDLINE", plan.extraCmdline())));
    // The agent's own init: reads the GPT just written, writes the env blocks into the ESP tree
    // and the state (slot A holds V, verified) into the PERSIST tree.
    Path stateDir = work.resolve("persist/kubeos");
    Files.createDirectories(stateDir);
    diskInit.init(plan.diskImage(), esp, stateDir, plan.version(), slotASha256);
    DiskGeometry.Partition p = geo.partition("ESP");
    Path img = work.resolve("esp.img");
    Files.deleteIfExists(img);
    exec.run(
        List.of(
            tools.path(Tool.MKFS_VFAT),
            "-C",
            "-n",
            "ESP",
            "-i",
            geo.espVolumeId(),
            img.toString(),
            String.valueOf(p.sizeBytes() / 1024)));
    Map<String, String> env = Map.of("MTOOLS_SKIP_CHECK", "1");
    exec.run(
        List.of(
            tools.path(Tool.MCOPY),
            "-s",
            "-i",
            img.toString(),
            esp.resolve("EFI").toString(),
            esp.resolve("kubeos").toString(),
            "::/"),
        env,
        null);
    exec.run(
        List.of(
            tools.path(Tool.DD),
            "if=" + img,
            "of=" + plan.diskImage(),
            "bs=512",
            "seek=" + p.firstSector(),
            "conv=notrunc,sparse",
            "status=none"));
  }

  void persist(Path root) throws IOException {
    Path persist = work.resolve("persist");
    for (String d : List.of("etc/upper", "etc/work", "var")) {
      Files.createDirectories(persist.resolve(d));
    }
    if (plan.node()) {
      Files.createDirectories(persist.resolve("opt/cni/bin")); // bound to /opt/cni at boot
    }
    if (Files.isDirectory(root.resolve("var"))) {
      exec.run(
          List.of(
              tools.path(Tool.CP), "-a", root.resolve("var") + "/.", persist.resolve("var") + "/"));
    }
    DiskGeometry.Partition p = geo.partition("PERSIST");
    mkfsExt4(
        exec,
        tools,
        plan.diskImage(),
        p.offsetBytes(),
        p.sizeBytes(),
        "PERSIST",
        geo.persistFsUuid(),
        persist);
  }

  static void mkfsExt4(
      Exec exec,
      HostTools tools,
      Path target,
      long offset,
      long size,
      String label,
      UUID uuid,
      Path tree) {
    exec.run(
        List.of(
            tools.path(Tool.MKFS_EXT4),
            "-q",
            "-F",
            "-t",
            "ext4",
            "-L",
            label,
            "-U",
            uuid.toString(),
            "-E",
            "offset=" + offset + ",root_owner=0:0",
            "-d",
            tree.toString(),
            target.toString(),
            (size / 1024) + "k"));
  }

  static String sha256Range(Path file, long offset, long length) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        InputStream in =
            new DigestInputStream(
                new java.io.BufferedInputStream(
                    Channels.newInputStream(ch.position(offset)), 1 << 20),
                MessageDigest.getInstance("SHA-256"))) {
      byte[] buf = new byte[1 << 20];
      long left = length;
      while (left > 0) {
        int n = in.read(buf, 0, (int) Math.min(buf.length, left));
        if (n < 0) {
          throw new IOException(file + " ends before byte " + (offset + length));
        }
        left -= n;
      }
      return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
