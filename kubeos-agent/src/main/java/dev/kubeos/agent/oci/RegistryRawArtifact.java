package dev.kubeos.agent.oci;

import dev.kubeos.agent.payload.FileRangeSource;
import dev.kubeos.agent.port.RawArtifact;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.BlobCache;
import dev.kubeos.oci.RegistryClient;
import dev.kubeos.oci.RegistryOptions;
import dev.kubeos.oci.RegistryRangeSource;
import dev.kubeos.oci.VerifyingInputStream;
import dev.kubeos.oci.http.ResumingInputStream;
import dev.kubeos.oci.model.Descriptor;
import dev.kubeos.oci.model.ImageReference;
import dev.kubeos.oci.model.OsArtifact;
import dev.kubeos.oci.source.PayloadSource;
import dev.kubeos.oci.source.RangeSource;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A KubeOS OS artifact in a registry. Blobs stream through the node's blob cache: a blob the cache
 * holds is read from PERSIST (re-verified), otherwise it is downloaded (resumed by Range after a
 * broken connection), its digest checked while it streams, and kept in the cache when it fits the
 * bound. Ranges come from the cached raw image when the cache holds it, else from the registry.
 */
final class RegistryRawArtifact implements RawArtifact {
  private static final System.Logger LOG = System.getLogger("kubeos.agent.oci");

  private final RegistryClient client;
  private final ImageReference ref;
  private final Sha256 manifestDigest;
  private final OsArtifact artifact;
  private final BlobCache cache;
  private final RegistryOptions options;
  private final List<ResumingInputStream> downloads = new ArrayList<>();
  private final AtomicLong direct = new AtomicLong();

  RegistryRawArtifact(
      RegistryClient client,
      ImageReference ref,
      Sha256 manifestDigest,
      OsArtifact artifact,
      BlobCache cache,
      RegistryOptions options) {
    this.client = client;
    this.ref = ref;
    this.manifestDigest = manifestDigest;
    this.artifact = artifact;
    this.cache = cache;
    this.options = options;
  }

  @Override
  public String describe() {
    return "OS artifact " + ref.registry() + "/" + ref.repository() + "@" + manifestDigest;
  }

  @Override
  public Sha256 imageSha256() {
    return artifact.image().digest();
  }

  @Override
  public long imageSize() {
    return artifact.image().size();
  }

  @Override
  public PayloadSource image() {
    Descriptor d = artifact.image();
    if (!cache.fits(d)) {
      // too large for the cache: the plain blob, resumed by the caller, digest checked by it
      return new CountingSource(client.blob(ref.repository(), d));
    }
    return new CachedBlob(d, "raw image");
  }

  @Override
  public Optional<PayloadSource> chunkIndex() {
    return artifact.chunkIndex().map(d -> new CachedBlob(d, "chunk index"));
  }

  @Override
  public RangeSource ranges() {
    Descriptor d = artifact.image();
    Path cached = cache.file(d);
    try {
      if (Files.isRegularFile(cached) && Files.size(cached) == d.size()) {
        // every fetched chunk is checked against the index, and the slot against the image digest
        LOG.log(System.Logger.Level.INFO, "raw image " + d.digest() + ": ranges from the cache");
        return new FileRangeSource(cached);
      }
    } catch (IOException e) {
      // fall back to the registry
    }
    return new RegistryRangeSource(client, ref, d);
  }

  @Override
  public long downloaded() {
    synchronized (downloads) {
      return direct.get() + downloads.stream().mapToLong(ResumingInputStream::position).sum();
    }
  }

  /** A registry blob source whose received bytes count towards {@link #downloaded()}. */
  private final class CountingSource implements PayloadSource {
    private final PayloadSource blob;

    CountingSource(PayloadSource blob) {
      this.blob = blob;
    }

    @Override
    public String describe() {
      return blob.describe();
    }

    @Override
    public boolean supportsResume() {
      return blob.supportsResume();
    }

    @Override
    public Opened open(long offset) throws IOException {
      Opened o = blob.open(offset);
      InputStream counted =
          new FilterInputStream(o.stream()) {
            @Override
            public int read() throws IOException {
              int b = super.read();
              if (b >= 0) {
                direct.incrementAndGet();
              }
              return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
              int n = super.read(b, off, len);
              if (n > 0) {
                direct.addAndGet(n);
              }
              return n;
            }
          };
      return new Opened(counted, o.totalLength());
    }
  }

  /** One blob as a payload source: the cache, or a verified, resumed download into the cache. */
  private final class CachedBlob implements PayloadSource {
    private final Descriptor blob;
    private final String what;

    CachedBlob(Descriptor blob, String what) {
      this.blob = blob;
      this.what = what;
    }

    @Override
    public String describe() {
      return what + " " + blob.digest() + " of " + RegistryRawArtifact.this.describe();
    }

    @Override
    public boolean supportsResume() {
      return false; // resumes happen inside, below the digest check and the cache
    }

    @Override
    public Opened open(long offset) throws IOException {
      if (offset != 0) {
        throw new AgentException(
            ErrorCode.DOWNLOAD_FAILED,
            describe() + ": the download failed after its resumes; retry the stage");
      }
      Optional<InputStream> cached = cache.open(blob);
      if (cached.isPresent()) {
        LOG.log(System.Logger.Level.INFO, describe() + ": from the blob cache");
        return new Opened(cached.get(), OptionalLong.of(blob.size()));
      }
      ResumingInputStream download =
          new ResumingInputStream(
              client.blob(ref.repository(), blob), options.maxResumes(), options.backoff());
      synchronized (downloads) {
        downloads.add(download);
      }
      InputStream in = download;
      if (cache.fits(blob)) {
        // the cache needs a verified stream; without it the caller checks the digest itself
        in =
            cache.storing(
                new VerifyingInputStream(
                    download, blob, describe() + " from the registry", ErrorCode.CHECKSUM_MISMATCH),
                blob);
      }
      return new Opened(in, OptionalLong.of(blob.size()));
    }
  }
}
