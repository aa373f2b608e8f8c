#!/usr/bin/env bash
# The DocC catalog built with warnings as errors: every public symbol
# documented, every link resolved. `HeapMonitor` re-exports the model,
# recording and analysis targets; their symbols are documented under it, so
# its symbol graph is extracted with them (the docc plugin leaves re-exported
# symbols out) and the catalog converted directly.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build
swift build --target HeapMonitor
bin="$(swift build --show-bin-path)"
graphs="$scratch/symbol-graphs"
rm -rf "$graphs" && mkdir -p "$graphs"
swift-symbolgraph-extract -module-name HeapMonitor -I "$bin/Modules" -target "$(uname -m)-unknown-linux-gnu" \
    -Xcc -fmodule-map-file="$bin/CHeapMonitor.build/module.modulemap" -I Sources/CHeapMonitor/include \
    -minimum-access-level public -skip-inherited-docs -output-dir "$graphs" \
    -experimental-allowed-reexported-modules=HeapMonitorModel,HeapMonitorRecording,HeapMonitorAnalysis
docc convert Sources/HeapMonitor/HeapMonitor.docc --additional-symbol-graph-dir "$graphs" \
    --fallback-display-name HeapMonitor --fallback-bundle-identifier heapmonitor \
    --warnings-as-errors --output-path "$scratch/HeapMonitor.doccarchive"
