#!/usr/bin/env bash
# How fast can one client process go at `SELECT 1` against MariaDB on this machine, whatever the
# language? mariadb-slap (one blocking thread per client), minimal C clients of other designs
# (bench/mysql-reference/client.c: one epoll thread, two epoll threads, one io_uring thread; raw
# packets, nothing parsed) and ours (async) against the same server, alternating rounds.
# Installs gcc, libmariadb-dev and liburing-dev when missing (Debian). Starts its own MariaDB.
# Usage: bench/mysql-reference.sh [ROUNDS] [CONCURRENCY]     (defaults 5, 32)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-5}"
conc="${2:-32}"
n=$((conc * 6250))
if ! command -v gcc >/dev/null || [ ! -e /usr/include/mariadb/mysql.h ] || [ ! -e /usr/include/liburing.h ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libmariadb-dev liburing-dev >/dev/null
fi
# shellcheck source=lib/mariadb.sh
. "$root/bench/lib/mariadb.sh"
# shellcheck source=lib/mysql-clients.sh
. "$root/bench/lib/mysql-clients.sh"
mariadb_start
build_ours
gcc -O2 -Wall -o "$mariadb_dir/client" "$root/bench/mysql-reference/client.c" -I/usr/include/mariadb -lmariadb -luring -lpthread
c() { "$mariadb_dir/client" "$1" "$addr" "$conc" "$n"; }

sides="slap epoll epoll2 uring ours"
declare -A all
slap "$conc" $((n / 4)) "SELECT 1" >/dev/null
for round in $(seq 1 "$rounds"); do
  order="$sides"
  [ $((round % 2)) = 1 ] || order=$(echo "$sides" | tr ' ' '\n' | tac | tr '\n' ' ')
  for side in $order; do
    case $side in
      slap) r=$(slap "$conc" "$n" "SELECT 1") ;;
      epoll) r=$(c epoll) ;;
      epoll2) r=$(EPOLL_THREADS=2 c epollN) ;;
      uring) r=$(c uring) ;;
      ours) r=$(ours "$conc" "$n" "SELECT 1" X=1 async) ;;
    esac
    all[$side]="${all[$side]:-} $(echo "$r" | tr ' ' ,)"
  done
done
s=$(echo ${all[slap]} | field 1 | median)
printf '%-8s %10s %6s %8s   %s\n' client "q/s" ratio "cpu us" "(each round's q/s)"
for side in $sides; do
  q=$(echo ${all[$side]} | field 1 | median)
  printf '%-8s %10s %6.2f %8s   %s\n' "$side" "$q" "$(awk -v a="$q" -v b="$s" 'BEGIN{print a/b}')" \
    "$(echo ${all[$side]} | field 2 | median)" "$(echo ${all[$side]} | field 1)"
done
