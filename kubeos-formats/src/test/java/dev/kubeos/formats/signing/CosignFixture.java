package dev.kubeos.formats.signing;

/**
 * A signature made by cosign itself, used to prove format compatibility (cosign is not packaged for
 * Debian bookworm, so no interop test can run it here).
 *
 * <p>Source: the public repository tobby-fetch/tobby-fetch, file
 * internal/sigverify/cosign_compat_test.go (commit 976ea80d), which states it was captured
 * byte-for-byte from {@code cosign sign --key ... --tlog-upload=false} (cosign v3.0.4) against a
 * local registry and cross-checked with {@code cosign verify --key}. Independently checked here on
 * 2026-11-27 with {@code openssl dgst -sha256 -verify pub.pem -signature sig.der payload.json}
 * ("Verified OK") and {@code sha256sum} of the payload (= the layer digest below).
 */
final class CosignFixture {
  private CosignFixture() {}

  /** cosign.pub (ECDSA P-256). */
  static final String PUBLIC_KEY =
      "-----BEGIN PUBLIC KEY-----\n"
          + "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEA9oFvTJJuu0cszKBsiuqfFYN3NLV\n"
          + "meleaASYW5l+nqDxoUg4f8177owlgVD89pZQ9jUxP8dbibmDJpvcjBo9RQ==\n"
          + "-----END PUBLIC KEY-----\n";

  /** sha256 of the key's DER SubjectPublicKeyInfo ({@code openssl pkey -pubin -outform DER}). */
  static final String FINGERPRINT =
      "sha256:dc2bcfdb0402cd0845f59232655c3ab2a53d55849d4665579efe45c6cc753478";

  /** The signed image manifest digest. */
  static final String SUBJECT =
      "sha256:f20c43161d73848408ef247f0ec7111b19fe58ffebc0cbcaa0d2c8bda4967268";

  static final String REFERENCE = "localhost:15381/tobby/fixture";

  /** The simple-signing payload blob, exact bytes. */
  static final String PAYLOAD =
      "{\"critical\":{\"identity\":{\"docker-reference\":\"localhost:15381/tobby/fixture\"},"
          + "\"image\":{\"docker-manifest-digest\":\"sha256:f20c43161d73848408ef247f0ec7111b19fe58"
          + "ffebc0cbcaa0d2c8bda4967268\"},\"type\":\"cosign container image signature\"},"
          + "\"optional\":null}";

  static final String PAYLOAD_DIGEST =
      "sha256:3a29d26a2fc848d25ccf9c2288194ca90599e70ef69087644f186e5e7331f28b";

  static final String SIGNATURE =
      "MEUCIEB+pz4s+9yxG+Om/bukeAfwloKFEISUhxLvIYlP02P8AiEAz1oNkilC+cprxcrEHqN0vxM+zvP34ikHFzi8e7Sevls=";

  /** The signature manifest cosign pushed to tag sha256-f20c...268.sig, exact bytes. */
  static final String MANIFEST =
      "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
          + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":233,"
          + "\"digest\":\"sha256:2122b6ad0794d3fdae43a4b477cf1d95d4a38d3c5f10631e199676039b876e37\"},"
          + "\"layers\":[{\"mediaType\":\"application/vnd.dev.cosign.simplesigning.v1+json\","
          + "\"size\":245,\"digest\":\"sha256:3a29d26a2fc848d25ccf9c2288194ca90599e70ef69087644f1"
          + "86e5e7331f28b\",\"annotations\":{\"dev.cosignproject.cosign/signature\":\"MEUCIEB+pz4s"
          + "+9yxG+Om/bukeAfwloKFEISUhxLvIYlP02P8AiEAz1oNkilC+cprxcrEHqN0vxM+zvP34ikHFzi8e7Sevls=\"}}]}";

  /**
   * A private key written by {@code cosign generate-key-pair} with an empty password, from the
   * public repository sigstore/sigstore-rs,
   * tests/data/keys/cosign_generated_encrypted_empty_private.key (commit f7828d20). Its body is
   * cosign's scrypt + nacl/secretbox JSON.
   */
  static final String ENCRYPTED_PRIVATE_KEY =
      "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
          + "eyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjo2NTUzNiwiciI6\n"
          + "OCwicCI6MX0sInNhbHQiOiJFY3pJR3Z0bnpFcCsxaEpudERnbGI1UnoxN3gwQVMy\n"
          + "YklvWGRNcDQrU1NJPSJ9LCJjaXBoZXIiOnsibmFtZSI6Im5hY2wvc2VjcmV0Ym94\n"
          + "Iiwibm9uY2UiOiJtSVVKbG1OMzNINExvZ0dhaG5MamdmK3R4SmJwci93MCJ9LCJj\n"
          + "aXBoZXJ0ZXh0IjoiM3FtS2FidXRuYm1WT1IvTkZGM2NDaUErTXp1WWQ5L0VERDVI\n"
          + "MVlUSGhQVzZsSzAvdjVqdDZCQzlsME12NGV5am9qZkl0d3B6a2JJOXQrZGx5VXZ3\n"
          + "VUgvMWZjbkFZT2dEdXRLQzkvSkNiOE02SVY2VHpVaDF5c0ZFWDFzeG9xb1FzeUpL\n"
          + "bjM0UVlldFNlaVdDaGtmUHUyZXByQjFEV0pwekdzTGZIakxNVTkzOEdmNk1xM1A0\n"
          + "N0ZSd2syZzY1cFZnSGMwVWV1L1N1OUs0Zmc9PSJ9\n"
          + "-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n";
}
