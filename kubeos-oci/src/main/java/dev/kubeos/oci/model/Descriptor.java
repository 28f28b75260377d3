package dev.kubeos.oci.model;

import dev.kubeos.formats.digest.Sha256;

/**
 * An OCI content descriptor: what a blob or manifest is, its digest and size.
 *
 * @param mediaType media type of the referenced content
 * @param digest SHA-256 of the content bytes
 * @param size content length in bytes
 * @param platform {@code os/architecture[/variant]} for entries of an image index, else null
 */
public record Descriptor(String mediaType, Sha256 digest, long size, String platform) {}
