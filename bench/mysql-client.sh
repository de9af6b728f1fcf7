#!/usr/bin/env bash
# Our MySQL client against MariaDB's own C client tool (mariadb-slap), same server, same queries,
# same concurrency, alternating rounds. Starts its own MariaDB on 127.0.0.71 (no system service).
# Usage: bench/mysql-client.sh [ROUNDS]     (default 3)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-3}"
# shellcheck source=lib/mariadb.sh
. "$root/bench/lib/mariadb.sh"
mariadb_start

# shellcheck source=lib/mysql-clients.sh
. "$root/bench/lib/mysql-clients.sh"
build_ours
# "async" runs the asynchronous methods (OpenAsync, ExecuteReaderAsync, ReadAsync on tasks) with the
# runtime's defaults: a connection's answers continue on the thread pool. "inline" the same with
# DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1, an application's choice that Foobar's servers
# make: answers continue on the client's event-loop threads (docs/mysql-client.md). "sync" the
# synchronous methods, one thread per client with blocking socket calls, which is how mariadb-slap
# works.

printf '%-20s %5s %10s %10s %6s %10s %6s %10s %6s   %s\n' query conc "slap q/s" "async q/s" ratio "inline q/s" ratio "sync q/s" ratio \
  "client CPU us/query: slap async inline sync"
while IFS='|' read -r name query; do
  for conc in 1 32; do
    # About 3 s a run here: a run of half a second swung by a fifth from one to the next.
    case "$name/$conc" in
      "SELECT 1/1") n=80000 ;; "SELECT 1/32") n=200000 ;;
      "100-row select/1") n=40000 ;; "100-row select/32") n=80000 ;;
      "single-row insert/1") n=50000 ;; *) n=100000 ;;
    esac
    # An untimed run first: the server's first run of a query at a concurrency (threads created,
    # pages and plans cached) is slower, and would count against whoever goes first.
    slap "$conc" "$((n / 4))" "$query" >/dev/null
    s_all=""; o_all=""; i_all=""; y_all=""
    # The machine's speed drifts over minutes: every other round runs in the reverse order, so
    # neither side is always the first (or the last) of a round.
    for round in $(seq 1 "$rounds"); do
      order="slap async inline sync"
      [ $((round % 2)) = 1 ] || order="sync inline async slap"
      for side in $order; do
        case $side in
          slap) s_all="$s_all $(slap "$conc" "$n" "$query" | tr ' ' ,)" ;;
          async) o_all="$o_all $(ours "$conc" "$n" "$query" X=1 async | tr ' ' ,)" ;;
          inline) i_all="$i_all $(ours "$conc" "$n" "$query" DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 async | tr ' ' ,)" ;;
          sync) y_all="$y_all $(ours "$conc" "$n" "$query" X=1 sync | tr ' ' ,)" ;;
        esac
      done
    done
    s=$(echo $s_all | field 1 | median); o=$(echo $o_all | field 1 | median); i=$(echo $i_all | field 1 | median); y=$(echo $y_all | field 1 | median)
    ratio() { awk -v a="$1" -v b="$s" 'BEGIN{print a/b}'; }
    printf '%-20s %5s %10s %10s %6.2f %10s %6.2f %10s %6.2f   %s %s %s %s   (slap:%s | async:%s | inline:%s | sync:%s)\n' "$name" "$conc" "$s" \
      "$o" "$(ratio "$o")" "$i" "$(ratio "$i")" "$y" "$(ratio "$y")" \
      "$(echo $s_all | field 2 | median)" "$(echo $o_all | field 2 | median)" "$(echo $i_all | field 2 | median)" "$(echo $y_all | field 2 | median)" \
      "$(echo $s_all | field 1)" "$(echo $o_all | field 1)" "$(echo $i_all | field 1)" "$(echo $y_all | field 1)"
  done
done <<'QUERIES'
SELECT 1|SELECT 1
100-row select|SELECT * FROM bench.t100
single-row insert|INSERT INTO bench.ins (v) VALUES (1)
QUERIES
