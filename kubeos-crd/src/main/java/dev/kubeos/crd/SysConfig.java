package dev.kubeos.crd;

import java.util.ArrayList;
import java.util.List;

/**
 * Settings of one configuration model ({@code kernel.sysctl}, {@code kernel.sysctl.persist}, {@code
 * grub.cmdline.current}, {@code grub.cmdline.next}, {@code kubernetes.kubelet}, ...), optionally
 * written to {@code configpath}.
 */
public class SysConfig {
  private String model;
  private String configpath;
  private List<Content> contents = new ArrayList<>();

  public String getModel() {
    return model;
  }

  public void setModel(String model) {
    this.model = model;
  }

  public String getConfigpath() {
    return configpath;
  }

  public void setConfigpath(String configpath) {
    this.configpath = configpath;
  }

  public List<Content> getContents() {
    return contents;
  }

  public void setContents(List<Content> contents) {
    this.contents = contents == null ? new ArrayList<>() : contents;
  }
}
