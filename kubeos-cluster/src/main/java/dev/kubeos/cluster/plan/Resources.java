package dev.kubeos.cluster.plan;

/** CPU (millicores) and memory (bytes), as requested by pods or allocatable on nodes. */
public record Resources(long cpuMillis, long memoryBytes) {
  public static final Resources ZERO = new Resources(0, 0);

  public Resources plus(Resources o) {
    return new Resources(cpuMillis + o.cpuMillis, memoryBytes + o.memoryBytes);
  }

  public Resources minus(Resources o) {
    return new Resources(cpuMillis - o.cpuMillis, memoryBytes - o.memoryBytes);
  }

  /** Whether {@code o} fits into this headroom. */
  public boolean holds(Resources o) {
    return o.cpuMillis <= cpuMillis && o.memoryBytes <= memoryBytes;
  }

  @Override
  public String toString() {
    return "cpu " + cpuMillis + "m, memory " + (memoryBytes >> 20) + "Mi";
  }
}
