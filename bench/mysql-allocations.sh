#!/usr/bin/env bash
# BenchmarkDotNet (MemoryDiagnoser) for reading a 100-row result, against a MariaDB of its own.
# Usage: bench/mysql-allocations.sh [BenchmarkDotNet arguments]   (default: --job short)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/mariadb.sh
. "$root/bench/lib/mariadb.sh"
mariadb_start
export FOOBAR_BENCH_MYSQL="Server=$addr;User ID=bench;Password=benchpw;Database=bench;SslMode=None;Track Gtid=false"
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--job short)
dotnet run -c Release --project "$root/bench/Foobar.MySql.Benchmarks" -- --filter '*' "${args[@]}"
