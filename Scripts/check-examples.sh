#!/usr/bin/env bash
# The README's monitored servers (Examples/ServerCorpus: HummingbirdExample,
# VaporExample), run as a user would: with HEAPMONITOR="--debug=heapmonitor
# --debug=control", 50 sessions opened over HTTP, then asked from outside by
# the CLI (census, status, top, retainers, leaks), their Prometheus heap
# gauges scraped, and stopped by SIGTERM: each must exit 0 and print the
# monitor's report. HummingbirdExample is checked a second time built as
# production servers are (--static-swift-stdlib -Xlinker -ljemalloc, the
# wraps in its manifest): the same answers, jemalloc named as the allocator.
# PlainHummingbird, which does not link HeapMonitor, is run under
# `heapmonitor run` and asked the same way; and again with nothing tracked,
# where the first census walks its heap for the objects made before it.
# Usage: check-examples.sh [--no-build]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/Examples/ServerCorpus"
[[ ${1:-} == --no-build ]] || swift build --scratch-path .build-corpus >/dev/null
swift build --package-path "$root" --product heapmonitor >/dev/null
heapmonitor="$(swift build --package-path "$root" --show-bin-path)/heapmonitor"
work=$(mktemp -d)
server=
trap '[[ -n $server ]] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
export XDG_RUNTIME_DIR=$work
# The production build, in a scratch folder of its own (every package is
# rebuilt against the static runtime); its log only when it fails.
swift build --static-swift-stdlib -Xlinker -ljemalloc --product HummingbirdExample \
    --scratch-path .build-corpus-static >"$work/build" 2>&1 || { tail -30 "$work/build"; exit 1; }

fail() {
    echo "FAIL ($example): $1"
    # A trap's message, then the thread that crashed (a report names all).
    grep -m1 'Fatal error' "$work/err" || true
    grep -q 'crashed:$' "$work/err" && grep -A40 'crashed:$' "$work/err" || tail -20 "$work/err"
    exit 1
}

# Sets port from the server's "listening on" line, waiting up to 30 s.
wait_for_port() {
    port=
    for _ in $(seq 300); do
        port=$(grep -oE '\] listening on [0-9]+' "$work/err" | grep -oE '[0-9]+$' || true)
        [[ -n $port ]] && return
        kill -0 "$server" 2>/dev/null || break
        sleep 0.1
    done
    fail "the server did not start"
}

