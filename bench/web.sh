#!/usr/bin/env bash
# Our web server (`foobar serve web1`) against nginx configured alike (sendfile, keep-alive, no
# access log, two worker processes for the two cores, a keep-alive upstream), each alone on its
# own address over the same site directory and in front of the same app server (a separate nginx
# answering 1 KB on every path, so the app costs both the same). wrk -t2 -c64, alternating rounds:
# a 1 KB static file, a 1 MB static file, a proxied /api/ request, and the 1 KB file over HTTPS
# (TLS ending at the web server: ours with `web.tls: true` as a second server, nginx with `ssl` on
# 443, both with the same local-authority certificate; keep-alive, so this is TLS record cost, not
# handshakes). Prints requests/s, p99, CPU per request of each web server, and the ratios ours/nginx.
# Usage: bench/web.sh [ROUNDS] [SECONDS]   (default 3 rounds of 10 s). Installs nginx and wrk if missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-3}"
seconds="${2:-10}"
for tool in nginx wrk; do
  command -v "$tool" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$tool" >/dev/null
done
source "$root/bench/lib/wrk.sh"
source "$root/bench/lib/work.sh" web

prefix=127.35.0
ours=$prefix.11; theirs=$prefix.21; app=$prefix.13; ours_tls=$prefix.12
mkdir -p "$work/site" "$work/state"
head -c 1024 /dev/zero | tr '\0' 'x' > "$work/site/1k.html"
head -c 1048576 /dev/urandom > "$work/site/1m.bin"

cat > "$work/app.conf" <<CFG
user root;
worker_processes 1;
pid $work/app.pid;
error_log $work/app-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen $app:8080; location / { default_type text/plain; return 200 "$(head -c 1024 /dev/zero | tr '\0' 'y')"; } }
}
CFG
nginx -c "$work/app.conf" -g 'daemon off;' &
pids+=($!)

cat > "$work/foobar.yaml" <<YAML
domain: foobar.com
network: { range: $prefix.0/24 }
public: { address: $prefix.1 }
web: { root: $work/site, access_log: off }   # nginx has access_log off too
servers:
  lb1:  { roles: [lb], address: $prefix.3 }
  web1: { roles: [web], address: $ours }
  app1: { roles: [app], address: $app }
YAML
"$root/foobar" --version >/dev/null   # build once
# The runtime settings the control plane starts every server with (ServerProcessLauncher.RuntimeSettings).
DOTNET_GCgen0size=0x400000 "$root/artifacts/foobar/foobar" serve web1 -t "$work/foobar.yaml" --state "$work/state" >"$work/web1.log" 2>&1 &
web1_pid=$!
pids+=($web1_pid)
# The same web server with TLS on its port (a topology of its own: web.tls is tier-wide).
sed -e "s|access_log: off }|access_log: off, tls: true, port: 443 }|" -e "s|web1: { roles: \[web\], address: $ours }|web2: { roles: [web], address: $ours_tls }|" \
  "$work/foobar.yaml" > "$work/foobar-tls.yaml"
DOTNET_GCgen0size=0x400000 "$root/artifacts/foobar/foobar" serve web2 -t "$work/foobar-tls.yaml" --state "$work/state-tls" >"$work/web2.log" 2>&1 &
web2_pid=$!
pids+=($web2_pid)
for _ in $(seq 1 200); do [ -s "$work/state-tls/tls/site.key" ] && break; sleep 0.05; done
cat > "$work/nginx.conf" <<CFG
user root;
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  upstream app { server $app:8080; keepalive 64; }
  server {
    listen $theirs:80;
    root $work/site;
    location /api/ { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
  server {
    listen $theirs:443 ssl http2;
    ssl_certificate $work/state-tls/tls/site.crt;
    ssl_certificate_key $work/state-tls/tls/site.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $work/site;
  }
}
CFG
nginx -c "$work/nginx.conf" -g 'daemon off;' &
nginx_master=$!
pids+=($nginx_master)

for url in "http://$ours/1k.html" "http://$theirs/1k.html" "http://$ours/api/x" "http://$theirs/api/x" "https://$ours_tls/1k.html" "https://$theirs/1k.html"; do
  for _ in $(seq 1 200); do curl -sfk -o /dev/null "$url" && break; sleep 0.05; done
  curl -sfk -o /dev/null "$url" || { echo "no answer from $url" >&2; exit 1; }
done
nginx_workers="$(pgrep -P "$nginx_master" | tr '\n' ' ')"

tests=("1k.html" "1m.bin" "api/x" "tls-1k")
# The URL of test $2 on "ours" or "theirs" ($1).
url() {
  case "$1:$2" in
    ours:tls-1k) echo "https://$ours_tls/1k.html" ;;
    theirs:tls-1k) echo "https://$theirs/1k.html" ;;
    ours:*) echo "http://$ours/$2" ;;
    theirs:*) echo "http://$theirs/$2" ;;
  esac
}
for t in "${tests[@]}"; do   # warm both (JIT, caches, upstream connections), untimed
  wrk -t2 -c64 -d3s "$(url ours "$t")" >/dev/null
  wrk -t2 -c64 -d3s "$(url theirs "$t")" >/dev/null
done

side_header nginx
for round in $(seq 1 "$rounds"); do
  for t in "${tests[@]}"; do
    pid=$web1_pid; [ "$t" = tls-1k ] && pid=$web2_pid
    side_round "$t" "$round" $(wrk_measure "$(url ours "$t")" "$pid") $(wrk_measure "$(url theirs "$t")" "$nginx_workers")
  done
done
side_medians nginx "${tests[@]}"
