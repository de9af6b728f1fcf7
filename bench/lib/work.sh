# Sourced by the benchmarks that start servers of their own. Usage: source lib/work.sh NAME
# Defines: work (a fresh directory /tmp/foobar-bench-NAME.XXXXXX), pids (append every process
# started); on exit, stops those processes by pid, waits for them, and deletes $work unless KEEP
# is set (then prints where it is).
work="$(mktemp -d "/tmp/foobar-bench-$1.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done; done
  [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
