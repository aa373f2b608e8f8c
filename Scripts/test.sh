#!/usr/bin/env bash
# The whole test suite: unit tests, the tracker under the thread sanitizer,
# the static-stdlib route, real packages (SwiftNIO, swift-collections, a server corpus), the
# profile reader's fuzzer and the DocC catalog.
# CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/check-line-length.sh
# Tests share the process-wide hooks and compare with the allocator's global
# counters: one at a time.
swift test --no-parallel --explicit-target-dependency-import-check error
# The tracker's concurrency (hooks, logs, background drains and snapshots),
# and the address checks under an allocator without glibc's block headers.
# Only these: sizing tests compare with glibc's counters, which the
# sanitizer's allocator does not keep. Not the stress test of forked
# analyses: under the sanitizer most children of its busy process block in
# the Swift runtime's once locks (killed and replaced, they fail it), which
# uninstrumented children do not. Nor the tests of the census's heap walk
# (the control channel's census walks too): the sanitizer's allocator keeps
# objects in reservations of terabytes, which the walk leaves out. Nor a
# forked child's own clock: the sanitizer kills a child that starts a thread.
swift test --sanitize=thread --scratch-path .build-tsan --no-parallel --filter "TrackerSuite|MetadataCheckTests" \
    --skip "LiveHeapStressTests|CensusOnRequestTests|countsInstancesAliveBefore|theWalk" \
    --skip "aClientAsksForStatusCensus|aForkedChildTracksOnlyAnew"
Scripts/check-static-stdlib.sh
# SwiftNIO, code we did not write: a class tracked by name, buffers sized with their bytes.
# It builds Examples/ServerCorpus, which the next check runs.
Scripts/check-nio.sh
# swift-collections' containers sized against the allocator, a trie's holder
# found, private type names the same from run to run.
Scripts/check-collections.sh --no-build
# Hummingbird 2 and SwiftNIO servers analysed (forked snapshots, leak scans) while
# they serve loopback requests, stopped by SIGTERM: no crash, every planted cycle found.
Scripts/check-server-corpus.sh --no-build
# The README's Hummingbird and Vapor servers asked from outside (census, status,
# top) and scraped (/metrics), then stopped by SIGTERM: exit 0 and a report;
# the Hummingbird one again built as production servers are (static, jemalloc).
Scripts/check-examples.sh --no-build
# A short fuzzing run of the profile reader (Scripts/fuzz-profile.sh 1000000 for a long one).
Scripts/fuzz-profile.sh 200000
# Every public symbol documented, every link in the catalog resolved.
Scripts/check-docs.sh
