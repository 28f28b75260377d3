package dev.kubeos.cli;

import dev.kubeos.formats.signing.Signatures;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Run by {@link AgentRuntimeIT} on the agent's jlink'd runtime, with the agent jar: the agent's own
 * signature check ({@link Signatures}) on a cosign-style ECDSA signature, and an HTTPS fetch from a
 * server with an EC certificate (as the registries and payload servers the agent pulls from).
 *
 * <p>Arguments: public key (X.509, base64), payload, signature, CA PEM file, URL.
 */
public final class AgentRuntimeProbe {
  private AgentRuntimeProbe() {}

  public static void main(String[] a) throws Exception {
    PublicKey key =
        KeyFactory.getInstance("EC")
            .generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(a[0])));
    System.out.println(
        "signature "
            + (Signatures.valid(key, a[1].getBytes(StandardCharsets.UTF_8), a[2])
                ? "valid"
                : "INVALID"));
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(Path.of(a[3]))) {
      trust.setCertificateEntry(
          "ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(null, tmf.getTrustManagers(), null);
    HttpResponse<String> r =
        HttpClient.newBuilder()
            .sslContext(tls)
            .build()
            .send(
                HttpRequest.newBuilder(URI.create(a[4])).build(),
                HttpResponse.BodyHandlers.ofString());
    System.out.println("https " + r.statusCode() + " " + r.body());
  }
}
