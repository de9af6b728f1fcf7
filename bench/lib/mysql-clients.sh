# Sourced by the MySQL client benchmarks, after lib/mariadb.sh: the clients they run against $addr.
# Each prints "QUERIES_PER_SECOND CPU_US" (the client's CPU time, user + system, per query).
#   ours CONC N QUERY ENV MODE   Foobar.MySql.Bench from $mysql_bench (built by build_ours), MODE
#                                async or sync, ENV one NAME=VALUE for its environment. Measures its
#                                own CPU over the timed part.
#   slap CONC N QUERY            mariadb-slap; its CPU is its whole process (bash's `time`),
#                                connecting included: a few connections against tens of thousands
#                                of queries.
# And median (of numbers on stdin) and field F (of "q/s,cpu" items on stdin).

build_ours() {
  mysql_bench="$mariadb_dir/bin"
  dotnet publish "$root/bench/Foobar.MySql.Bench" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
    -o "$mysql_bench" --nologo -v quiet >/dev/null
}

ours() { env $4 dotnet "$mysql_bench/Foobar.MySql.Bench.dll" "Server=$addr;User ID=bench;Password=benchpw;Database=bench;SslMode=None;Track Gtid=false" "$1" "$2" "$3" "$5" \
  | awk '{ sub("cpu_us=", "", $3); print $1, $3 }'; }

slap() {
  local out seconds cpu TIMEFORMAT='CPU %U %S'
  out=$( { time mariadb-slap --no-defaults -h $addr -P 3306 -ubench -pbenchpw --create-schema=bench --iterations=1 \
    --concurrency="$1" --number-of-queries="$2" --query="$3" 2>/dev/null; } 2>&1 )
  seconds=$(echo "$out" | awk '/Average number of seconds/ {print $9}')
  cpu=$(echo "$out" | awk '/^CPU/ {print $2 + $3}')
  awk -v n="$2" -v s="$seconds" -v c="$cpu" 'BEGIN { printf "%.0f %.1f", n / s, c * 1e6 / n }'
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Field 1 (q/s) or 2 (CPU µs) of each "q/s,cpu" item of a list.
field() { tr ' ' '\n' | grep . | cut -d, -f"$1" | tr '\n' ' '; }
