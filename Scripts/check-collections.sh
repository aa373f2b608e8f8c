#!/usr/bin/env bash
# swift-collections, code we did not write: each container sized within 1 %
# of what the allocator handed out while building it (exactly, so far), its
# referent tree adding up to the same, nothing left unread; the sessions a
# global keeps in a TreeDictionary found through the trie's nodes; and a
# private and a local class named the same in two runs.
set -euo pipefail
cd "$(dirname "$0")/../Examples/ServerCorpus"
# Built with the rest of the corpus (Scripts/check-nio.sh) unless asked.
[[ ${1:-} == --no-build ]] || swift build --scratch-path .build-corpus --product CollectionsSizing >/dev/null
first=$(.build-corpus/debug/CollectionsSizing)
second=$(.build-corpus/debug/CollectionsSizing)
echo "$first"
fail() { echo "FAIL: $*"; exit 1; }
containers=0
while read -r name _ deep _ allocated _ tree _ opaque; do
    containers=$((containers + 1))
    (( allocated > 0 )) || fail "$name: nothing allocated"
    difference=$(( deep > allocated ? deep - allocated : allocated - deep ))
    (( difference * 100 <= allocated )) || fail "$name: deep $deep, allocated $allocated (more than 1 % apart)"
    [[ $tree -eq $deep ]] || fail "$name: referent tree $tree, deep size $deep"
    [[ $opaque -eq 0 ]] || fail "$name: $opaque types left unread"
done < <(grep -E '^[A-Za-z]+ deep ' <<<"$first")
[[ $containers -eq 9 ]] || fail "expected 9 containers, read $containers"
grep -qx 'holders 1000 path CollectionsSizing.SessionIndex.shared → byID\[…\]' <<<"$first" \
    || fail "the sessions' holder was not found through the trie"
names=$(grep '^names ' <<<"$first")
[[ $names == "names CollectionsSizing.PrivateSession CollectionsSizing.LocalSession" ]] || fail "$names"
[[ $names == "$(grep '^names ' <<<"$second")" ]] || fail "the names differ between two runs"
echo "swift-collections check passed"
