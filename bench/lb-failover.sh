#!/usr/bin/env bash
# Failures of the load balancer tier under load, ours beside HAProxy.
# 1. A web server SIGKILLed under `wrk -t2 -c32` through our load balancer pair, then through
#    HAProxy (defaults plus `option redispatch` and `retry-on all-retryable-errors`) in front of
#    the same web servers: failed requests (non-2xx/3xx and socket errors) for each.
# 2. The active load balancer's process SIGKILLed (kill -9 by pid, as a crash), then SIGSTOPped
#    (a hang: the standby's heartbeats miss it, it is fenced): time from the signal until the
#    public address answers again (curl every 10 ms). keepalived's default (advert_int 1,
#    3 missed adverts + skew) is about 3.6 s.
# Usage: bench/lb-failover.sh [ROUNDS]   (default 3). Installs haproxy and wrk if missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-3}"
for tool in haproxy wrk; do
  command -v "$tool" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$tool" >/dev/null
done
work="$(mktemp -d /tmp/foobar-bench-lbfail.XXXXXX)"
haproxy_pid=""
cleanup() {
  [ -n "$haproxy_pid" ] && kill "$haproxy_pid" 2>/dev/null || true
  "$root/foobar" down --state "$work/state" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

prefix=127.35.0
public=$prefix.1; haproxy_at=$prefix.200
mkdir -p "$work/site"
head -c 1024 /dev/zero | tr '\0' 'x' > "$work/site/1k.html"
cat > "$work/foobar.yaml" <<YAML
domain: foobar.com
network: { range: $prefix.0/24 }
web: { root: $work/site }
servers:
  lb1:  { roles: [lb], address: $prefix.3 }
  lb2:  { roles: [lb], address: $prefix.4 }
  web1: { roles: [web], address: $prefix.11 }
  web2: { roles: [web], address: $prefix.12 }
  app1: { roles: [app], address: $prefix.13 }
YAML
"$root/foobar" up --detach -t "$work/foobar.yaml" --state "$work/state" >/dev/null
cat > "$work/haproxy.cfg" <<CFG
global
  maxconn 8000
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  option redispatch
  retry-on all-retryable-errors
  retries 3
frontend public
  bind $haproxy_at:80
  default_backend web
backend web
  balance roundrobin
  option httpchk GET /healthz
  server web1 $prefix.11:80 check inter 1s
  server web2 $prefix.12:80 check inter 1s
CFG
haproxy -f "$work/haproxy.cfg" -db >"$work/haproxy.log" 2>&1 &
haproxy_pid=$!

ready() { "$root/foobar" status --json --state "$work/state" | grep -q '"ready": false' && return 1 || return 0; }
wait_ready() { for _ in $(seq 1 200); do ready && return 0; sleep 0.1; done; echo "not ready" >&2; exit 1; }
wait_ready
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://$haproxy_at/1k.html" && break; sleep 0.05; done

# Failed requests of a 6 s wrk run during which web1 is killed after 2 s, then restarted.
failed_during_kill() {
  local url=$1 out failed
  wrk -t2 -c32 -d6s "$url" > "$work/wrk.out" &
  local wrk_pid=$!
  sleep 2
  "$root/foobar" kill web1 --state "$work/state" >/dev/null
  wait $wrk_pid
  out=$(cat "$work/wrk.out")
  failed=$(echo "$out" | awk '/Non-2xx or 3xx/ {n+=$NF} /Socket errors/ {gsub(",", ""); n+=$4+$6+$8+$10} END {print n+0}')
  echo "$failed $(echo "$out" | awk '/requests in/ {print $1}')"
  "$root/foobar" start web1 --state "$work/state" >/dev/null
  wait_ready
  sleep 2   # both load balancers' checks see web1 up again
}

printf '%-6s %22s %22s\n' round "foobar failed/total" "haproxy failed/total"
for round in $(seq 1 "$rounds"); do
  # $(...) waits for the whole function, its wait for readiness included; < <(...) would not.
  read -r of ot <<< "$(failed_during_kill "http://$public/1k.html")"
  read -r hf ht <<< "$(failed_during_kill "http://$haproxy_at/1k.html")"
  printf '%-6s %22s %22s\n' "$round" "$of/$ot" "$hf/$ht"
done

# The active load balancer crashed (SIGKILL) or hung (SIGSTOP): time until the public address answers again.
now() { date +%s.%N; }
takeover() {
  local signal=$1 status active pid start
  status=$("$root/foobar" status --json --state "$work/state")
  active=$(echo "$status" | grep -oE '"heldBy": "[a-z0-9]+"' | grep -oE 'lb[0-9]+')
  pid=$(echo "$status" | awk -v n="\"name\": \"$active\"" 'index($0, n) {f=1} f && /"pid"/ {gsub(/[^0-9]/, ""); print; exit}')
  start=$(now)
  kill "-$signal" "$pid"
  until curl -sf -m 0.2 -o /dev/null "http://$public/1k.html"; do sleep 0.01; done
  echo "$active $(awk -v a="$(now)" -v b="$start" 'BEGIN{printf "%.3f", a-b}')"
  wait_ready   # the supervisor restarts the killed (or fenced) one as the standby
}
printf '\n%-6s %26s %26s\n' round "SIGKILL → answers again" "SIGSTOP → answers again"
for round in $(seq 1 "$rounds"); do
  read -r killed kill_time <<< "$(takeover KILL)"
  read -r stopped stop_time <<< "$(takeover STOP)"
  printf '%-6s %19s %5ss %19s %5ss\n' "$round" "$killed" "$kill_time" "$stopped" "$stop_time"
done
