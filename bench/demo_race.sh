#!/usr/bin/env bash
# Measure the demo race: N interleaved runs of each variant (normal, sleep, flush),
# P at a time, then failures per variant with the two signatures side by side.
#   bench/demo_race.sh [N=200] [P=2] [ROUNDS=default]
# Run from the repository root (PYTHONPATH=src is set here if flakehunt is not installed).
set -euo pipefail
N=${1:-200}
P=${2:-2}
ROUNDS=${3:-}
PY=${PYTHON:-python3}
export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$(cd "$(dirname "$0")/.." && pwd)/src"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/flakehunt-demo-race.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# One line per variant: NAME<TAB>COMMAND (commands from flakehunt.demo.variants).
"$PY" - "$WORK" "$ROUNDS" >"$WORK/variants.tsv" <<'PYEOF'
import sys
from pathlib import Path
from flakehunt.demo.variants import demo_variants
kw = {"rounds": int(sys.argv[2])} if sys.argv[2] else {}
for name, cmd in demo_variants(Path(sys.argv[1]), **kw).items():
    print(f"{name}\t{cmd}")
PYEOF

one() {  # run one variant once; print NAME STATUS (signals as 128+N, as sh reports them)
  local name=$1 cmd
  cmd=$(awk -F'\t' -v n="$name" '$1 == n {print $2}' "$WORK/variants.tsv")
  set +e
  sh -c "$cmd" >/dev/null 2>&1
  echo "$name $?"
}
export -f one
export WORK

start=$(date +%s.%N)
for ((i = 0; i < N; i++)); do printf '%s\n' normal sleep flush; done |
  xargs -P "$P" -I{} bash -c 'one {}' >"$WORK/results.txt" 2>/dev/null
end=$(date +%s.%N)

awk -v secs="$(echo "$end - $start" | bc)" '
  { runs[$1]++; if ($2 != 0) fail[$1]++; if ($2 == 139) segv[$1]++; if ($2 == 134) abrt[$1]++;
    if ($2 != 0 && $2 != 139 && $2 != 134) other[$1]++ }
  END {
    printf "%-8s %6s %6s %8s %10s %10s %6s\n", "variant", "runs", "fails", "rate", "SIGSEGV", "SIGABRT", "other"
    split("normal sleep flush", order, " ")
    for (k = 1; k <= 3; k++) { v = order[k]
      printf "%-8s %6d %6d %7.1f%% %10d %10d %6d\n", v, runs[v], fail[v], 100 * fail[v] / runs[v], segv[v], abrt[v], other[v] }
    if (fail["normal"] > 0) printf "sleep/normal failure ratio: %.2f; flush/normal: %.2f\n", fail["sleep"] / fail["normal"], fail["flush"] / fail["normal"]
    printf "%.1f s wall for %d runs\n", secs, NR
  }' "$WORK/results.txt"
