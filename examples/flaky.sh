#!/usr/bin/env bash
# A flaky "build step": two writers race for one file, and the reader sometimes
# sees it half written. No random number decides: the scheduler does.
set -u
out=$(mktemp "${FLAKEHUNT_RUN_DIR:-/tmp}/flaky.XXXXXX")
( for i in 1 2 3 4 5 6 7 8; do printf 'chunk %s\n' "$i" >> "$out"; done ) &
sleep 0.002
lines=$(wc -l < "$out")
wait
rm -f "$out"
if [ "$lines" -lt 8 ]; then
    echo "error: output incomplete: saw $lines of 8 chunks" >&2
    exit 1
fi
echo ok
