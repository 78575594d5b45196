#!/usr/bin/env bash
# The live console's cost (docs/console.md): kafka-identity and ner-throughput without and with the
# console's page open (--console), interleaved so that a shared machine's load falls on both alike.
# Usage: bash bench/console-cost.sh [repetitions, default 3] > cost.log
set -uo pipefail
cd "$(dirname "$0")/.."
reps="${1:-3}"
for i in $(seq 1 "$reps"); do
  for mode in off on; do
    flag=""
    [ "$mode" = on ] && flag="--console"
    echo "== rep $i kafka-identity console=$mode $(date -u +%T) load=$(cut -d' ' -f1 /proc/loadavg)"
    npm run bench -- kafka-identity --messages 100000 --rounds 3 $flag 2>/dev/null | grep -E '^\{"bench"|^round . cpu'
    echo "== rep $i ner-throughput console=$mode $(date -u +%T) load=$(cut -d' ' -f1 /proc/loadavg)"
    npm run bench -- ner-throughput --reps 3 $flag 2>/dev/null | grep '^\{"bench"'
  done
done
