package dev.kubeos.testing;

import java.io.IOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;

/**
 * A throw-away PKI for TLS tests: a CA, a server certificate for 127.0.0.1/localhost (and any other
 * addresses the test names) and a client certificate, written as PEM files into a directory
 * (ca.pem, server.pem, server-key.pem, client.pem, client-key.pem).
 */
public final class TestPki {
  /** How the client private key is written. */
  public enum KeyFormat {
    /** {@code -----BEGIN RSA PRIVATE KEY-----}. */
    RSA_PKCS1,
    /** {@code -----BEGIN PRIVATE KEY-----} (RSA). */
    RSA_PKCS8,
    /** {@code -----BEGIN EC PRIVATE KEY-----} (P-256, SEC1). */
    EC
  }

  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());
  private static final char[] PW = "changeit".toCharArray();

  private final Path caCertPem;
  private final Path clientCertPem;
  private final Path clientKeyPem;
  private final SSLContext serverContext;
  private final Path serverCertPem;
  private final Path serverKeyPem;

  private TestPki(
      Path ca, Path cert, Path key, SSLContext server, Path serverCert, Path serverKey) {
    this.caCertPem = ca;
    this.clientCertPem = cert;
    this.clientKeyPem = key;
    this.serverContext = server;
    this.serverCertPem = serverCert;
    this.serverKeyPem = serverKey;
  }

  /** Generates the PKI into {@code dir} (ca.pem, client.pem, client-key.pem). */
  public static TestPki create(Path dir, KeyFormat clientKeyFormat) throws IOException {
    return create(dir, clientKeyFormat, List.of());
  }

  /**
   * As {@link #create(Path, KeyFormat)}, with {@code serverIps} in the server certificate besides
   * 127.0.0.1: the address a QEMU guest reaches the host's loopback by, for example.
   */
  public static TestPki create(Path dir, KeyFormat clientKeyFormat, List<String> serverIps)
      throws IOException {
    try {
      List<GeneralName> sans = new ArrayList<>();
      sans.add(new GeneralName(GeneralName.iPAddress, "127.0.0.1"));
      sans.add(new GeneralName(GeneralName.dNSName, "localhost"));
      for (String ip : serverIps) {
        sans.add(new GeneralName(GeneralName.iPAddress, ip));
      }
      Files.createDirectories(dir);
      KeyPair caKey = ec();
      X500Name caName = new X500Name("CN=KubeOS Test CA");
      X509Certificate ca = sign(caName, caName, caKey.getPublic(), caKey, true, null, null);
      KeyPair serverKey = ec();
      X509Certificate server =
          sign(
              caName,
              new X500Name("CN=127.0.0.1"),
              serverKey.getPublic(),
              caKey,
              false,
              KeyPurposeId.id_kp_serverAuth,
              new GeneralNames(sans.toArray(GeneralName[]::new)));
      KeyPair clientKey = clientKeyFormat == KeyFormat.EC ? ec() : rsa();
      X509Certificate client =
          sign(
              caName,
              new X500Name("CN=kubeos-agent"),
              clientKey.getPublic(),
              caKey,
              false,
              KeyPurposeId.id_kp_clientAuth,
              null);
      Path caPem = dir.resolve("ca.pem");
      Path clientPem = dir.resolve("client.pem");
      Path keyPem = dir.resolve("client-key.pem");
      pem(caPem, ca);
      pem(clientPem, client);
      Path serverPem = dir.resolve("server.pem");
      Path serverKeyPem = dir.resolve("server-key.pem");
      pem(serverPem, server);
      pem(serverKeyPem, new JcaPKCS8Generator(serverKey.getPrivate(), null));
      pem(
          keyPem,
          switch (clientKeyFormat) {
            case RSA_PKCS8 -> new JcaPKCS8Generator(clientKey.getPrivate(), null);
            case RSA_PKCS1 -> clientKey.getPrivate();
            case EC -> sec1(clientKey);
          });
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("server", serverKey.getPrivate(), PW, new Certificate[] {server, ca});
      KeyStore ts = KeyStore.getInstance("PKCS12");
      ts.load(null, null);
      ts.setCertificateEntry("ca", ca);
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, PW);
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ts);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      return new TestPki(caPem, clientPem, keyPem, ctx, serverPem, serverKeyPem);
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IOException("cannot generate test PKI: " + e, e);
    }
  }

  /** An EC key as openssl writes it: SEC1 with the curve parameters and the public point. */
  private static PemObject sec1(KeyPair kp) throws IOException {
    PrivateKeyInfo info = PrivateKeyInfo.getInstance(kp.getPrivate().getEncoded());
    SubjectPublicKeyInfo pub = SubjectPublicKeyInfo.getInstance(kp.getPublic().getEncoded());
    ECPrivateKey sec1 =
        new ECPrivateKey(
            256,
            ((java.security.interfaces.ECPrivateKey) kp.getPrivate()).getS(),
            pub.getPublicKeyData(),
            info.getPrivateKeyAlgorithm().getParameters());
    return new PemObject("EC PRIVATE KEY", sec1.getEncoded());
  }

  private static KeyPair ec() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static KeyPair rsa() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    return g.generateKeyPair();
  }

  private static X509Certificate sign(
      X500Name issuer,
      X500Name subject,
      java.security.PublicKey key,
      KeyPair issuerKey,
      boolean isCa,
      KeyPurposeId purpose,
      GeneralNames san)
      throws GeneralSecurityException, OperatorCreationException, IOException {
    Instant now = Instant.now();
    JcaX509v3CertificateBuilder b =
        new JcaX509v3CertificateBuilder(
            issuer,
            BigInteger.valueOf(SERIAL.incrementAndGet()),
            Date.from(now.minus(Duration.ofHours(1))),
            Date.from(now.plus(Duration.ofDays(2))),
            subject,
            key);
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
    if (purpose != null) {
      b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
    }
    if (san != null) {
      b.addExtension(Extension.subjectAlternativeName, false, san);
    }
    return new JcaX509CertificateConverter()
        .getCertificate(
            b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey.getPrivate())));
  }

  private static void pem(Path file, Object o) throws IOException {
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.US_ASCII);
        JcaPEMWriter pw = new JcaPEMWriter(w)) {
      pw.writeObject(o);
    }
  }

  public Path caCertPem() {
    return caCertPem;
  }

  public Path clientCertPem() {
    return clientCertPem;
  }

  public Path clientKeyPem() {
    return clientKeyPem;
  }

  /** The server certificate (127.0.0.1, localhost) as PEM, for servers started as processes. */
  public Path serverCertPem() {
    return serverCertPem;
  }

  /** The server's private key as unencrypted PKCS#8 PEM. */
  public Path serverKeyPem() {
    return serverKeyPem;
  }

  /** Server-side TLS context: the server certificate, trusting client certificates of the CA. */
  public SSLContext serverContext() {
    return serverContext;
  }
}
