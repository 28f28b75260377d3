package dev.kubeos.oci.http;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.oci.source.FetchOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/** Builds the TLS context for https payloads from PEM files. */
public final class TlsContexts {
  private TlsContexts() {}

  /** The TLS context for {@code opts} (CA certificate, client certificate and key). */
  public static SSLContext build(FetchOptions opts) {
    try {
      TrustManagerFactory tmf = null;
      if (opts.caCert() != null) {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        int i = 0;
        for (Certificate c : readCerts(opts.caCert(), "CA certificate")) {
          trust.setCertificateEntry("ca-" + i++, c);
        }
        tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
      }
      KeyManagerFactory kmf = null;
      if (opts.clientCert() != null) {
        Collection<? extends Certificate> chain =
            readCerts(opts.clientCert(), "client certificate");
        PrivateKey key = readKey(opts.clientKey());
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        char[] pw = "kubeos".toCharArray();
        ks.setKeyEntry("client", key, pw, chain.toArray(new Certificate[0]));
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pw);
      }
      if (tmf == null && kmf == null) {
        return SSLContext.getDefault();
      }
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(
          kmf == null ? null : kmf.getKeyManagers(),
          tmf == null ? null : tmf.getTrustManagers(),
          null);
      return ctx;
    } catch (GeneralSecurityException | IOException e) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST, "cannot set up TLS for payload download: " + e, e);
    }
  }

  private static Collection<? extends Certificate> readCerts(Path pem, String what)
      throws IOException, GeneralSecurityException {
    if (!Files.isReadable(pem)) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST, what + " file " + pem + " does not exist or is not readable");
    }
    try (InputStream in = Files.newInputStream(pem)) {
      Collection<? extends Certificate> certs =
          CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (certs.isEmpty()) {
        throw new AgentException(
            ErrorCode.INVALID_REQUEST, what + " file " + pem + " holds no PEM certificate");
      }
      return certs;
    }
  }

  /** Reads a PEM private key: PKCS#1 RSA, SEC1 EC ("EC PRIVATE KEY") or unencrypted PKCS#8. */
  static PrivateKey readKey(Path pem) throws IOException {
    if (!Files.isReadable(pem)) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST,
          "client key file " + pem + " does not exist or is not readable");
    }
    try (Reader r = Files.newBufferedReader(pem, StandardCharsets.US_ASCII);
        PEMParser parser = new PEMParser(r)) {
      JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
      for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
        if (o instanceof PEMKeyPair kp) {
          // an EC key written without its public part has no SubjectPublicKeyInfo
          return kp.getPublicKeyInfo() == null
              ? conv.getPrivateKey(kp.getPrivateKeyInfo())
              : conv.getKeyPair(kp).getPrivate();
        }
        if (o instanceof PrivateKeyInfo info) {
          return conv.getPrivateKey(info);
        }
      }
    }
    throw new AgentException(
        ErrorCode.INVALID_REQUEST,
        "client key file "
            + pem
            + " holds no unencrypted PEM private key (expected 'RSA PRIVATE KEY', 'EC PRIVATE KEY'"
            + " or 'PRIVATE KEY')");
  }
}
