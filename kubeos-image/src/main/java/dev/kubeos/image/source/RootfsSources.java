package dev.kubeos.image.source;

import dev.kubeos.image.plan.SourceSpec;

/** The {@link RootfsSource} for a plan's {@link SourceSpec}. */
public final class RootfsSources {
  private RootfsSources() {}

  public static RootfsSource of(SourceSpec spec) {
    return switch (spec.kind()) {
      case SourceSpec.DIRECTORY -> new DirectorySource(spec.path());
      case SourceSpec.DEBOOTSTRAP -> new DebootstrapSource(spec);
      default -> throw new IllegalArgumentException("unknown source " + spec.kind());
    };
  }
}
