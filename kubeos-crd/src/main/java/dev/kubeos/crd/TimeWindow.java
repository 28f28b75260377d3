package dev.kubeos.crd;

import io.fabric8.generator.annotation.Pattern;
import java.util.Objects;

/**
 * When new nodes may be started ({@code spec.timewindow}). Both ends use the same one of upstream's
 * two formats: {@code HH:MM:SS} (every day; an end before the start crosses midnight) or {@code
 * YYYY-MM-DD HH:MM:SS} (once). Both empty: no restriction.
 */
public class TimeWindow {
  static final String FORMAT =
      "^$|^\\d{2}:\\d{2}:\\d{2}$|^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}$";

  @Pattern(FORMAT)
  private String starttime;

  @Pattern(FORMAT)
  private String endtime;

  public TimeWindow() {}

  public TimeWindow(String starttime, String endtime) {
    this.starttime = starttime;
    this.endtime = endtime;
  }

  public String getStarttime() {
    return starttime;
  }

  public void setStarttime(String starttime) {
    this.starttime = starttime;
  }

  public String getEndtime() {
    return endtime;
  }

  public void setEndtime(String endtime) {
    this.endtime = endtime;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TimeWindow
        && Objects.equals(starttime, ((TimeWindow) o).starttime)
        && Objects.equals(endtime, ((TimeWindow) o).endtime);
  }

  @Override
  public int hashCode() {
    return Objects.hash(starttime, endtime);
  }
}
