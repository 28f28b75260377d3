package dev.kubeos.agent.oci;

import dev.kubeos.agent.port.TarPayload;
import dev.kubeos.agent.stage.SafeTarExtractor;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.BlobCache;
import dev.kubeos.oci.RegistryClient;
import dev.kubeos.oci.RegistryOptions;
import dev.kubeos.oci.VerifyingInputStream;
import dev.kubeos.oci.http.ResumingInputStream;
import dev.kubeos.oci.model.Descriptor;
import dev.kubeos.oci.model.ImageReference;
import dev.kubeos.oci.source.DamagedCacheException;
import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * The {@code /os.tar} inside an image's layers, streamed: layers are read top-most first (a lower
 * layer cannot change a file an upper one holds), each through the blob cache or from the registry
 * with its digest verified; the {@code os.tar} entry is handed out as it streams past, and {@link
 * #verify()} reads the rest of its layer so that the layer digest is checked before the slot is
 * written. Layers below the one holding {@code os.tar} are not fetched.
 */
final class OsTarPayload implements TarPayload {
  private static final System.Logger LOG = System.getLogger("kubeos.agent.oci");

  private final RegistryClient client;
  private final ImageReference ref;
  private final List<Descriptor> layers;
  private final Sha256 manifestDigest;
  private final BlobCache cache;
  private final RegistryOptions options;
  private final List<ResumingInputStream> downloads = new ArrayList<>();
  private long cachedBytes;
  private Descriptor layer;
  private VerifyingInputStream raw;
  private InputStream bufferedRaw;
  private TarArchiveInputStream tar;
  private long osTarSize = -1;

  OsTarPayload(
      RegistryClient client,
      ImageReference ref,
      List<Descriptor> layers,
      Sha256 manifestDigest,
      BlobCache cache,
      RegistryOptions options) {
    this.client = client;
    this.ref = ref;
    this.layers = layers;
    this.manifestDigest = manifestDigest;
    this.cache = cache;
    this.options = options;
  }

  @Override
  public String describe() {
    return "image " + ref + "@" + manifestDigest + " (/os.tar)";
  }

  @Override
  public InputStream open() throws IOException {
    for (int i = layers.size() - 1; i >= 0; i--) {
      openLayer(layers.get(i));
      boolean deleted = false;
      for (TarArchiveEntry e = next(); e != null; e = next()) {
        String name = normalize(e.getName());
        if (name.equals("os.tar")) {
          if (!e.isFile()) {
            throw new AgentException(
                ErrorCode.PAYLOAD_INVALID,
                "/os.tar in layer " + layer.digest() + " of " + ref + " is not a regular file");
          }
          osTarSize = e.getSize();
          LOG.log(
              System.Logger.Level.INFO,
              "image " + ref + ": /os.tar (" + osTarSize + " bytes) in layer " + layer.digest());
          return new FilterInputStream(tar) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
              try {
                return super.read(b, off, len);
              } catch (IOException ex) {
                throw unreadable(ex);
              }
            }

            @Override
            public long skip(long n) throws IOException {
              try {
                return super.skip(n);
              } catch (IOException ex) {
                throw unreadable(ex);
              }
            }

            @Override
            public void close() {
              // the layer stays open: verify() reads the rest of it
            }
          };
        }
        if (name.equals(".wh.os.tar") || name.equals(".wh..wh..opq")) {
          deleted = true;
        }
      }
      finishLayer();
      if (deleted) {
        throw new AgentException(
            ErrorCode.PAYLOAD_INVALID,
            "layer " + layer.digest() + " of " + ref + " deletes /os.tar; the image holds no OS");
      }
    }
    throw new AgentException(
        ErrorCode.PAYLOAD_INVALID,
        "image "
            + ref
            + " holds no /os.tar in its "
            + layers.size()
            + " layer(s); an OS image is built FROM scratch with 'COPY os.tar /'");
  }

  private TarArchiveEntry next() {
    try {
      return tar.getNextEntry();
    } catch (IOException e) {
      throw unreadable(e);
    }
  }

  private void openLayer(Descriptor d) throws IOException {
    layer = d;
    Optional<InputStream> cached = cache.open(d);
    InputStream source;
    if (cached.isPresent()) {
      source = cached.get();
      cachedBytes += d.size();
      LOG.log(System.Logger.Level.INFO, "layer " + d.digest() + ": from the blob cache");
      raw = (VerifyingInputStream) source;
      bufferedRaw = new BufferedInputStream(raw, 64 << 10);
    } else {
      ResumingInputStream download =
          new ResumingInputStream(
              client.blob(ref.repository(), d), options.maxResumes(), options.backoff());
      downloads.add(download);
      raw =
          new VerifyingInputStream(
              download, d, "layer of " + ref + " from the registry", ErrorCode.CHECKSUM_MISMATCH);
      bufferedRaw = new BufferedInputStream(cache.storing(raw, d), 64 << 10);
    }
    InputStream content = SafeTarExtractor.gunzipIfGzip(bufferedRaw);
    tar = new TarArchiveInputStream(content, "UTF-8");
  }

  /**
   * A layer that does not read as tar(+gzip). Network failures arrive as AgentException
   * (DOWNLOAD_FAILED) and digest failures as CHECKSUM_MISMATCH, so an IOException here is the
   * content's format (or the cache file's disk).
   */
  private AgentException unreadable(IOException e) {
    AgentException damaged = damaged();
    if (damaged != null) {
      return damaged;
    }
    return new AgentException(
        ErrorCode.PAYLOAD_INVALID,
        "layer " + layer.digest() + " of " + ref + " does not read as tar or tar+gzip: " + e,
        e);
  }

  /**
   * Whether a layer that does not decode is damaged rather than malformed: a flipped bit in a gzip
   * layer fails the decoder before the digest is checked at the layer's end, so the rest is read
   * for the digest's verdict (a registry's copy that does not match, or a damaged cache file, which
   * the stage then fetches again).
   */
  private AgentException damaged() {
    try {
      raw.transferTo(OutputStream.nullOutputStream());
      return null;
    } catch (AgentException ae) {
      return ae.code() == ErrorCode.CHECKSUM_MISMATCH || ae instanceof DamagedCacheException
          ? ae
          : null;
    } catch (IOException | RuntimeException x) {
      return null;
    }
  }

  /** Reads the current layer to its end, which verifies (and caches) it. */
  private void finishLayer() throws IOException {
    try {
      tar.transferTo(OutputStream.nullOutputStream());
      while (tar.getNextEntry() != null) {
        // rest of the layer
      }
    } catch (IOException e) {
      throw unreadable(e);
    }
    bufferedRaw.transferTo(OutputStream.nullOutputStream());
    if (!raw.verified()) {
      throw new AgentException(
          ErrorCode.INTERNAL, "layer " + layer.digest() + " ended without its digest checked");
    }
    tar.close();
    tar = null;
  }

  @Override
  public long length() {
    return osTarSize;
  }

  @Override
  public Sha256 verify() throws IOException {
    try {
      tar.transferTo(
          OutputStream.nullOutputStream()); // the rest of os.tar, if the extractor left any
    } catch (IOException e) {
      throw unreadable(e);
    }
    for (TarArchiveEntry e = next(); e != null; e = next()) {
      if (normalize(e.getName()).equals("os.tar")) {
        throw new AgentException(
            ErrorCode.PAYLOAD_INVALID,
            "layer " + layer.digest() + " of " + ref + " holds /os.tar twice");
      }
    }
    finishLayer();
    LOG.log(
        System.Logger.Level.INFO,
        "image "
            + ref
            + ": layers verified ("
            + downloaded()
            + " bytes downloaded, "
            + cachedBytes
            + " from the blob cache)");
    return manifestDigest;
  }

  /** Layer bytes received from the registry. */
  long downloaded() {
    return downloads.stream().mapToLong(ResumingInputStream::position).sum();
  }

  @Override
  public long bytes() {
    return downloaded() + cachedBytes;
  }

  @Override
  public int resumes() {
    return downloads.stream().mapToInt(ResumingInputStream::resumes).sum();
  }

  @Override
  public void close() throws IOException {
    if (tar != null) {
      tar.close();
    }
  }

  private static String normalize(String name) {
    String n = name;
    while (n.startsWith("/") || n.startsWith("./")) {
      n = n.startsWith("/") ? n.substring(1) : n.substring(2);
    }
    return n;
  }
}
