#!/usr/bin/env bash
# Where the disk's cost lies: one run of `POST /v1/cases` (fsync acknowledgement) against the bench
# app with parts of its data directory on tmpfs (/dev/shm) through symlinks, the rest on disk.
# Comparing placements in the same minutes shows which store's writes hold up the answers.
#
#   bench/server/placement.sh BUILD_DIR CONNECTIONS DURATION_S PLACEMENT
#
# PLACEMENT: disk (the real configuration) | tmpfs (no disk at all) | cases-tmpfs (arbiter.db on
# tmpfs, the ledger on disk) | ledger-tmpfs (the ledger on tmpfs) | tree-tmpfs (arbiter.db and the
# ledger's tree on tmpfs, only the ledger's entries on disk). Prints one line: placement, req/s,
# p50, p99, p999 (ms). Run placements alternately, several rounds: the machine is noisy.
set -euo pipefail
BUILD=$1; CONNS=$2; DUR=$3; PLACE=$4
SRC=$(cd "$(dirname "$0")/../.." && pwd)
DISK=$(mktemp -d); SHM=$(mktemp -d -p /dev/shm)
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$DISK" "$SHM"
}
trap cleanup EXIT
case $PLACE in
  disk) DATA=$DISK/data ;;
  tmpfs) DATA=$SHM/data ;;
  cases-tmpfs) DATA=$SHM/data; mkdir -p "$DATA" "$DISK/ledger"; ln -s "$DISK/ledger" "$DATA/ledger" ;;
  ledger-tmpfs) DATA=$DISK/data; mkdir -p "$DATA" "$SHM/ledger"; ln -s "$SHM/ledger" "$DATA/ledger" ;;
  tree-tmpfs) DATA=$SHM/data; mkdir -p "$DATA/ledger" "$DISK/ledger"
    ln -s "$DISK/ledger/ledger.db" "$DATA/ledger/ledger.db" ;;  # SQLite puts -wal beside the target
  *) echo "unknown placement: $PLACE" >&2; exit 2 ;;
esac
"$BUILD/bench/server/arbiter_bench_app" --pack "$SRC/examples/support" --data "$DATA" --threads 2 \
  --access-log off --evidence-ack fsync > "$DISK/out" 2> "$DISK/err" &
PID=$!
for _ in $(seq 100); do [ -s "$DISK/out" ] && break; sleep 0.1; done
ADDR=$(head -1 "$DISK/out" | grep -oE '127\.0\.0\.1:[0-9]+' | head -1)
BODY='{"id":"L-{seq}","source":"native","subject":"Where is my order?","body":"The tracking page has not changed for five days.","customer":{"id":"cust-1","tier":"standard"},"language":"en","priority":"low","severity":4,"category":"shipping","channel":"web","ai":{"confidence":0.89}}'
"$BUILD/bench/server/arbiter_http_load" --target "$ADDR" --connections "$CONNS" --duration "$DUR" \
  --warmup 1 --label "$PLACE" --method POST --path /v1/cases \
  --header "Authorization: Bearer $(cat "$DATA/admin.token")" --body "$BODY" |
  python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["label"], d["rps"], d["p50_ms"], d["p99_ms"], d["p999_ms"])'
