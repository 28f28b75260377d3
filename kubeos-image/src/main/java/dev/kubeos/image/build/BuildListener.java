package dev.kubeos.image.build;

/** Receives {@link BuildEvent}s as the build runs (the CLI prints them). */
@FunctionalInterface
public interface BuildListener {
  void on(BuildEvent event);
}
