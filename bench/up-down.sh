#!/usr/bin/env bash
# Times `foobar up` to ready, the memory of every process once ready, and `foobar down`, for the
# default topology moved to its own range and state directory. Usage: bench/up-down.sh [ROUNDS]
# The build is warmed first, so the times are those of a user's second and later `up`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-3}"
work="$(mktemp -d /tmp/foobar-bench.XXXXXX)"
trap '"$root/foobar" down --state "$work/state" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
sed -e 's|range: 127.10.0.0/24|range: 127.30.0.0/24|' -e "s|root: site|root: $root/site|" "$root/foobar.yaml" > "$work/foobar.yaml"
"$root/foobar" --version >/dev/null   # build once, outside the measurement

now() { date +%s.%N; }
sum_field() { # sum_field FIELD PID... -> kB
  local field=$1 total=0 value; shift
  for pid in "$@"; do value=$(awk -v f="$field:" '$1 == f {print $2}' "/proc/$pid/smaps_rollup"); total=$((total + value)); done
  echo "$total"
}

printf '%-6s %10s %8s %10s %10s %9s\n' round "up→ready" procs "RSS MiB" "PSS MiB" "down"
for round in $(seq 1 "$rounds"); do
  start=$(now)
  "$root/foobar" up --detach -t "$work/foobar.yaml" --state "$work/state" >/dev/null
  ready=$(now)
  mapfile -t pids < <("$root/foobar" status --json --state "$work/state" | grep -oE '"(pid|controlPlanePid)": [0-9]+' | grep -oE '[0-9]+$')
  rss=$(sum_field Rss "${pids[@]}")
  pss=$(sum_field Pss "${pids[@]}")
  down_start=$(now)
  "$root/foobar" down --state "$work/state" >/dev/null
  done_at=$(now)
  printf '%-6s %9.2fs %8d %10d %10d %8.2fs\n' "$round" "$(echo "$ready - $start" | bc)" "${#pids[@]}" $((rss / 1024)) $((pss / 1024)) "$(echo "$done_at - $down_start" | bc)"
done
