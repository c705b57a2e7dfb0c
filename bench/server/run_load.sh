#!/usr/bin/env bash
# Loopback load test of Arbiter's HTTP stack against the transport ceiling, in one run.
#
#   bench/server/run_load.sh [BUILD_DIR] [DURATION_S] [CONNECTIONS]
#
# BUILD_DIR defaults to build/rel (configure with -DCMAKE_BUILD_TYPE=Release and build the targets
# arbiter_http_load arbiter_bench_server arbiter_bench_fixed200 arbiter). Each server is started
# here, measured by arbiter_http_load from a separate process, and stopped by its PID; one JSON
# line per measurement is printed. Everything listens on 127.0.0.1 only.
set -euo pipefail

BUILD=${1:-build/rel}
DURATION=${2:-10}
CONNS=${3:-64}
LOAD="$BUILD/bench/server/arbiter_http_load"
TMP=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# start_server CMD...: runs CMD in the background (SERVER_PID), waits for its first stdout line
# (the address) and puts it in ADDR.
start_server() {
  : > "$TMP/out"
  "$@" > "$TMP/out" 2> "$TMP/err" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    if [ -s "$TMP/out" ]; then break; fi
    sleep 0.1
  done
  ADDR=$(head -n1 "$TMP/out")
  if [ -z "$ADDR" ]; then echo "server did not start: $*" >&2; cat "$TMP/err" >&2; exit 1; fi
}

stop_server() {
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" || true
  SERVER_PID=""
}

run() {  # run LABEL ADDRESS ARGS...
  local label=$1 addr=$2
  shift 2
  "$LOAD" --target "$addr" --connections "$CONNS" --duration "$DURATION" --warmup 1 --label "$label" "$@"
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(uname -r), duration ${DURATION}s, ${CONNS} connections" >&2

start_server "$BUILD/bench/server/arbiter_bench_fixed200" --threads 2
run "beast-fixed-200" "$ADDR" --path /
stop_server

start_server "$BUILD/bench/server/arbiter_bench_server" --threads 2 --access-log off
run "arbiter-get-healthz" "$ADDR" --path /healthz
run "arbiter-post-json" "$ADDR" --method POST --path /v1/echo --body '{"name":"load","n":1,"tags":["a","b"]}'
stop_server

start_server "$BUILD/bench/server/arbiter_bench_server" --threads 2 --access-log "$TMP/access.jsonl"
run "arbiter-post-json+access-log" "$ADDR" --method POST --path /v1/echo --body '{"name":"load","n":1,"tags":["a","b"]}'
stop_server
