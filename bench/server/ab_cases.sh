#!/usr/bin/env bash
# Two builds of arbiter_bench_app against each other on `POST /v1/cases` (fsync ack, 2 I/O
# threads, access log off), rounds interleaved (A B, A B, ...) so that a noisy machine hits both
# alike; one JSON line per run from arbiter_http_load. For before/after comparisons of a change when
# the machine is too loaded for run_decisions.sh's absolute figures.
#
#   bench/server/ab_cases.sh BUILD_A BUILD_B [CONNECTIONS] [DURATION_S] [ROUNDS]
#
# Each BUILD_x holds bench/server/arbiter_bench_app; the load generator comes from BUILD_B. Servers
# listen on 127.0.0.1 only and are stopped by their PID.
set -euo pipefail

A=$1
B=$2
CONNS=${3:-64}
DURATION=${4:-5}
ROUNDS=${5:-3}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
LOAD="$B/bench/server/arbiter_http_load"
BODY='{"id":"P-{seq}","source":"native","subject":"Where is my order?","body":"The tracking page has not changed for five days.","customer":{"id":"cust-1","tier":"standard"},"language":"en","priority":"low","severity":4,"category":"shipping","channel":"web","ai":{"confidence":0.89}}'
TMP=""
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  if [ -n "$TMP" ]; then rm -rf "$TMP"; fi
}
trap cleanup EXIT

for round in $(seq 1 "$ROUNDS"); do
  for build in "$A" "$B"; do
    TMP=$(mktemp -d)
    "$build/bench/server/arbiter_bench_app" --pack "$SRC/examples/support" --data "$TMP/data" \
      --threads 2 --access-log off --evidence-ack fsync > "$TMP/out" 2> "$TMP/err" &
    PID=$!
    for _ in $(seq 1 600); do [ -s "$TMP/out" ] && break; sleep 0.05; done
    ADDR=$(head -n1 "$TMP/out")
    [ -n "$ADDR" ] || { echo "$build: arbiter_bench_app did not start" >&2; cat "$TMP/err" >&2; exit 1; }
    "$LOAD" --target "$ADDR" --connections "$CONNS" --duration "$DURATION" --warmup 1 \
      --label "$build round $round" --method POST --path /v1/cases \
      --header "Authorization: Bearer $(cat "$TMP/data/admin.token")" --body "$BODY"
    kill "$PID"
    wait "$PID" || true
    PID=""
    rm -rf "$TMP"
    TMP=""
  done
done
