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

cd Benchmarks
swift build --product sunshine-bench
bench="$(swift build --show-bin-path)/sunshine-bench"
built=$(date +%s)

"$bench" --tiny --sunshine "$sunshine" --json "$root/.build/bench-smoke.json"
finished=$(date +%s)
echo "bench-smoke: built in $((built - started)) s, ran every scenario in $((finished - built)) s"
