#!/usr/bin/env bash
# Builds the benchmark package (Benchmarks/) and runs every scenario once at a tiny size, failing if
# any scenario errors. Timings at this size mean nothing and are not checked; docs/benchmarks.md
# says how to run the real thing (`swift run -c release sunshine-bench` in Benchmarks/).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
started=$(date +%s)

# The clerk's command comes from the root build the tests made (or one made here).
sunshine="$root/.build/debug/sunshine"
if [ ! -x "$sunshine" ]; then
    swift build --product sunshine
fi

# The root's build directory, so that every dependency the tests already compiled (NIO, NIOSSL's
# BoringSSL, GRDB, crypto, certificates) and Sunshine's own modules are reused: only grpc-swift and
# its HTTP/2 transport are compiled here. Benchmarks/Package.resolved stays the package's own; a
# later root build re-resolves its own graph in a few seconds.
cd Benchmarks
swift build --scratch-path "$root/.build" --product sunshine-bench
bench="$(swift build --scratch-path "$root/.build" --show-bin-path)/sunshine-bench"
built=$(date +%s)

"$bench" --tiny --sunshine "$sunshine" --json "$root/.build/bench-smoke.json"
finished=$(date +%s)
echo "bench-smoke: built in $((built - started)) s, ran every scenario in $((finished - built)) s"