check() {
    example=$1
    local binary=$2 allocator=$3
    HEAPMONITOR="--debug=heapmonitor --debug=control" PORT=0 "$binary" >"$work/out" 2>"$work/err" &
    server=$!
    wait_for_port
    curl -sf "http://127.0.0.1:$port/login?[1-50]" -o /dev/null || fail "a login failed"

    census=$("$heapmonitor" census "$server" --json --limit 0) || fail "census: $census"
    sessions=$(python3 -c 'import json,sys
print(sum(e["liveCount"] for e in json.load(sys.stdin)["entries"] if e["className"] == sys.argv[1]))' \
        "$example.Session" <<<"$census")
    ((sessions == 50)) || fail "the census counted $sessions sessions, not 50"
    "$heapmonitor" status "$server" >"$work/status" || fail "status failed"
    grep -q "tracked: 50 live objects" "$work/status" || fail "status: not 50 tracked"
    grep -q "allocator in use .* ($allocator)" "$work/status" || fail "status: $(head -2 "$work/status")"
    "$heapmonitor" top "$server" --iterations 2 --interval 0.2 --sort count >"$work/top" || fail "top failed"
    grep -q "$example.Session" "$work/top" || fail "top did not list the sessions"
    # Who holds them: the store's dictionary behind its Mutex, named from
    # its global, in a heap graph taken while the server runs.
    retainers=$("$heapmonitor" retainers "$server" --class Session) || fail "retainers: $retainers"
    grep -q "^50 of 50 Session (retaining .*) kept by $example.SessionStore.shared → sessions\[…\]$" \
        <<<"$retainers" || fail "retainers: $retainers"
    "$heapmonitor" leaks "$server" >"$work/leaks" || fail "leaks failed"
    kill -0 "$server" 2>/dev/null || fail "the server died under the heap graph"

    sleep 1.2  # HeapMetricsService updates every second
    curl -sf "http://127.0.0.1:$port/metrics" >"$work/metrics" || fail "no /metrics"
    grep -qE "^swift_heap_live_objects\{class=\"$example.Session\"\} 50(\.0)?$" "$work/metrics" \
        || fail "no Session gauge of 50 in /metrics: $(grep swift_heap "$work/metrics" | head -5)"
    grep -qE '^swift_heap_allocator_bytes [0-9]+' "$work/metrics" || fail "no allocator gauge"

    kill -TERM "$server"
    status=0
    wait "$server" || status=$?
    server=
    ((status == 0)) || fail "exited with status $status"
    grep -q "^HeapMonitor: tracked objects" "$work/out" || fail "no report at exit"
    echo "examples check: $example ($binary, $allocator) served 50 sessions, census, status, top, retainers" \
        "and /metrics agreed, exited 0"
}

check HummingbirdExample .build-corpus/debug/HummingbirdExample glibc
check VaporExample .build-corpus/debug/VaporExample glibc
check HummingbirdExample .build-corpus-static/debug/HummingbirdExample jemalloc

# A Hummingbird server that does not link HeapMonitor, recorded from outside
# by heapmonitor run: every class of its module tracked, asked while it
# serves, then SIGTERM sent to heapmonitor, which passes it on.
example=PlainHummingbird
PORT=0 "$heapmonitor" run --track 'PlainHummingbird.*' -- .build-corpus/debug/PlainHummingbird \
    >"$work/out" 2>"$work/err" &
server=$!
wait_for_port
pid=$(grep -oE 'as pid [0-9]+' "$work/err" | grep -oE '[0-9]+$')
curl -sf "http://127.0.0.1:$port/cart?[1-20]" -o /dev/null || fail "a request failed"
census=$("$heapmonitor" census "$pid" --json --limit 0) || fail "census: $census"
counts=$(python3 -c 'import json,sys
entries = json.load(sys.stdin)["entries"]
print(*(sum(e["liveCount"] for e in entries if e["className"] == name) for name in sys.argv[1:]))' \
    PlainHummingbird.Cart PlainHummingbird.Item <<<"$census")
[[ $counts == "20 60" ]] || fail "the census counted carts and items $counts, not 20 60"
retainers=$("$heapmonitor" retainers "$pid" --class Item) || fail "retainers: $retainers"
grep -q "^60 of 60 Item (retaining .*) kept by PlainHummingbird.carts" <<<"$retainers" || fail "retainers: $retainers"
kill -TERM "$server"
status=0
wait "$server" || status=$?
server=
((status == 0)) || fail "exited with status $status"
grep -qE '^Cart +20 ' "$work/out" && grep -qE '^Item +60 ' "$work/out" || fail "report: $(tail -20 "$work/out")"
echo "examples check: $example under heapmonitor run served 20 carts; census, retainers and the report at exit agreed"

# Nothing tracked: no hooks until the first census, which finds the carts
# and items made before it by walking the heap, then counts new ones.
PORT=0 "$heapmonitor" run --debug=control -- .build-corpus/debug/PlainHummingbird >"$work/out" 2>"$work/err" &
server=$!
wait_for_port
pid=$(grep -oE 'as pid [0-9]+' "$work/err" | grep -oE '[0-9]+$')
curl -sf "http://127.0.0.1:$port/cart?[1-20]" -o /dev/null || fail "a request failed"
"$heapmonitor" status "$pid" | grep -q "census: off" || fail "the census was on before it was asked for"
carts_and_items() {
    "$heapmonitor" census "$pid" --json --limit 0 | python3 -c 'import json,sys
entries = json.load(sys.stdin)["entries"]
print(*(sum(e["liveCount"] for e in entries if e["className"] == name) for name in sys.argv[1:]))' \
        PlainHummingbird.Cart PlainHummingbird.Item
}
counts=$(carts_and_items) || fail "census: $counts"
[[ $counts == "20 60" ]] || fail "the first census (a heap walk) counted carts and items $counts, not 20 60"
curl -sf "http://127.0.0.1:$port/cart?[1-5]" -o /dev/null || fail "a request failed"
counts=$(carts_and_items) || fail "census: $counts"
[[ $counts == "25 75" ]] || fail "the census counted carts and items $counts after 5 more carts, not 25 75"
kill -TERM "$server"
status=0
wait "$server" || status=$?
server=
((status == 0)) || fail "exited with status $status"
echo "examples check: $example under heapmonitor run, nothing tracked: the heap walk found 20 carts and" \
    "60 items, the census then counted 5 more carts"
