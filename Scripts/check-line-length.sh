#!/usr/bin/env bash
# Every line of code within 120 columns. `swift format --in-place
# --configuration .swift-format FILE` wraps most long lines; literals it
# cannot break are split by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
long=$(find Sources Tests Examples Fuzz \( -name '*.swift' -o -name '*.c' -o -name '*.h' \) \
    -not -path '*/.build*' -print0 | xargs -0 awk 'length > 120 { print FILENAME ":" FNR ": " length " columns" }')
if [[ -n "$long" ]]; then
    echo "lines over 120 columns:"
    echo "$long"
    exit 1
fi
