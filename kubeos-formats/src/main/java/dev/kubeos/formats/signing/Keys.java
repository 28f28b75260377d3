package dev.kubeos.formats.signing;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.trust.SignatureManifest;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;

/**
 * Signing keys: ECDSA on NIST P-256 (prime256v1 / secp256r1), as cosign uses. Public keys are PEM
 * {@code PUBLIC KEY} (SubjectPublicKeyInfo). Private keys are read from PKCS#8 ({@code PRIVATE
 * KEY}), passphrase-encrypted PKCS#8 ({@code ENCRYPTED PRIVATE KEY}), OpenSSL's {@code EC PRIVATE
 * KEY} (what {@code openssl ecparam -name prime256v1 -genkey} writes) and cosign's {@code ENCRYPTED
 * SIGSTORE PRIVATE KEY}; they are written as PKCS#8, encrypted when a passphrase is given.
 */
public final class Keys {
  private static final ASN1ObjectIdentifier P256 = SECObjectIdentifiers.secp256r1;
  private static final JcaPEMKeyConverter CONVERTER = new JcaPEMKeyConverter();

  /** For PKCS#8 encryption (AES-CBC with PKCS#7 padding); not registered globally. */
  private static final BouncyCastleProvider BC = new BouncyCastleProvider();

  /** PBKDF2-HMAC-SHA256 rounds for encrypted PKCS#8 keys written by {@code image keygen}. */
  static final int PBKDF2_ITERATIONS = 600_000;

  private Keys() {}

