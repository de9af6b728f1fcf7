# Sourced by the HTTP benchmarks. Needs $seconds (length of one run).
#   wrk_measure URL PIDS  prints: requests/s, wrk's "99%" latency in ms, and the CPU time the
#                         processes PIDS (one argument, space-separated: nginx's workers) spent
#                         per request in µs (user + system from /proc/PID/stat; steadier than
#                         throughput on a shared machine). wrk -t2 -c64.
#   median                the median of numbers on stdin (one per word).
wrk_measure() {
  local out p99 before after
  before=$(cpu_ticks "$2")
  out=$(wrk -t2 -c64 -d"${seconds}s" --latency "$1")
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
