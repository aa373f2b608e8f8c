#!/usr/bin/env bash
# Real servers under the monitor: Examples/ServerCorpus runs Hummingbird 2 and
# a plain SwiftNIO HTTP/1 pipeline with every class tracked, forked live
# snapshots (sizing every live object) and leak scans while loopback requests
# are served, and every switch on; a SIGTERM stops it. It must exit cleanly, find exactly the cycles the
# requests planted, and print the end-of-run reports.
# Usage: check-server-corpus.sh [--no-build] [debug|release]   (debug by default)
set -euo pipefail
cd "$(dirname "$0")/../Examples/ServerCorpus"
build=yes
[[ ${1:-} == --no-build ]] && { build=no; shift; }
configuration=${1:-debug}
[[ $build == no ]] || swift build -c "$configuration" --scratch-path .build-corpus >/dev/null
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
switches="--debug=heapmonitor --debug=memory --debug=garbage --garbage=$work/leaks.dot"
HEAPMONITOR="$switches --heapprofile=$work/heap.hmprof" ".build-corpus/$configuration/ServerCorpus" >"$work/out" 2>"$work/err" &
server=$!
for _ in $(seq 300); do
    grep -q "^corpus: listening" "$work/out" && break
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
done
fail() {
    echo "FAIL: $1"
    head -40 "$work/out"
    # A crash report names every thread; the one that crashed matters.
    grep -q 'crashed:$' "$work/err" && grep -A40 'crashed:$' "$work/err" || tail -40 "$work/err"
    exit 1
}
read -r _ _ _ hb _ nio < <(grep "^corpus: listening" "$work/out") || fail "the corpus server did not start"
request() { curl -sf "$@" -o /dev/null || fail "a request failed: curl $*"; }
leaks_hb=60 leaks_nio=40
base="http://127.0.0.1:$hb"
request "$base/session/[1-150]"
request "$base/leak/[1-$leaks_hb]"
request "http://127.0.0.1:$nio/exchange/[1-$leaks_nio]"
for n in $(seq 20); do
    request "$base/order" -H 'content-type: application/json' \
        -d "{\"customer\":\"c$n\",\"lines\":[{\"sku\":\"a\",\"quantity\":$n},{\"sku\":\"b\",\"quantity\":2}]}"
done
request "$base/session/[1-50]"
sleep 0.5
kill -TERM "$server"
status=0
wait "$server" || status=$?
out=$(cat "$work/out")
((status == 0)) || fail "the server exited with status $status"
echo "$out" | grep "^corpus:" | sed 's/^/corpus check: /'
grep -q "^corpus: live analysis failed" <<<"$out" && fail "a live snapshot or leak scan failed"
sized=$(grep -oE 'largest live snapshot sized [0-9]+' <<<"$out" | grep -oE '[0-9]+$' || echo 0)
# At least the 150 sessions and the 100 leaked handlers and exchanges.
((sized >= 250)) || fail "the live snapshots sized only $sized objects; every live object is tracked"
cycles=$(grep -oE '^[0-9]+ leaked cycles?' <<<"$out" | grep -oE '^[0-9]+' || echo 0)
((cycles == leaks_hb + leaks_nio)) || fail "expected $((leaks_hb + leaks_nio)) leaked cycles at exit, found $cycles"
grep -q "RequestHandler.onFinish" <<<"$out" || fail "no RequestHandler cycle in the report"
grep -q "Exchange.callbacks" <<<"$out" || fail "no Exchange cycle in the report"
grep -q "^HeapMonitor: tracked objects" <<<"$out" || fail "no statistics at exit"
grep -q "Session " <<<"$out" || fail "Session missing from the statistics"
[[ -s $work/leaks.dot ]] || fail "no leak graph written"
echo "server corpus check passed: $cycles cycles found, exit status $status"
