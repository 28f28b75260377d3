package dev.kubeos.crd;

/** Name and namespace of the {@link OS} an {@link OSInstance} currently works for. */
public class NamespacedName {
  private String name;
  private String namespace;

  public NamespacedName() {}

  public NamespacedName(String name, String namespace) {
    this.name = name;
    this.namespace = namespace;
  }

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public String getNamespace() {
    return namespace;
  }

  public void setNamespace(String namespace) {
    this.namespace = namespace;
  }
}
