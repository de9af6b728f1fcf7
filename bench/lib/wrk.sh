# Sourced by the HTTP benchmarks. Needs $seconds (length of one run).
#   wrk_measure URL PIDS  prints: requests/s, wrk's "99%" latency in ms, and the CPU time the
#                         processes PIDS (one argument, space-separated: nginx's workers) spent
#                         per request in µs (user + system from /proc/PID/stat; steadier than
#                         throughput on a shared machine). wrk -t2 -c64. A third argument
#                         PACE (ms) makes each connection wait that long between its requests
#                         (wrk's delay()): the same offered load for both sides, below either's
#                         ceiling, so p99 compares latency rather than how hard each was pushed.
#   median                the median of numbers on stdin (one per word).
wrk_measure() {
  local out p99 before after script=()
  if [ -n "${3:-}" ]; then
    script=(-s "$work/paced-$3.lua")
    echo "function delay() return $3 end" > "$work/paced-$3.lua"
  fi
  before=$(cpu_ticks "$2")
  out=$(wrk -t2 -c64 -d"${seconds}s" --latency "${script[@]}" "$1")
  after=$(cpu_ticks "$2")
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  case "$p99" in
    *us) p99=$(awk -v v="${p99%us}" 'BEGIN{print v/1000}') ;;
    *ms) p99="${p99%ms}" ;;
    *s) p99=$(awk -v v="${p99%s}" 'BEGIN{print v*1000}') ;;
  esac
  echo "$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}') $p99" \
    "$(echo "$out" | awk -v b="$before" -v a="$after" -v hz="$(getconf CLK_TCK)" '/requests in/ {printf "%.1f", (a - b) * 1e6 / hz / $1}')"
}

cpu_ticks() {
  local pid total=0
  for pid in $1; do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done
  echo "$total"
}

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Side-by-side tables of ours against an anchor ("nginx", "haproxy"):
#   side_header ANCHOR            the header of the per-round table
#   side_round TEST ROUND OURS... THEIRS...   prints one round (r/s, p99 ms, cpu µs of each) and keeps it
#   side_medians ANCHOR TESTS...  the medians of every test and the ratios ours/anchor
declare -A side_o_rps side_o_p99 side_o_cpu side_t_rps side_t_p99 side_t_cpu
side_header() {
  printf '%-13s %-6s %11s %8s %8s %13s %8s %8s\n' test round "foobar r/s" "p99 ms" "cpu µs" "$1 r/s" "p99 ms" "cpu µs"
}
side_round() {
  local t=$1
  printf '%-13s %-6s %11s %8s %8s %13s %8s %8s\n' "$@"
  side_o_rps[$t]="${side_o_rps[$t]:-} $3"; side_o_p99[$t]="${side_o_p99[$t]:-} $4"; side_o_cpu[$t]="${side_o_cpu[$t]:-} $5"
  side_t_rps[$t]="${side_t_rps[$t]:-} $6"; side_t_p99[$t]="${side_t_p99[$t]:-} $7"; side_t_cpu[$t]="${side_t_cpu[$t]:-} $8"
}
side_medians() {
  local anchor=$1 t o op oc n np nc
  shift
  echo
  printf '%-13s %11s %8s %8s %13s %8s %8s   %s\n' median "foobar r/s" "p99 ms" "cpu µs" "$anchor r/s" "p99 ms" "cpu µs" "ratios ours/$anchor: r/s, p99, cpu"
  for t in "$@"; do
    o=$(echo ${side_o_rps[$t]} | median); op=$(echo ${side_o_p99[$t]} | median); oc=$(echo ${side_o_cpu[$t]} | median)
    n=$(echo ${side_t_rps[$t]} | median); np=$(echo ${side_t_p99[$t]} | median); nc=$(echo ${side_t_cpu[$t]} | median)
    printf '%-13s %11s %8s %8s %13s %8s %8s   %.2f %.2f %.2f\n' "$t" "$o" "$op" "$oc" "$n" "$np" "$nc" \
      "$(awk -v a="$o" -v b="$n" 'BEGIN{print a/b}')" "$(awk -v a="$op" -v b="$np" 'BEGIN{print a/b}')" "$(awk -v a="$oc" -v b="$nc" 'BEGIN{print a/b}')"
  done
}
