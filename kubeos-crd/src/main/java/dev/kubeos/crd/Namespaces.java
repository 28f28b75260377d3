package dev.kubeos.crd;

/** The namespace every unnamed one defaults to, as upstream KubeOS. */
public final class Namespaces {
  /** Upstream's namespace of the OSInstances and of objects read without one: {@code default}. */
  public static final String DEFAULT = "default";

  private Namespaces() {}

  /** {@code namespace}, or {@link #DEFAULT} when it is null or blank. */
  public static String orDefault(String namespace) {
    return namespace == null || namespace.isBlank() ? DEFAULT : namespace;
  }
}
