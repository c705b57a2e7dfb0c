#!/usr/bin/env bash
# Issue 9's load held for minutes instead of seconds: one bench app (fsync acknowledgement, data on
# disk) takes WINDOWS consecutive windows of `POST /v1/cases`, WINDOW_S seconds each, with new case
# ids in every window. Each window prints one line: its throughput and latency, and how large the
# stores have grown by its end. A short run_decisions.sh round sees a fresh, small database; this
# shows what a server that has been busy for a while does, once its B-trees outgrow SQLite's cache
# and its write-ahead logs cycle.
#
#   bench/server/sustained.sh BUILD_DIR CONNECTIONS WINDOW_S WINDOWS
#
# Prints `window req/s p50 p99 p999 non-2xx errors cases-MB ledger-MB` (ms; MB of arbiter.db and
# of ledger.db with their write-ahead logs).
set -euo pipefail
BUILD=$1; CONNS=$2; DUR=$3; WINDOWS=$4
SRC=$(cd "$(dirname "$0")/../.." && pwd)
DISK=$(mktemp -d)
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$DISK"
}
trap cleanup EXIT
DATA=$DISK/data
"$BUILD/bench/server/arbiter_bench_app" --pack "$SRC/examples/support" --data "$DATA" --threads 2 \
  --access-log off --evidence-ack fsync > "$DISK/out" 2> "$DISK/err" &
PID=$!
for _ in $(seq 100); do [ -s "$DISK/out" ] && break; sleep 0.1; done
ADDR=$(head -1 "$DISK/out" | grep -oE '127\.0\.0\.1:[0-9]+' | head -1)
if [ -z "$ADDR" ]; then echo "bench app did not start" >&2; cat "$DISK/err" >&2; exit 1; fi
megabytes() { du -cm "$@" 2>/dev/null | tail -1 | cut -f1; }
echo "# $(date -u +%FT%TZ) $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), ${CONNS} connections, ${WINDOWS} windows of ${DUR}s" >&2
echo "window req/s p50_ms p99_ms p999_ms non_2xx errors cases_MB ledger_MB"
for w in $(seq "$WINDOWS"); do
  BODY='{"id":"W'$w'-{seq}","source":"native","subject":"Where is my order?","body":"The tracking page has not changed for five days.","customer":{"id":"cust-1","tier":"standard"},"language":"en","priority":"low","severity":4,"category":"shipping","channel":"web","ai":{"confidence":0.89}}'
  LINE=$("$BUILD/bench/server/arbiter_http_load" --target "$ADDR" --connections "$CONNS" \
    --duration "$DUR" --warmup 0 --label "$w" --method POST --path /v1/cases \
    --header "Authorization: Bearer $(cat "$DATA/admin.token")" --body "$BODY" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["label"], d["rps"], d["p50_ms"], d["p99_ms"], d["p999_ms"], d["non_2xx"], d["errors"])')
  echo "$LINE $(megabytes "$DATA"/arbiter.db*) $(megabytes "$DATA"/ledger/ledger.db*)"
done
