# Sourced by the MySQL benchmarks: a MariaDB of their own on $addr:3306 (no system service) with a
# `bench` schema: t100 (100 rows of int, varchar, double, datetime) and ins (for inserts).
# Defines: addr, mariadb_dir, mariadb_start, mariadb_stop. Stops the server on exit.
# The server writes its redo log at each commit but flushes it to disk once a second
# (innodb_flush_log_at_trx_commit=2): these benchmarks measure clients, and one fsync per insert
# made a single-row insert at concurrency 1 a measure of this VM's disk (mariadb-slap's own rounds
# spread 2,294-3,191 inserts/s in one run). Both clients meet the same server either way.
addr="${addr:-127.0.0.71}"
mariadb_dir="$(mktemp -d /tmp/foobar-bench-mysql.XXXXXX)"
mariadb_pid=""

mariadb_stop() {
  if [ -n "$mariadb_pid" ] && kill "$mariadb_pid" 2>/dev/null; then
    while kill -0 "$mariadb_pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -rf "$mariadb_dir"
}
trap mariadb_stop EXIT

mariadb_start() {
  mkdir -p "$mariadb_dir/tmp"
  mariadb-install-db --no-defaults --user=root --datadir="$mariadb_dir/data" --auth-root-authentication-method=socket \
    --skip-test-db --skip-name-resolve --tmpdir="$mariadb_dir/tmp" >"$mariadb_dir/install.log" 2>&1
  mariadbd --no-defaults --user=root --datadir="$mariadb_dir/data" --socket="$mariadb_dir/sock" --pid-file="$mariadb_dir/pid" \
    --log-error="$mariadb_dir/error.log" --tmpdir="$mariadb_dir/tmp" --bind-address="$addr" --port=3306 --server-id=1 \
    --skip-name-resolve --character-set-server=utf8mb4 --max-connections=200 --innodb-flush-log-at-trx-commit=2 </dev/null >"$mariadb_dir/out.log" 2>&1 &
  mariadb_pid=$!
  for _ in $(seq 1 300); do mariadb --no-defaults -uroot -S "$mariadb_dir/sock" -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.05; done
  mariadb --no-defaults -uroot -S "$mariadb_dir/sock" -e "
    CREATE USER 'bench'@'%' IDENTIFIED BY 'benchpw'; GRANT ALL ON *.* TO 'bench'@'%';
    CREATE DATABASE bench; USE bench;
    CREATE TABLE bench.t100 (id INT PRIMARY KEY, name VARCHAR(32), score DOUBLE, created DATETIME);
    INSERT INTO bench.t100 SELECT seq, CONCAT('name-', seq), seq * 1.5, NOW() FROM seq_1_to_100;
    CREATE TABLE bench.ins (id INT AUTO_INCREMENT PRIMARY KEY, v INT);"
}
