#!/usr/bin/env bash
# SHA-256 speed of a fresh JVM from its first byte, per JDK, side by side: each round runs every
# java once with direct buffers (as the agent's stage hashes) and once with heap arrays; prints the
# MB/s of every 256 MiB (bench/jdk/HashWarmup.java). Answers whether a JDK's JIT reaches its
# SHA-256 intrinsics late in a one-shot `kubeos agent stage`.
# Usage: bench/hash-warmup-bench.sh [ROUNDS] [MIB] [JAVA ...]
#   default javas: java on PATH and, when it exists, the agent's jlink'd runtime
#   (kubeos-cli/target/agent-runtime/bin/java); JVM flags: -XX:+UseSerialGC, as the agent's.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
mib=${2:-1024}
shift 2 || shift $# || true
javas=("$@")
if [ ${#javas[@]} -eq 0 ]; then
  javas=("$(command -v java)")
  rt=kubeos-cli/target/agent-runtime/bin/java
  if [ -x "$rt" ]; then javas+=("$rt"); fi
fi
classes=$(mktemp -d)
trap 'rm -rf "$classes"' EXIT
javac --release 17 -d "$classes" bench/jdk/HashWarmup.java
echo "load: $(cut -d' ' -f1-3 /proc/loadavg); $rounds rounds of $mib MiB, interleaved"
for ((r = 1; r <= rounds; r++)); do
  for mode in direct heap; do
    for j in "${javas[@]}"; do
      "$j" -XX:+UseSerialGC -cp "$classes" HashWarmup "$mode" "$mib"
    done
  done
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
