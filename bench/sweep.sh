#!/usr/bin/env bash
# The sweep figures of docs/sweep.md. One SPEC (every trace of a folder x all
# policies x CONFIGS configurations) run by the thread pool with 1, 2, 3
# threads and by 1, 2, 3 queue workers (one job at a time each, on this
# machine, a local redis-server), ROUNDS times interleaved so that a busy
# machine slows every variant alike; prints each variant's median wall time,
# jobs/s and speed-up over the pool's single thread, and checks that every
# RESULT.json is the same bytes.
#   bench/sweep.sh TRACES_DIR [ROUNDS] [CONFIGS (1 or 2)] [REDIS_PORT]
set -euo pipefail
traces=$(cd "${1:?usage: bench/sweep.sh TRACES_DIR [ROUNDS] [CONFIGS] [REDIS_PORT]}" && pwd)
rounds=${2:-3}
configs='[{}, {"max_map_count": 4096}]'
[ "${3:-2}" = 1 ] && configs='[{}]'
port=${4:-6399}
cli="$(cd "$(dirname "$0")/.." && pwd)/dist/cli.js"
work=$(mktemp -d)
redis=""
trap '[ -n "$redis" ] && kill "$redis" 2>/dev/null; rm -rf "$work"' EXIT
redis-server --port "$port" --bind 127.0.0.1 --dir "$work" --save "" --appendonly no >/dev/null &
redis=$!
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done
inputs=$(cd "$traces" && ls *.perf.txt.gz *.strace.gz 2>/dev/null | sed "s|.*|{\"trace\": \"$traces/&\"}|" | paste -sd, -)
echo "{\"inputs\": [$inputs], \"policies\": \"all\", \"configs\": $configs}" > "$work/spec.json"
cd "$work"
wall() { node -e 'console.log(require(process.argv[1]).wallSeconds.toFixed(2))' "$work/$1.timing.json"; }
declare -A times
variants="pool1 pool2 pool3 queue1 queue2 queue3"
for r in $(seq "$rounds"); do
  for v in $variants; do
    n=${v: -1}
    if [ "${v:0:4}" = pool ]; then
      node "$cli" sweep spec.json --workers "$n" -o "$v.json" 2>/dev/null || true
    else
      node "$cli" sweep spec.json --queue "redis://127.0.0.1:$port" -o "$v.json" 2>/dev/null &
      sweep=$!
      pids=()
      for i in $(seq "$n"); do node "$cli" worker --queue "redis://127.0.0.1:$port" --concurrency 1 --idle 1 --cache "$work/cache$i" 2>/dev/null & pids+=($!); done
      wait "$sweep" || true
      wait "${pids[@]}"
    fi
    times[$v]="${times[$v]:-} $(wall "$v")"
    cmp -s pool1.json "$v.json" || { echo "$v.json differs from pool1.json"; exit 1; }
  done
done
jobs=$(node -e 'console.log(require(process.argv[1]).summary.jobs)' "$work/pool1.json")
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
base=$(echo "${times[pool1]}" | median)
for v in $variants; do
  m=$(echo "${times[$v]}" | median)
  awk -v v="$v" -v m="$m" -v j="$jobs" -v b="$base" -v all="${times[$v]}" 'BEGIN {printf "%-7s median %6.2f s  %5.2f jobs/s  speed-up %.2f  (runs:%s)\n", v, m, j/m, b/m, all}'
done
echo "$jobs jobs; every RESULT.json is the same ($(wc -c < pool1.json) bytes, $(( $(wc -c < pool1.json) / jobs )) bytes per job)"
