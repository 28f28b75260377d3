package dev.kubeos.formats.digest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class Sha256Test {
  private static final String HEX =
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

  @Test
  void acceptsPrefixAndAnyCaseAndStoresLowerCase() {
    Sha256 a = Sha256.parse(HEX);
    Sha256 b = Sha256.parse("SHA256:" + HEX.toUpperCase());
    assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
    assertThat(b.hex()).isEqualTo(HEX);
    assertThat(b).hasToString("sha256:" + HEX);
  }

  @Test
  void ofRawDigest() {
    byte[] d = new byte[32];
    d[0] = (byte) 0xAB;
    d[31] = 0x01;
    assertThat(Sha256.of(d).hex()).startsWith("ab00").endsWith("0001").hasSize(64);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "abc",
        "sha256:",
        "md5:" + HEX,
        HEX + "0",
        "zz00000000000000000000000000000000000000000000000000000000000000"
      })
  void refusesMalformedInputNamingIt(String bad) {
    assertThatThrownBy(() -> Sha256.parse(bad))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
              assertThat(e.getMessage()).contains("'" + bad + "'").contains("64 hex");
            });
  }
}
