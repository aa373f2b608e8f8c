#!/usr/bin/env bash
# Fuzzes the profile reader (and the reports over what it reads) with
# libFuzzer and AddressSanitizer: Scripts/fuzz-profile.sh [RUNS] (default 1,000,000).
# Seeds: real profiles written by heapmonitor-bench (one complete, one killed,
# one holding a heap graph),
# each behind a first byte that says whether to verify checksums (0: no).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-1000000}"
work="$root/.build-fuzz"
mkdir -p "$work/corpus"

swift build --package-path "$root" --scratch-path "$root/.build" --product heapmonitor-bench >/dev/null
bench="$root/.build/debug/heapmonitor-bench"
"$bench" profile --objects 40 --snapshots 4 --keep "$work/corpus/complete.hmprof" >/dev/null
"$bench" profile --objects 25 --snapshots 3 --kill-after 2 --keep "$work/corpus/killed.hmprof" >/dev/null 2>&1 || true
"$bench" graph --objects 30 --repetitions 1 --keep "$work/corpus/graph.hmprof" >/dev/null
for seed in complete killed graph; do
    for mode in 0 1; do
        { printf "\\x0$mode"; cat "$work/corpus/$seed.hmprof"; } > "$work/corpus/$seed-$mode.seed"
    done
    rm "$work/corpus/$seed.hmprof"
done

cd "$root/Fuzz/ProfileReader"
swift build -c release --scratch-path "$work/build" -Xswiftc -sanitize=fuzzer,address >/dev/null
"$work/build/release/ProfileReaderFuzz" -runs="$runs" -max_len=4096 -timeout=10 -print_final_stats=1 "$work/corpus" 2>&1 | grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|^Done|stat::number_of_executed_units|ERROR|SUMMARY"
