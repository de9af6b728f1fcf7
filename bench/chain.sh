#!/usr/bin/env bash
# The whole chain, side by side: our site (`foobar up`: lb1/lb2 active-passive → web1/web2 →
# app1/app2 → db1 primary, db2 replica) against HAProxy → two nginx in front of the SAME app
# servers (app1, app2, and so the same database), Debian's packages configured alike: round robin,
# keep-alive to every tier behind, no access log anywhere, health checks at 1 s. wrk -t2 -c64,
# alternating rounds, on the guestbook's home page (GET /, a replica read rendered to HTML) and
# GET /api/entries (JSON). Prints requests/s, p99, and the CPU per request of the two front tiers
# (our lb1 + web1 + web2; haproxy + the nginx workers), and the ratios ours/theirs; then the
# same at one offered load for both (PACE_MS between a connection's requests), where p99 is latency.
# Usage: bench/chain.sh [ROUNDS] [SECONDS]   (default 3 rounds of 10 s). Installs haproxy, nginx and wrk if missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-3}"
seconds="${2:-10}"
for tool in haproxy nginx wrk; do
  command -v "$tool" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$tool" >/dev/null
done
source "$root/bench/lib/wrk.sh"
source "$root/bench/lib/work.sh" chain

prefix=127.36.0
public=$prefix.1; haproxy_at=$prefix.200; nginx1=$prefix.201; nginx2=$prefix.202
# foobar.yaml with its addresses moved, plain HTTP (nginx and haproxy get no TLS either), no
# access log (nginx has none), no write limit (not exercised: reads only), one event loop per
# web server as each nginx below has one worker (the load balancers keep one per processor, as
# HAProxy its default nbthread).
sed -e "s|range: 127.10.0.0/24|range: $prefix.0/24|" -e "s|root: site|root: $root/site|" -e 's|^web:$|web:\n  workers: 1|' \
    -e '/^  https:/d' -e '/^  terminate:/d' -e 's|access_log: combined|access_log: off|' -e 's|write_limit: [^ ]*|write_limit: off|' \
    "$root/foobar.yaml" > "$work/foobar.yaml"
grep -q 'access_log: off' "$work/foobar.yaml" || { echo "could not turn the access log off in the bench topology" >&2; exit 1; }
grep -q '^  workers: 1' "$work/foobar.yaml" || { echo "could not set web.workers in the bench topology" >&2; exit 1; }
stop_site() { "$root/foobar" down --state "$work/state" >/dev/null 2>&1 || true; }
trap 'stop_site; cleanup' EXIT
"$root/foobar" up --detach -t "$work/foobar.yaml" --state "$work/state" >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; exit 1; }
pid_of() { cat "$work/state/pids/$1.pid" | awk '{print $1}'; }
app1=$prefix.7; app2=$prefix.8

for n in 1 2; do
  at=$([ $n = 1 ] && echo $nginx1 || echo $nginx2)
  cat > "$work/nginx$n.conf" <<CFG
user root;
worker_processes 1;
pid $work/nginx$n.pid;
error_log $work/nginx$n-error.log;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  upstream app { server $app1:8080; server $app2:8080; keepalive 64; }
  server {
    listen $at:80;
    root $root/site;
    location /assets/ { }
    location / {
      try_files \$uri @app;
    }
    location @app {
      proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Host \$host; proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
    }
  }
}
CFG
  nginx -c "$work/nginx$n.conf" -g 'daemon off;' &
  pids+=($!)
  eval "nginx${n}_master=$!"
done
cat > "$work/haproxy.cfg" <<CFG
global
  maxconn 8000
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option forwardfor
  http-reuse always
frontend public
  bind $haproxy_at:80
  default_backend web
backend web
  balance roundrobin
  option httpchk GET /robots.txt
  server web1 $nginx1:80 check inter 1s
  server web2 $nginx2:80 check inter 1s
CFG
haproxy -f "$work/haproxy.cfg" -db >"$work/haproxy.log" 2>&1 &
pids+=($!); haproxy_pid=$!

for url in "http://$public/" "http://$haproxy_at/" "http://$public/api/entries" "http://$haproxy_at/api/entries"; do
  for _ in $(seq 1 200); do curl -sf -o /dev/null -H 'Host: www.foobar.com' "$url" && break; sleep 0.05; done
  curl -sf -o /dev/null -H 'Host: www.foobar.com' "$url" || { echo "no answer from $url" >&2; exit 1; }
done
# A page worth reading: some entries (a write limit is off in this topology).
for i in $(seq 1 20); do
  curl -sf -o /dev/null -H 'Host: www.foobar.com' -H 'Content-Type: application/json' -d "{\"name\":\"bench\",\"message\":\"entry $i\"}" "http://$public/api/entries"
done
ours_front="$(pid_of lb1) $(pid_of lb2) $(pid_of web1) $(pid_of web2)"
theirs_front="$haproxy_pid $(pgrep -P "$nginx1_master" | tr '\n' ' ') $(pgrep -P "$nginx2_master" | tr '\n' ' ')"

tests=("/" "/api/entries")
# Warm both (caches, upstream connections, and the runtime's tiered compilation: under load it
# recompiles the hot paths of every Foobar process for about 20 s — 3.9 s of JIT CPU in the active
# load balancer alone, measured — which a server running for hours has behind it), untimed.
for t in "${tests[@]}"; do
  wrk -t2 -c64 -d"${WARMUP_SECONDS:-10}s" -H 'Host: www.foobar.com' "http://$public$t" >/dev/null
  wrk -t2 -c64 -d3s -H 'Host: www.foobar.com' "http://$haproxy_at$t" >/dev/null
done

wrk() { command wrk -H 'Host: www.foobar.com' "$@"; }
side_header haproxy
for round in $(seq 1 "$rounds"); do
  for t in "${tests[@]}"; do
    side_round "$t" "$round" $(wrk_measure "http://$public$t" "$ours_front") $(wrk_measure "http://$haproxy_at$t" "$theirs_front")
  done
done
# The same offered load for both (each of the 64 connections waits PACE ms between its requests:
# about 1,400 requests/s, below both ceilings): flat out, p99 is mostly the queue of a saturated
# machine and how hard each side pushed the shared app servers; here it is the chains' latency.
pace="${PACE_MS:-40}"
echo
echo "the same offered load (64 connections, $pace ms between a connection's requests):"
side_header haproxy
for round in $(seq 1 "$rounds"); do
  for t in "${tests[@]}"; do
    side_round "paced $t" "$round" $(wrk_measure "http://$public$t" "$ours_front" "$pace") $(wrk_measure "http://$haproxy_at$t" "$theirs_front" "$pace")
  done
done
echo
echo "(cpu µs: the front tiers only — ours lb1+lb2+web1+web2, theirs haproxy+nginx workers; the app servers and the database are the same processes for both)"
side_medians haproxy "${tests[@]}" "paced /" "paced /api/entries"
