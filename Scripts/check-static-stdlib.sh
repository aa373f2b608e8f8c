#!/usr/bin/env bash
# A -static-stdlib executable has no GOT entries for the runtime: tracking must
# fail with the documented message, and work once linked with --wrap.
set -euo pipefail
cd "$(dirname "$0")/../Examples/StaticTracking"
wraps=()
for symbol in swift_allocObject swift_deallocClassInstance swift_deallocPartialClassInstance swift_deallocObject swift_initStackObject; do
    wraps+=(-Xlinker "--wrap=$symbol")
done

swift build --static-swift-stdlib --scratch-path .build-static >/dev/null
plain=$(.build-static/debug/StaticTracking)
echo "static, not wrapped: $plain"
[[ "$plain" == *"linked statically (-static-stdlib)"*"--wrap=swift_allocObject"* ]] || { echo "FAIL: no static-stdlib message"; exit 1; }
# Without hooks a census is a walk of the heap (forked).
[[ "$plain" == *"census by heap walk: 25 items"* ]] || { echo "FAIL: no census without the wraps"; exit 1; }

swift build --static-swift-stdlib "${wraps[@]}" --scratch-path .build-static-wrapped >/dev/null
wrapped=$(.build-static-wrapped/debug/StaticTracking)
echo "static, wrapped:     $wrapped"
[[ "$wrapped" == "tracked 100 alive 60 kept 60" ]] || { echo "FAIL: wrapped build does not track"; exit 1; }


# The production recipe (the wraps in the manifest, not the command line),
# built as the server templates build: sizes within 1 % of jemalloc's own
# count, exact tracked counts.
swift build -c release --static-swift-stdlib -Xlinker -ljemalloc --product ProductionTracking \
    --scratch-path .build-production >/dev/null
production=$(.build-production/release/ProductionTracking)
echo "production recipe:   $production"
read -r deep allocated <<<"$(sed -E 's/.* deep ([0-9]+) allocated ([0-9]+) .*/\1 \2/' <<<"$production")"
[[ "$production" == "allocator jemalloc "*"orders 1000 alive 600 lines 3000 alive 1800 kept 20600" ]] \
    && (( deep * 100 >= allocated * 99 && deep * 100 <= allocated * 101 )) \
    || { echo "FAIL: the production build does not size or track as it should"; exit 1; }

# heapmonitor run refuses a static-stdlib program (there is nothing to preload
# into) with one line saying what works instead.
swiftc -swift-version 6 -static-stdlib ../PlainHost/main.swift -o .build-static/plainhost-static
refusal=$(../../.build/debug/heapmonitor run -- .build-static/plainhost-static work 2>&1 || true)
echo "run, static:         $refusal"
[[ "$refusal" == *"does not load libswiftCore.so"*"link HeapMonitor into it"* ]] || { echo "FAIL: run accepted it"; exit 1; }
echo "heapmonitor run static check passed"
