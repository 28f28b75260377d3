package dev.kubeos.oci.model;

/**
 * What docker's {@code config.json} says about one registry's credentials.
 *
 * @param username user name, or null
 * @param password password or identity token, or null
 * @param helper name of a credential helper ({@code docker-credential-<helper>}) the file delegates
 *     to instead, or null
 * @param source where the entry came from (file and key), for messages
 */
public record RegistryCredentials(String username, String password, String helper, String source) {

  public static RegistryCredentials none(String source) {
    return new RegistryCredentials(null, null, null, source);
  }

  public boolean present() {
    return username != null && password != null;
  }

  /** Never prints the password. */
  @Override
  public String toString() {
    return present()
        ? "credentials of user '" + username + "' from " + source
        : helper != null ? "credential helper docker-credential-" + helper : "no credentials";
  }
}
