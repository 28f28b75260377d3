package dev.kubeos.image.build;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * What a build produced.
 *
 * @param disk the raw GPT disk image
 * @param qcow2 the qcow2 copy, or null when not requested
 * @param rootfsImage raw root file-system payload ({@code rootfs-V.img})
 * @param rootfsImageSha256 its hex SHA-256 (also in {@code rootfs-V.img.sha256})
 * @param rootfsTar rootfs tarball payload ({@code rootfs-V.tar})
 * @param rootfsTarSha256 its hex SHA-256
 * @param slotASha256 hex SHA-256 of the ROOT-A partition as written (recorded in the agent state)
 * @param rootfsFromCache whether the rootfs step was a cache hit
 * @param stepTimes wall time per step, in plan order
 */
public record BuildResult(
    Path disk,
    Path qcow2,
    Path rootfsImage,
    String rootfsImageSha256,
    Path rootfsTar,
    String rootfsTarSha256,
    String slotASha256,
    boolean rootfsFromCache,
    Map<String, Duration> stepTimes) {}
