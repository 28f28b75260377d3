package dev.kubeos.rpc;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * A bounded fuzz run of the RPC parser and dispatcher: random bytes, and random JSON shaped like
 * requests, never escape as an exception; each gets a JSON-RPC error or result (or nothing, for a
 * notification). Runs in a few seconds in the default tier.
 */
class RpcParserFuzzTest {
  private static final List<String> METHODS =
      List.of("status", "prepare_upgrade", "configure", "upgrade", "rollback", "commit", "", "x");

  // operations whose effects are harmless: every call returns at once
  private final FakeOperations ops = new FakeOperations();
  private final RpcDispatcher dispatcher = new RpcDispatcher(ops);

  {
    ops.release.countDown();
  }

  @Property(tries = 1500)
  void randomBytesGetAnErrorNeverAnException(@ForAll("bytes") byte[] request) {
    JsonNode response = dispatcher.handle(request);
    if (response == null) {
      // a notification (a request object without "id"): it must have been well-formed JSON
      assertThat(isJson(request)).as(new String(request, UTF_8)).isTrue();
      return;
    }
    assertWellFormed(response, true);
  }

  @Property(tries = 1500)
  void randomRequestsGetAnErrorOrAResult(@ForAll("requests") String request) {
    assertWellFormed(dispatcher.handle(request.getBytes(UTF_8)), false);
  }

  private boolean isJson(byte[] bytes) {
    try {
      dispatcher.mapper().readTree(bytes);
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  private static void assertWellFormed(JsonNode response, boolean mustAnswer) {
    if (response == null) {
      assertThat(mustAnswer).as("only a notification goes unanswered").isFalse();
      return;
    }
    if (response.isArray()) {
      assertThat(response).isNotEmpty();
      response.forEach(r -> assertWellFormed(r, true));
      return;
    }
    assertThat(response.path("jsonrpc").asText()).isEqualTo("2.0");
    assertThat(response.has("result") ^ response.has("error")).as(response.toString()).isTrue();
    if (response.has("error")) {
      assertThat(response.at("/error/code").isInt()).isTrue();
      assertThat(response.at("/error/message").asText()).isNotBlank();
    }
  }

  @Provide
  Arbitrary<byte[]> bytes() {
    return Arbitraries.oneOf(
        Arbitraries.bytes().array(byte[].class).ofMaxSize(200),
        Arbitraries.strings()
            .withChars("{}[]\":,0123456789.eE+-truefalsn \\u")
            .ofMaxLength(120)
            .map(s -> s.getBytes(UTF_8)));
  }

  @Provide
  Arbitrary<String> requests() {
    Arbitrary<String> scalar =
        Arbitraries.oneOf(
            Arbitraries.integers().map(String::valueOf),
            Arbitraries.strings().alpha().ofMaxLength(8).map(s -> "\"" + s + "\""),
            Arbitraries.of("null", "true", "false", "[]", "{}", "[{}]", "1e999", "-0.5"));
    Arbitrary<String> method =
        Arbitraries.oneOf(Arbitraries.of(METHODS).map(m -> "\"" + m + "\""), scalar);
    Arbitrary<String> params =
        Arbitraries.oneOf(
            scalar,
            Arbitraries.of(
                "[{\"version\":\"v2\",\"image_url\":\"file:///etc/shadow\",\"check_sum\":1}]",
                "[{\"version\":[]}]",
                "[{\"sysconfigs\":{}}]",
                "[{},{}]",
                "[[[]]]"));
    Arbitrary<String> member =
        Arbitraries.oneOf(
            method.map(m -> "\"method\":" + m),
            params.map(p -> "\"params\":" + p),
            scalar.map(i -> "\"id\":" + i),
            Arbitraries.of("\"jsonrpc\":\"2.0\"", "\"jsonrpc\":\"1.0\"", "\"jsonrpc\":2"));
    Arbitrary<String> object = member.list().ofMaxSize(5).map(m -> "{" + String.join(",", m) + "}");
    return Arbitraries.oneOf(
        object,
        object.list().ofMinSize(0).ofMaxSize(20).map(l -> "[" + String.join(",", l) + "]"),
        Combinators.combine(object, Arbitraries.integers().between(1, 40))
            .as((o, cut) -> o.substring(0, Math.min(cut, o.length()))));
  }
}
