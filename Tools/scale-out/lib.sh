# Shared by the scale-out rigs (run.sh, per-request.sh): sourced, not run. Installs what is
# missing, picks the build (LOGBOOK_BIN, else a release build), makes DIR, starts one PostgreSQL 15
# on 127.0.0.1:PGPORT with durable defaults (extra server options in PGOPTS), removes everything on
# exit (PIDS: processes to kill), and defines cpu and pg_cpu.
PGBIN=/usr/lib/postgresql/15/bin
[ -x "$PGBIN/pg_ctl" ] || { apt-get update && apt-get install -y postgresql-15; }
command -v wrk >/dev/null || { apt-get update && apt-get install -y wrk; }
if [ -n "${LOGBOOK_BIN:-}" ]; then BIN=$LOGBOOK_BIN; else swift build -c release --product logbook >/dev/null; BIN=$PWD/.build/release/logbook; fi
DIR=$(mktemp -d "/tmp/logbook-$1.XXXXXX")
AS=()
if [ "$(id -u)" = 0 ]; then chown postgres "$DIR"; AS=(runuser -u postgres --); fi
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/pg" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT

"${AS[@]}" "$PGBIN/initdb" -D "$DIR/pg" -U postgres --auth=trust -E UTF8 >/dev/null
"${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg.log" -w \
  -o "-p $PGPORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=200 ${PGOPTS:-}" start </dev/null >/dev/null
PGPID=$(head -1 "$DIR/pg/postmaster.pid")
URL="postgresql://postgres@127.0.0.1:$PGPORT/postgres"
psql() { "${AS[@]}" "$PGBIN/psql" -qtA -h "$DIR" -p "$PGPORT" -U postgres -c "$1" postgres; }

# CPU-seconds of a process (utime+stime), and with "all", of its exited children too.
cpu() { awk -v all="${2:-}" -v hz="$(getconf CLK_TCK)" '{ t = $14 + $15; if (all) t += $16 + $17; printf "%.3f\n", t / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# PostgreSQL's CPU: the postmaster with its exited children, plus every live backend.
pg_cpu() {
  local total; total=$(cpu "$PGPID" all)
  for child in $(pgrep -P "$PGPID"); do total=$(echo "$total + $(cpu "$child")" | bc); done
  printf "%.3f\n" "$total"
}
