package dev.kubeos.cli;

import dev.kubeos.agent.trust.RegistrySignatureSource;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.formats.signing.Keys;
import dev.kubeos.formats.signing.OciLayouts;
import dev.kubeos.formats.signing.Signatures;
import dev.kubeos.formats.signing.TrustedKey;
import dev.kubeos.formats.trust.DetachedSignature;
import dev.kubeos.formats.trust.SignatureManifest;
import dev.kubeos.formats.trust.SignedPayload;
import dev.kubeos.oci.RegistryClient;
import dev.kubeos.oci.RegistryOptions;
import dev.kubeos.oci.model.ImageReference;
import dev.kubeos.oci.source.FetchOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kubeos image keygen | sign | verify}: signing keys and detached payload signatures. */
final class SignCommands {
  private SignCommands() {}

  /** Reads a passphrase from the environment variable named by --passphrase-env. */
  static char[] passphrase(String envName) {
    if (envName == null) {
      return null;
    }
    String value = System.getenv(envName);
    if (value == null || value.isEmpty()) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST,
          "--passphrase-env names " + envName + ", but that environment variable is not set");
    }
    return value.toCharArray();
  }

  /** Writes {@code bytes} to {@code file} atomically (temp file + rename) with the given mode. */
  static void write(Path file, byte[] bytes, String mode) {
    try {
      Path dir = file.toAbsolutePath().getParent();
      Files.createDirectories(dir);
      Path tmp =
          Files.createTempFile(
              dir,
              "." + file.getFileName(),
              ".tmp",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(mode)));
      try {
        Files.write(tmp, bytes);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new AgentException(
          ErrorCode.IO_ERROR, "cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  static Sha256 sha256(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 20];
      for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
        md.update(buf, 0, n);
      }
      return Sha256.of(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    } catch (IOException e) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST, "cannot read payload " + file + ": " + e.getMessage(), e);
    }
  }

  @Command(
      name = "keygen",
      mixinStandardHelpOptions = true,
      description =
          "Make an ECDSA P-256 signing key pair: DIR/NAME.key (PKCS#8 PEM, mode 0600, encrypted when"
              + " --passphrase-env is given) and DIR/NAME.pub (goes into the image's [trust] keys).")
  static final class Keygen implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = {"-o", "--output"},
        required = true,
        paramLabel = "DIR",
        description = "Where to write the key pair.")
    Path output;

    @Option(
        names = "--name",
        defaultValue = "release",
        description = "File name stem (default: ${DEFAULT-VALUE}).")
    String name;

    @Option(
        names = "--passphrase-env",
        paramLabel = "VAR",
        description = "Encrypt the private key with the passphrase in this environment variable.")
    String passphraseEnv;

    @Option(names = "--force", description = "Overwrite an existing key pair.")
    boolean force;

    @Override
    public Integer call() {
      if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,95}")) {
        throw new AgentException(
            ErrorCode.INVALID_REQUEST, "--name '" + name + "' must be a plain file name stem");
      }
      Path key = output.resolve(name + ".key");
      Path pub = output.resolve(name + ".pub");
      if (!force && (Files.exists(key) || Files.exists(pub))) {
        throw new AgentException(
            ErrorCode.PRECONDITION_FAILED,
            key + " or " + pub + " exists; refusing to replace a signing key (use --force)");
      }
      char[] pass = passphrase(passphraseEnv);
      KeyPair pair = Keys.generate();
      write(
          key,
          Keys.privatePem(pair.getPrivate(), pass).getBytes(StandardCharsets.US_ASCII),
          "rw-------");
      write(pub, Keys.publicPem(pair.getPublic()).getBytes(StandardCharsets.US_ASCII), "rw-r--r--");
      PrintWriter out = spec.commandLine().getOut();
      out.printf(
          "wrote %s (private, %s) and %s%nfingerprint %s%n",
          key,
          pass == null ? "unencrypted, mode 0600" : "encrypted, mode 0600",
          pub,
          Keys.fingerprint(pair.getPublic()));
      out.flush();
      return 0;
    }
  }

  @Command(
      name = "sign",
      description = {
        "Sign a payload file: writes PAYLOAD.sig (a cosign simple-signing statement of the"
            + " payload's SHA-256, signed with ECDSA P-256). Publish it next to the payload.",
        "With --image REF[@digest]: sign the image's manifest digest (the tag is resolved when"
            + " no digest is given) and push cosign's signature image to the registry at tag"
            + " sha256-<hex>.sig of the image's repository, keeping signatures already there.",
        "With --oci-digest (offline): write that signature image as an OCI layout directory to"
            + " push with e.g. skopeo."
      })
  static final class Sign implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(
        index = "0",
        arity = "0..1",
        paramLabel = "PAYLOAD",
        description = "The payload file (not with --oci-digest).")
    Path payload;

    @Option(
        names = "--image",
        paramLabel = "REF",
        description =
            "Sign this image [registry/]repository[:tag][@sha256:digest] and push the signature.")
    String image;

    @Option(names = "--insecure-registry", description = "Talk plain http to the --image registry.")
    boolean insecureRegistry;

    @Option(
        names = "--docker-config",
        paramLabel = "FILE",
        defaultValue = "${sys:user.home}/.docker/config.json",
        description = "Registry credentials (docker config.json; default: ${DEFAULT-VALUE}).")
    Path dockerConfig;

    @Option(
        names = "--oci-digest",
        paramLabel = "sha256:HEX",
        description = "Sign this OCI manifest digest (needs --oci-layout and --reference).")
    String ociDigest;

    @Option(
        names = "--reference",
        paramLabel = "REPO",
        description = "The image repository the digest is published in (informative).")
    String reference;

    @Option(
        names = "--oci-layout",
        paramLabel = "DIR",
        description = "Where to write the signature image as an OCI image layout.")
    Path ociLayout;

    @Option(
        names = "--key",
        required = true,
        paramLabel = "KEY",
        description =
            "Private key: PKCS#8 or EC PEM (kubeos image keygen, openssl) or a cosign.key.")
    Path key;

    @Option(
        names = "--passphrase-env",
        paramLabel = "VAR",
        description = "Environment variable holding the key's passphrase.")
    String passphraseEnv;

    @Option(
        names = "--version",
        paramLabel = "V",
        description = "Also sign the OS version; the agent then refuses the payload for another.")
    String version;

    @Option(
        names = {"-o", "--output"},
        paramLabel = "FILE",
        description = "Where to write the signature (default: PAYLOAD.sig).")
    Path output;

    @Option(
        names = {"-h", "--help"},
        usageHelp = true,
        description = "Show this help message and exit.")
    boolean help;

    @Override
    public Integer call() throws IOException {
      if (image != null) {
        return signImage();
      }
      if (ociDigest != null) {
        return signOci();
      }
      if (payload == null) {
        throw new AgentException(
            ErrorCode.INVALID_REQUEST, "give the PAYLOAD file to sign (or --oci-digest)");
      }
      PrivateKey privateKey = Keys.readPrivate(key, passphrase(passphraseEnv));
      Sha256 digest = sha256(payload);
      String reference = payload.getFileName().toString();
      SignedPayload signed =
          Signatures.signDigest(privateKey, digest, reference, version, reference);
      Path target =
          output != null ? output : payload.resolveSibling(payload.getFileName() + ".sig");
      write(target, DetachedSignature.render(List.of(signed)), "rw-r--r--");
      PrintWriter out = spec.commandLine().getOut();
      out.printf(
          "signed %s (%s%s) -> %s%n",
          payload, digest, version == null ? "" : ", version " + version, target);
      out.flush();
      return 0;
    }

    private int signImage() {
      if (payload != null || ociDigest != null || ociLayout != null) {
        throw new AgentException(
            ErrorCode.INVALID_REQUEST,
            "--image pushes the signature to the registry; give no PAYLOAD, --oci-digest or"
                + " --oci-layout with it");
      }
      PrivateKey privateKey = Keys.readPrivate(key, passphrase(passphraseEnv));
      ImageReference ref = ImageReference.parse(image);
      RegistryClient client =
          RegistryClient.forImage(
              ref,
              RegistryOptions.defaults().withDockerConfig(dockerConfig),
              FetchOptions.defaults().withInsecure(insecureRegistry));
      // by digest: proves the registry holds it; by tag: what the tag points at right now
      Sha256 digest =
          client.manifest(ref.repository(), ref.manifestReference()).document().digest();
      String repo = ref.registry() + "/" + ref.repository();
      SignedPayload signed =
          Signatures.signDigest(privateKey, digest, repo, version, "kubeos image sign");
      Sha256 sigManifest = RegistrySignatureSource.publish(client, ref, digest, List.of(signed));
      PrintWriter out = spec.commandLine().getOut();
      out.printf(
          "signed %s@%s%s -> %s (signature manifest %s)%n",
          repo,
          digest,
          version == null ? "" : ", version " + version,
          RegistrySignatureSource.where(ref, digest),
          sigManifest);
      out.flush();
      return 0;
    }

    private int signOci() throws IOException {
      if (payload != null || ociLayout == null || reference == null) {
        throw new AgentException(
            ErrorCode.INVALID_REQUEST,
            "--oci-digest needs --oci-layout DIR and --reference REPO, and no PAYLOAD file");
      }
      PrivateKey privateKey = Keys.readPrivate(key, passphrase(passphraseEnv));
      Sha256 digest = Sha256.parse(ociDigest);
      SignedPayload signed =
          Signatures.signDigest(privateKey, digest, reference, version, reference);
      String tag = OciLayouts.write(ociLayout, digest, SignatureManifest.build(List.of(signed)));
      PrintWriter out = spec.commandLine().getOut();
      out.printf(
          "signed %s@%s -> %s (OCI layout, tag %s); push it with%n"
              + "  skopeo copy oci:%s:%s docker://%s:%s%n",
          reference, digest, ociLayout, tag, ociLayout, tag, reference, tag);
      out.flush();
      return 0;
    }
  }

  @Command(
      name = "verify",
      description =
          "Check PAYLOAD.sig against a public key and the payload's bytes, as a node would.")
  static final class Verify implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "PAYLOAD", description = "The payload file.")
    Path payload;

    @Option(
        names = "--key",
        required = true,
        paramLabel = "PUB",
        description = "Trusted public key (PEM).")
    List<Path> keys;

    @Option(
        names = "--signature",
        paramLabel = "FILE",
        description = "The signature file (default: PAYLOAD.sig).")
    Path signature;

    @Option(
        names = "--version",
        paramLabel = "V",
        description = "The OS version the payload is staged as.")
    String version;

    @Option(
        names = {"-h", "--help"},
        usageHelp = true,
        description = "Show this help message and exit.")
    boolean help;

    @Override
    public Integer call() {
      Path sig =
          signature != null ? signature : payload.resolveSibling(payload.getFileName() + ".sig");
      byte[] bytes;
      try {
        bytes = Files.readAllBytes(sig);
      } catch (IOException e) {
        throw new AgentException(
            ErrorCode.SIGNATURE_REJECTED, "no signature file " + sig + ": " + e.getMessage());
      }
      List<TrustedKey> trusted = keys.stream().map(Keys::readPublic).toList();
      Sha256 digest = sha256(payload);
      Signatures.Verdict v =
          Signatures.verify(
              DetachedSignature.parse(bytes, sig.toString()), trusted, digest, version);
      PrintWriter out = spec.commandLine().getOut();
      if (v.accepted().isEmpty()) {
        throw new AgentException(
            ErrorCode.SIGNATURE_REJECTED,
            payload
                + " ("
                + digest
                + ") has no valid signature by "
                + String.join(", ", trusted.stream().map(TrustedKey::describe).toList())
                + ": "
                + String.join("; ", v.findings()));
      }
      out.printf(
          "%s (%s): signature by %s verified%n",
          payload, digest, v.accepted().get().key().describe());
      out.flush();
      return 0;
    }
  }
}
