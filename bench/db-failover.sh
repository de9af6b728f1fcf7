#!/usr/bin/env bash
# Failover under load (issue 4): the default topology on its own range with failover_block 1s;
# four writers sign the guestbook through the public address as fast as they can; each round
# kills the primary with `foobar kill`, times kill → first write acknowledged by the new primary,
# then starts the old primary and waits until it replicates again. Ends by reading back every
# acknowledged entry. Usage: bench/db-failover.sh [ROUNDS]   (default 10)
# The time starts when `foobar kill` returns (the SIGKILL has been sent); for comparison,
# Orchestrator takes 10-13 s at GitHub and MaxScale's defaults up to 25 s.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-10}"
work="$(mktemp -d /tmp/foobar-failover.XXXXXX)"
trap '"$root/foobar" down --state "$work/state" >/dev/null 2>&1 || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
sed -e 's|range: 127.10.0.0/24|range: 127.33.0.0/24|' -e "s|root: site|root: $root/site|" \
    -e 's|^db:$|db:\n  failover_block: 1s|' -e 's|write_limit: [^ ]*|write_limit: off|' \
    -e 's|^  http: 80 .*|  http: 80\n  redirect: false|' "$root/foobar.yaml" > "$work/foobar.yaml"
grep -q 'failover_block: 1s' "$work/foobar.yaml" || { echo "could not set failover_block in the bench topology" >&2; exit 1; }
# The writers are one client writing as fast as the site takes it: no per-client limit.
grep -q 'write_limit: off' "$work/foobar.yaml" || { echo "could not turn write_limit off in the bench topology" >&2; exit 1; }
# The writers speak plain HTTP to the public address: no redirect to https://www.foobar.com/ (a name this machine may not resolve).
grep -q 'redirect: false' "$work/foobar.yaml" || { echo "could not turn the https redirect off in the bench topology" >&2; exit 1; }
dotnet publish "$root/bench/Foobar.Failover.Bench" -c Release -o "$work/bin" --nologo -v quiet >/dev/null
"$root/foobar" up --detach -t "$work/foobar.yaml" --state "$work/state" >/dev/null
dotnet "$work/bin/Foobar.Failover.Bench.dll" "$root/foobar" "$work/state" 127.33.0.1 "$rounds"