  /** A new P-256 key pair. */
  public static KeyPair generate() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK cannot generate P-256 keys", e);
    }
  }

  /** Reads a trusted public key file (named by its file name in messages). */
  public static TrustedKey readPublic(Path file) {
    String pem;
    try {
      pem = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      throw new AgentException(ErrorCode.INVALID_REQUEST, "public key " + file + " does not exist");
    } catch (IOException e) {
      throw new AgentException(
          ErrorCode.IO_ERROR, "cannot read public key " + file + ": " + e.getMessage(), e);
    }
    return parsePublic(pem, file.getFileName().toString(), file.toString());
  }

  /**
   * Parses a PEM {@code PUBLIC KEY} holding a P-256 key.
   *
   * @param name what the key is called in messages (its file name)
   * @param origin where it was read, for error messages
   */
  public static TrustedKey parsePublic(String pem, String name, String origin) {
    Object o;
    try (PEMParser p = new PEMParser(new StringReader(pem))) {
      o = p.readObject();
    } catch (IOException | RuntimeException e) {
      throw badKey(origin, "it is not a PEM file (" + e.getMessage() + ")");
    }
    if (!(o instanceof SubjectPublicKeyInfo spki)) {
      throw badKey(
          origin,
          o == null
              ? "it holds no PEM block"
              : "it holds a "
                  + o.getClass().getSimpleName()
                  + ", expected a '-----BEGIN PUBLIC KEY-----' block (a private key is never"
                  + " trusted; give the .pub file)");
    }
    requireP256(spki.getAlgorithm(), origin);
    try {
      PublicKey key = CONVERTER.getPublicKey(spki);
      return new TrustedKey(name, SignatureManifest.digest(spki.getEncoded()), key);
    } catch (IOException | RuntimeException e) {
      throw badKey(origin, "its key cannot be decoded (" + e.getMessage() + ")");
    }
  }

  /** {@code sha256:<hex>} of the key's DER SubjectPublicKeyInfo. */
  public static String fingerprint(PublicKey key) {
    return SignatureManifest.digest(key.getEncoded());
  }

  /**
   * Reads a private signing key.
   *
   * @param passphrase for encrypted keys; null when none was given
   */
  public static PrivateKey readPrivate(Path file, char[] passphrase) {
    String pem;
    try {
      pem = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST, "private key " + file + " does not exist");
    } catch (IOException e) {
      throw new AgentException(
          ErrorCode.IO_ERROR, "cannot read private key " + file + ": " + e.getMessage(), e);
    }
    return parsePrivate(pem, passphrase, file.toString());
  }

  /** Parses a private key PEM (see the class comment for the accepted forms). */
  public static PrivateKey parsePrivate(String pem, char[] passphrase, String origin) {
    PrivateKeyInfo info = null;
    try (PemReader raw = new PemReader(new StringReader(pem))) {
      PemObject first = raw.readPemObject();
      if (first != null && first.getType().matches("ENCRYPTED (SIGSTORE|COSIGN) PRIVATE KEY")) {
        byte[] der = CosignEncryptedKey.decrypt(first.getContent(), orEmpty(passphrase), origin);
        info = PrivateKeyInfo.getInstance(der);
      }
    } catch (IOException | IllegalArgumentException e) {
      throw badKey(origin, "it is not a PEM file (" + e.getMessage() + ")");
    }
    if (info == null) {
      info = pemPrivateKeyInfo(pem, passphrase, origin);
    }
    requireP256(info.getPrivateKeyAlgorithm(), origin);
    try {
      return CONVERTER.getPrivateKey(info);
    } catch (IOException | RuntimeException e) {
      throw badKey(origin, "its key cannot be decoded (" + e.getMessage() + ")");
    }
  }

  private static PrivateKeyInfo pemPrivateKeyInfo(String pem, char[] passphrase, String origin) {
    try (PEMParser p = new PEMParser(new StringReader(pem))) {
      for (Object o = p.readObject(); o != null; o = p.readObject()) {
        if (o instanceof PrivateKeyInfo info) {
          return info;
        }
        if (o instanceof PEMKeyPair pair) {
          return pair.getPrivateKeyInfo();
        }
        if (o instanceof PKCS8EncryptedPrivateKeyInfo enc) {
          if (passphrase == null) {
            throw new AgentException(
                ErrorCode.INVALID_REQUEST,
                "private key "
                    + origin
                    + " is encrypted: give its passphrase in the environment variable named by"
                    + " --passphrase-env");
          }
          try {
            return enc.decryptPrivateKeyInfo(
                new JceOpenSSLPKCS8DecryptorProviderBuilder().setProvider(BC).build(passphrase));
          } catch (PKCSException | OperatorCreationException e) {
            throw new AgentException(
                ErrorCode.INVALID_REQUEST,
                "cannot decrypt private key " + origin + ": wrong passphrase or damaged file");
          }
        }
        if (o instanceof SubjectPublicKeyInfo) {
          throw badKey(origin, "it is a public key; signing needs the private key");
        }
        // EC PARAMETERS (openssl ecparam -genkey writes them first) and others: skip
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof AgentException ae) {
        throw ae;
      }
      throw badKey(origin, "it is not a PEM file (" + e.getMessage() + ")");
    }
    throw badKey(
        origin,
        "it holds no private key (expected PRIVATE KEY, ENCRYPTED PRIVATE KEY, EC PRIVATE KEY or"
            + " ENCRYPTED SIGSTORE PRIVATE KEY)");
  }

  /** PEM {@code PUBLIC KEY} text. */
  public static String publicPem(PublicKey key) {
    return pem(key);
  }

  /**
   * PEM PKCS#8 text of a private key: {@code PRIVATE KEY}, or with a non-empty passphrase {@code
   * ENCRYPTED PRIVATE KEY} (PBES2: PBKDF2-HMAC-SHA256, AES-256-CBC), which openssl reads too.
   */
  public static String privatePem(PrivateKey key, char[] passphrase) {
    try {
      if (passphrase == null || passphrase.length == 0) {
        return pem(new JcaPKCS8Generator(key, null));
      }
      JceOpenSSLPKCS8EncryptorBuilder enc =
          new JceOpenSSLPKCS8EncryptorBuilder(JcaPKCS8Generator.AES_256_CBC)
              .setProvider(BC)
              .setPRF(JcaPKCS8Generator.PRF_HMACSHA256)
              .setIterationCount(PBKDF2_ITERATIONS)
              .setPassword(passphrase);
      return pem(new JcaPKCS8Generator(key, enc.build()));
    } catch (OperatorCreationException | IOException e) {
      throw new IllegalStateException("cannot encode the private key: " + e.getMessage(), e);
    }
  }

  private static String pem(Object o) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(o);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toString();
  }

  private static void requireP256(AlgorithmIdentifier alg, String origin) {
    if (!X9ObjectIdentifiers.id_ecPublicKey.equals(alg.getAlgorithm())) {
      throw badKey(
          origin,
          "it is not an EC key (algorithm "
              + alg.getAlgorithm()
              + "); KubeOS signatures are ECDSA P-256 like cosign's: make one with 'kubeos image"
              + " keygen' or 'openssl ecparam -name prime256v1 -genkey'");
    }
    Object params = alg.getParameters();
    if (!(params instanceof ASN1ObjectIdentifier curve) || !P256.equals(curve)) {
      String name =
          params instanceof ASN1ObjectIdentifier c
              ? String.valueOf(ECNamedCurveTable.getName(c)) + " (" + c + ")"
              : "explicit curve parameters";
      throw badKey(
          origin,
          "it is an EC key on "
              + name
              + "; KubeOS signatures use ECDSA P-256 (prime256v1 / secp256r1) like cosign's");
    }
  }

  private static char[] orEmpty(char[] c) {
    return c == null ? new char[0] : c;
  }

  private static AgentException badKey(String origin, String why) {
    return new AgentException(ErrorCode.INVALID_REQUEST, "key " + origin + " is unusable: " + why);
  }
}
