#!/usr/bin/env bash
# Instructions per `POST /v1/cases`, by part, with callgrind: the method of docs/benchmarks/server.md
# as one command. Starts arbiter_bench_app (1 I/O thread) under valgrind --tool=callgrind, drives it
# with arbiter_http_load (4 connections), stops it, and prints the inclusive instruction counts of
# the request path's main functions divided by the number of requests answered. Instruction counts
# do not depend on the machine's load.
#
#   bench/server/profile_cases.sh [BUILD_DIR] [DURATION_S] [fsync|written]
#
# Needs valgrind and callgrind_annotate, and in BUILD_DIR (Release): bench/server/arbiter_bench_app,
# bench/server/arbiter_http_load.
set -euo pipefail

BUILD=${1:-build/rel}
DURATION=${2:-20}
ACK=${3:-fsync}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  if [ -n "${KEEP:-}" ]; then cp "$TMP/cg.out" "$KEEP"; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.out" \
  "$BUILD/bench/server/arbiter_bench_app" --pack "$SRC/examples/support" --data "$TMP/data" \
  --threads 1 --access-log off --evidence-ack "$ACK" > "$TMP/out" 2> "$TMP/err" &
PID=$!
for _ in $(seq 1 1200); do [ -s "$TMP/out" ] && break; sleep 0.1; done
ADDR=$(head -n1 "$TMP/out")
[ -n "$ADDR" ] || { echo "arbiter_bench_app did not start" >&2; cat "$TMP/err" >&2; exit 1; }
BODY='{"id":"P-{seq}","source":"native","subject":"Where is my order?","body":"The tracking page has not changed for five days.","customer":{"id":"cust-1","tier":"standard"},"language":"en","priority":"low","severity":4,"category":"shipping","channel":"web","ai":{"confidence":0.89}}'
"$BUILD/bench/server/arbiter_http_load" --target "$ADDR" --connections 4 --duration "$DURATION" \
  --warmup 1 --label profile --method POST --path /v1/cases \
  --header "Authorization: Bearer $(cat "$TMP/data/admin.token")" --body "$BODY" > "$TMP/load.json"
kill -TERM "$PID"
wait "$PID" || true
PID=""
# Requests answered: warm-up included (callgrind counts the whole run), from the server's metrics
# would need the server alive; the ledger's entry count is exact (one evidence entry per case, plus
# the pack load).
REQUESTS=$(python3 - "$TMP/data/ledger/ledger.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT coalesce(sum(count), 0) FROM ledger_entries").fetchone()[0] - 1)
PY
)
echo "# $(date -u +%FT%TZ) evidence_ack=$ACK requests=$REQUESTS load: $(cat "$TMP/load.json")"
callgrind_annotate --inclusive=yes --threshold=100 "$TMP/cg.out" 2>/dev/null | python3 -c '
import re, sys
n = int(sys.argv[1])
want = [
    ("whole dispatch (parse, authenticate, route, answer)", "arbiter::server::Dispatcher::Dispatch(arbiter::server::HttpRequest const&) ["),
    ("authentication (IdentityAuthenticator)", "arbiter::server::IdentityAuthenticator::Authenticate("),
    ("UserDirectory::Authenticate", "arbiter::identity::UserDirectory::Authenticate("),
    ("RoutingService::RouteCase", "arbiter::routing::RoutingService::RouteCase("),
    ("SqliteRoutingStore::Put (serialise and queue the case row)", "SqliteRoutingStore::Put("),
    ("case-row committer thread (SqliteRoutingStore::Run)", "arbiter::routing::SqliteRoutingStore::Run()"),
    ("evidence committer thread (Ledger::AppendBatch)", "arbiter::server::EvidenceCommitter::Run()"),
    ("ledger integrator thread (tiles, checkpoint signature)", "LedgerImpl::IntegratorLoop()"),
]
rows = {}
for line in sys.stdin:
    m = re.match(r"\s*([\d,]+) ", line)
    if not m: continue
    for label, needle in want:
        if needle in line and label not in rows: rows[label] = int(m.group(1).replace(",", ""))
print("| part | instructions per request |")
print("|---|---:|")
for label, _ in want:
    if label in rows: print(f"| {label} | {rows[label] / n / 1000:.0f}k |")
' "$REQUESTS"
