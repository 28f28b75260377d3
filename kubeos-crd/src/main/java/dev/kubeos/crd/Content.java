package dev.kubeos.crd;

import io.fabric8.crd.generator.annotation.PreserveUnknownFields;

/**
 * One setting of a {@link SysConfig}: a key, its value (any JSON: string, number, object), and an
 * optional operation such as {@code delete} (meaning depends on the model, as upstream).
 */
public class Content {
  private String key;

  @PreserveUnknownFields private Object value;

  private String operation;

  public Content() {}

  public Content(String key, Object value, String operation) {
    this.key = key;
    this.value = value;
    this.operation = operation;
  }

  public String getKey() {
    return key;
  }

  public void setKey(String key) {
    this.key = key;
  }

  public Object getValue() {
    return value;
  }

  public void setValue(Object value) {
    this.value = value;
  }

  public String getOperation() {
    return operation;
  }

  public void setOperation(String operation) {
    this.operation = operation;
  }
}
