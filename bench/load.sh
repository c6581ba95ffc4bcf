#!/usr/bin/env bash
# bench/load.sh (make bench-load, and the last part of make bench): satmark under many
# analysts at once, and killed under them. Two runs of bench/load, on loopback only:
#
#   1. steady: 50 simulated analysts (each its own account and API token) create, edit,
#      delete, comment on and list annotations on the two shared sample images for 60 s; then a
#      graceful stop (SIGTERM) and the checks of the database
#   2. crash: the same, but satmark is killed with SIGKILL 30 s in, restarted on the same
#      data and checked (database and API), then the load resumes for the other 30 s
#
# Each prints a table (latency by operation, statuses) and the checks; both tables are
# written to bench/out/load-results.txt. A run fails (non-zero exit) on any 5xx, a request
# unanswered while the server was up, or a failed check. The data folders go to a
# temporary folder under bench/out, removed at the end unless a run failed or BENCH_KEEP=1.
#
# Environment: BENCH_LOAD_ANALYSTS (default 50), BENCH_LOAD_DURATION (default 60s),
# BENCH_LOAD_KILL_AFTER (default 30s), BENCH_SATMARK (the binary, default bin/satmark),
# BENCH_KEEP=1 (keep the data folders).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
GO=${GO:-go}
SATMARK=${BENCH_SATMARK:-$ROOT/bin/satmark}
ANALYSTS=${BENCH_LOAD_ANALYSTS:-50}
DURATION=${BENCH_LOAD_DURATION:-60s}
KILL_AFTER=${BENCH_LOAD_KILL_AFTER:-30s}

[[ -x $SATMARK ]] || { echo "bench: $SATMARK is missing: run make bench-load (it builds first)" >&2; exit 1; }
mkdir -p "$OUT"
WORK=$(mktemp -d "$OUT/load.XXXXXX")
"$GO" build -o "$WORK/load" ./bench/load || { rm -rf "$WORK"; exit 1; }

rc=0
# run NAME [FLAGS] runs bench/load once, its table to the terminal and $WORK/NAME.txt.
run() {
	local name=$1
	shift
	printf '\n== %s\n' "$name" >&2
	"$WORK/load" -satmark "$SATMARK" -analysts "$ANALYSTS" -duration "$DURATION" -data "$WORK/$name" "$@" |
		tee "$WORK/$name.txt" || rc=1
}
run steady
run crash -kill-after "$KILL_AFTER"
{
	cat "$WORK/steady.txt"
	echo
	cat "$WORK/crash.txt"
} >"$OUT/load-results.txt"

if [[ $rc -ne 0 || ${BENCH_KEEP:-} == 1 ]]; then
	echo "bench: data folders, journals and satmark's logs kept in $WORK" >&2
else
	rm -rf "$WORK"
fi
exit "$rc"
