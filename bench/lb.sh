#!/usr/bin/env bash
# Our load balancer against HAProxy in front of the same two backends: two nginx, each serving a
# 1 KB file on its own address, so the figures are the load balancers' own. Both: roundrobin, keep-alive to
# the backends, active checks every second. Our lb1 runs alone (`foobar serve lb1`), holding the
# public address. wrk -t2 -c64 against each, alternating rounds; prints requests/s, p99, CPU
# per request of each load balancer process, and the ratios ours/HAProxy. Then the same rounds at
# one offered load for both (each connection waits 3 ms between requests: about 19,000 requests/s,
# below both ceilings), where p99 is latency alone: flat out, the side that answers more requests
# also loads the shared backends more. Usage: bench/lb.sh [ROUNDS] [SECONDS]   (default 3 rounds of 10 s)
# Installs haproxy, nginx and wrk if missing (Debian's packages).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-3}"
seconds="${2:-10}"
for tool in haproxy nginx wrk; do
  command -v "$tool" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$tool" >/dev/null
done
source "$root/bench/lib/work.sh" lb

prefix=127.34.0
public=$prefix.1; haproxy_at=$prefix.200; web1=$prefix.11; web2=$prefix.12
mkdir -p "$work/site" "$work/state"
head -c 1024 /dev/zero | tr '\0' 'x' > "$work/site/1k.html"

# Two backend servers, each its own nginx process with one worker (one process listening on both
# addresses, as until 2026-11-23, was the ceiling for both load balancers at ~24,000 requests/s).
for n in 1 2; do
  at=$([ $n = 1 ] && echo $web1 || echo $web2)
  cat > "$work/nginx$n.conf" <<CFG
user root;
worker_processes 1;
pid $work/nginx$n.pid;
error_log $work/nginx$n-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  server { listen $at:80; root $work/site; location = /healthz { return 200 "ok\n"; } }
}
CFG
  nginx -c "$work/nginx$n.conf" -g 'daemon off;' &
  pids+=($!)
done

cat > "$work/foobar.yaml" <<YAML
domain: foobar.com
network: { range: $prefix.0/24 }
public: { address: $public }
lb: { port: 80 }
web: { root: $work/site }
servers:
  lb1:  { roles: [lb], address: $prefix.3 }
  web1: { roles: [web], address: $web1 }
  web2: { roles: [web], address: $web2 }
  app1: { roles: [app], address: $prefix.13 }
YAML
"$root/foobar" --version >/dev/null   # build once
# The runtime settings the control plane starts every server with (ServerProcessLauncher.RuntimeSettings).
DOTNET_GCgen0size=0x400000 "$root/artifacts/foobar/foobar" serve lb1 -t "$work/foobar.yaml" --state "$work/state" >"$work/lb1.log" 2>&1 &
pids+=($!); lb1_pid=$!

cat > "$work/haproxy.cfg" <<CFG
global
  maxconn 8000
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend public
  bind $haproxy_at:80
  default_backend web
backend web
  balance roundrobin
  option httpchk GET /healthz
  server web1 $web1:80 check inter 1s
  server web2 $web2:80 check inter 1s
CFG
haproxy -f "$work/haproxy.cfg" -db >"$work/haproxy.log" 2>&1 &
pids+=($!); haproxy_pid=$!
for url in "http://$public/1k.html" "http://$haproxy_at/1k.html"; do
  for _ in $(seq 1 200); do curl -sf -o /dev/null "$url" && break; sleep 0.05; done
  curl -sf -o /dev/null "$url" || { echo "no answer from $url" >&2; exit 1; }
done

source "$root/bench/lib/wrk.sh"

# Warm both (connection pools, and the runtime's tiered compilation, which under load recompiles
# our hot paths for several seconds: with 3 s of warm-up the first timed round's p99 was the
# worst of the run), untimed.
wrk -t2 -c64 -d"${WARMUP_SECONDS:-10}s" "http://$public/1k.html" >/dev/null
wrk -t2 -c64 -d"${WARMUP_SECONDS:-10}s" "http://$haproxy_at/1k.html" >/dev/null

printf '%-6s %12s %9s %9s %12s %9s %9s\n' round "foobar r/s" "p99 ms" "cpu µs" "haproxy r/s" "p99 ms" "cpu µs"
o_rps=""; o_p99=""; o_cpu=""; h_rps=""; h_p99=""; h_cpu=""
for round in $(seq 1 "$rounds"); do
  read -r orps op99 ocpu < <(wrk_measure "http://$public/1k.html" "$lb1_pid")
  read -r hrps hp99 hcpu < <(wrk_measure "http://$haproxy_at/1k.html" "$haproxy_pid")
  printf '%-6s %12s %9s %9s %12s %9s %9s\n' "$round" "$orps" "$op99" "$ocpu" "$hrps" "$hp99" "$hcpu"
  o_rps="$o_rps $orps"; o_p99="$o_p99 $op99"; o_cpu="$o_cpu $ocpu"; h_rps="$h_rps $hrps"; h_p99="$h_p99 $hp99"; h_cpu="$h_cpu $hcpu"
done
o=$(echo $o_rps | median); h=$(echo $h_rps | median); op=$(echo $o_p99 | median); hp=$(echo $h_p99 | median)
oc=$(echo $o_cpu | median); hc=$(echo $h_cpu | median)
printf 'median: foobar %s r/s p99 %s ms %s µs/request; haproxy %s r/s p99 %s ms %s µs/request\n' "$o" "$op" "$oc" "$h" "$hp" "$hc"
printf 'ratios ours/haproxy: throughput %.2f, p99 %.2f, cpu per request %.2f\n' \
  "$(awk -v a="$o" -v b="$h" 'BEGIN{print a/b}')" "$(awk -v a="$op" -v b="$hp" 'BEGIN{print a/b}')" "$(awk -v a="$oc" -v b="$hc" 'BEGIN{print a/b}')"

echo
echo "the same offered load (64 connections, 3 ms between a connection's requests):"
printf '%-6s %12s %9s %9s %12s %9s %9s\n' round "foobar r/s" "p99 ms" "cpu µs" "haproxy r/s" "p99 ms" "cpu µs"
o_p99=""; h_p99=""; o_cpu=""; h_cpu=""
for round in $(seq 1 "$rounds"); do
  read -r orps op99 ocpu < <(wrk_measure "http://$public/1k.html" "$lb1_pid" 3)
  read -r hrps hp99 hcpu < <(wrk_measure "http://$haproxy_at/1k.html" "$haproxy_pid" 3)
  printf '%-6s %12s %9s %9s %12s %9s %9s\n' "$round" "$orps" "$op99" "$ocpu" "$hrps" "$hp99" "$hcpu"
  o_p99="$o_p99 $op99"; h_p99="$h_p99 $hp99"; o_cpu="$o_cpu $ocpu"; h_cpu="$h_cpu $hcpu"
done
op=$(echo $o_p99 | median); hp=$(echo $h_p99 | median); oc=$(echo $o_cpu | median); hc=$(echo $h_cpu | median)
printf 'same load, ratios ours/haproxy: p99 %.2f (%s against %s ms), cpu per request %.2f\n' \
  "$(awk -v a="$op" -v b="$hp" 'BEGIN{print a/b}')" "$op" "$hp" "$(awk -v a="$oc" -v b="$hc" 'BEGIN{print a/b}')"
