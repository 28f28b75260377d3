package dev.kubeos.oci;

import dev.kubeos.oci.RegistryClient.BlobWriter;
import dev.kubeos.oci.http.HttpTransport.RequestBody;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Request bodies that can be sent again (after an auth challenge): bytes, a file, a writer. */
final class RequestBodies {
  private RequestBodies() {}

  static final RequestBody EMPTY = of(new byte[0]);

  static RequestBody of(byte[] bytes) {
    return new RequestBody() {
      @Override
      public long length() {
        return bytes.length;
      }

      @Override
      public void writeTo(OutputStream out) throws IOException {
        out.write(bytes);
      }
    };
  }

  static RequestBody of(Path file) {
    return new RequestBody() {
      @Override
      public long length() throws IOException {
        return Files.size(file);
      }

      @Override
      public void writeTo(OutputStream out) throws IOException {
        Files.copy(file, out);
      }
    };
  }

  static RequestBody of(long length, BlobWriter writer) {
    return new RequestBody() {
      @Override
      public long length() {
        return length;
      }

      @Override
      public void writeTo(OutputStream out) throws IOException {
        writer.writeTo(out);
      }
    };
  }
}
