#!/usr/bin/env bash
# SwiftNIO, code we did not write: its ByteBuffer storage class is tracked by
# name, and ten 1 MiB buffers size as the 10 MiB they hold (their bytes sit
# behind a raw pointer, which the sizer follows for this registered class).
set -euo pipefail
cd "$(dirname "$0")/../Examples/ServerCorpus"
# One scratch folder with the server corpus: swift-nio is built once.
[[ ${1:-} == --no-build ]] || swift build --scratch-path .build-corpus >/dev/null
line=$(.build-corpus/debug/NIOSizing)
echo "NIO: $line"
read -r _ tracked _ tracked_bytes _ deep <<<"$line"
mib=$((1 << 20))
[[ $tracked -eq 10 ]] || { echo "FAIL: expected 10 tracked ByteBuffer storages"; exit 1; }
(( tracked_bytes >= 10 * mib && tracked_bytes < 10 * mib + 100000 )) || { echo "FAIL: tracked bytes $tracked_bytes"; exit 1; }
(( deep >= 10 * mib && deep < 10 * mib + 100000 )) || { echo "FAIL: deep size $deep"; exit 1; }
echo "NIO check passed"
