package dev.kubeos.image.build;

/** A host command the builder runs, with the Debian package that provides it. */
public enum Tool {
  SGDISK("sgdisk", "gdisk"),
  MKFS_EXT4("mkfs.ext4", "e2fsprogs"),
  MKFS_VFAT("mkfs.vfat", "dosfstools"),
  MMD("mmd", "mtools"),
  MCOPY("mcopy", "mtools"),
  GRUB_MKSTANDALONE("grub-mkstandalone", "grub-common"),
  TAR("tar", "tar"),
  CP("cp", "coreutils"),
  DD("dd", "coreutils"),
  DEBOOTSTRAP("debootstrap", "debootstrap"),
  CHROOT("chroot", "coreutils"),
  MOUNT("mount", "mount"),
  UMOUNT("umount", "mount"),
  QEMU_IMG("qemu-img", "qemu-utils");

  private final String command;
  private final String debianPackage;

  Tool(String command, String debianPackage) {
    this.command = command;
    this.debianPackage = debianPackage;
  }

  public String command() {
    return command;
  }

  public String debianPackage() {
    return debianPackage;
  }
}
