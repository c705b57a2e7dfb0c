#!/usr/bin/env bash
# Issue 9's load target, side by side in one run: `POST /v1/cases` on the assembled service
# (arbiter_bench_app: the App that `arbiter serve` runs, examples/support pack) in both
# acknowledgement modes — `fsync` (evidence fsynced before each response, the default) and
# `written` (evidence committed to the ledger's write-ahead log, fsynced within 20 ms) — against the
# transport
# ceiling (a minimal Beast server answering a fixed 200) and an Express server making the same Cedar
# decision with @cedar-policy/cedar-wasm. Rounds are interleaved (A B C, A B C, ...) so that the
# machine's noise hits every server alike; the summary prints the median of the rounds.
#
#   bench/server/run_decisions.sh [BUILD_DIR] [DURATION_S] [CONNECTIONS] [ROUNDS]
#
# Needs, in BUILD_DIR (Release): bench/server/arbiter_bench_app, bench/server/arbiter_http_load,
# bench/server/arbiter_bench_fixed200; and the npm packages in BUILD_DIR/npm-server (installed
# here when missing: npm install --prefix BUILD_DIR/npm-server express @cedar-policy/cedar-wasm).
# Every server listens on 127.0.0.1 only and is stopped by its PID.
#
# BASE_BUILD=DIR (optional) also runs DIR's arbiter_bench_app in every round, labelled `...-base`,
# for a before/after comparison in one run. After each arbiter run the group committers' metrics
# (batches, per-stage seconds, largest batch) go to stderr as `# stages LABEL ...`.
# BODIES=mix sends the example pack's 240 sample cases in turn instead of one case repeated.
# PEERS=0 leaves out the fixed-200 and Express servers (a quick before/after of two builds when the
# machine is too loaded for absolute figures); ACKS="fsync" (default "fsync written") picks the
# acknowledgement modes. E.g. PEERS=0 ACKS=fsync BASE_BUILD=/tmp/old bench/server/run_decisions.sh build/rel
set -euo pipefail

BUILD=${1:-build/rel}
DURATION=${2:-5}
CONNS=${3:-64}
ROUNDS=${4:-3}
PEERS=${PEERS:-1}
ACKS=${ACKS:-fsync written}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
LOAD="$BUILD/bench/server/arbiter_http_load"
NPM="$BUILD/npm-server"
TMP=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

if [ "$PEERS" = 1 ] && { [ ! -d "$NPM/node_modules/@cedar-policy/cedar-wasm" ] || [ ! -d "$NPM/node_modules/express" ]; }; then
  mkdir -p "$NPM"
  npm install --prefix "$NPM" express @cedar-policy/cedar-wasm >&2 ||
    { echo "npm install into $NPM failed" >&2; exit 1; }
fi

# start_server FIRST_LINE_FILTER CMD...: runs CMD in the background (SERVER_PID) and waits (up to
# 60 s: wasm compilation on a loaded machine is slow) for the address on its stdout.
start_server() {
  local filter=$1
  shift
  : > "$TMP/out"
  "$@" > "$TMP/out" 2> "$TMP/err" &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    if [ -s "$TMP/out" ]; then break; fi
    sleep 0.1
  done
  ADDR=$(head -n1 "$TMP/out" | $filter)
  if [ -z "$ADDR" ]; then echo "server did not start: $*" >&2; cat "$TMP/err" >&2; exit 1; fi
}
stop_server() {
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" || true
  SERVER_PID=""
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The routine case of the examples (stays with AI); `{seq}` makes each request a new case.
BODY='{"id":"L-{seq}","source":"native","subject":"Where is my order?","body":"The tracking page has not changed for five days.","customer":{"id":"cust-1","tier":"standard"},"language":"en","priority":"low","severity":4,"category":"shipping","channel":"web","ai":{"confidence":0.89}}'
# BODIES=mix: every server gets the example pack's 240 sample cases in turn (each with id
# M-<seq>) instead of the one case above: other texts, tiers, indicators and routes.
BODY_ARGS=(--body "$BODY")
if [ "${BODIES:-one}" = mix ]; then
  python3 - "$SRC/examples/support/tests/cases.jsonl" > "$TMP/bodies.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    if line.strip():
        case = json.loads(line)["case"]
        case["id"] = "M-{seq}"
        print(json.dumps(case, separators=(",", ":")))
PY
  BODY_ARGS=(--bodies "$TMP/bodies.jsonl")
fi
TOKEN=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')

run() {  # run LABEL ADDRESS ARGS...
  local label=$1 addr=$2
  shift 2
  "$LOAD" --target "$addr" --connections "$CONNS" --duration "$DURATION" --warmup 1 --label "$label" "$@" | tee -a "$TMP/results.jsonl"
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg), duration ${DURATION}s, ${CONNS} connections, ${ROUNDS} rounds" >&2

for round in $(seq 1 "$ROUNDS"); do
  if [ "$PEERS" = 1 ]; then
    start_server cat "$BUILD/bench/server/arbiter_bench_fixed200" --threads 2
    run "beast-fixed-200" "$ADDR" --path /
    stop_server
  fi

  for ack in $ACKS; do
    for variant in "" ${BASE_BUILD:+base}; do
      APP_BUILD=$BUILD
      LABEL="arbiter-cases-ack-$ack"
      if [ -n "$variant" ]; then APP_BUILD=$BASE_BUILD; LABEL="$LABEL-base"; fi
      DATA="$TMP/data-$round-$ack-$variant"
      start_server cat "$APP_BUILD/bench/server/arbiter_bench_app" --pack "$SRC/examples/support" \
        --data "$DATA" --threads 2 --access-log off --evidence-ack "$ack"
      ADMIN=$(cat "$DATA/admin.token")
      run "$LABEL" "$ADDR" --method POST --path /v1/cases \
        --header "Authorization: Bearer $ADMIN" "${BODY_ARGS[@]}"
      if command -v curl > /dev/null; then
        curl -s -H "Authorization: Bearer $ADMIN" "http://$ADDR/metrics" |
          awk -v l="$LABEL" '/^arbiter_group_commit/ { s = s " " $1 "=" $2 } END { print "# stages " l s }' |
          tee -a "$TMP/stages" >&2 || true
      fi
      # Bytes the server handed to write/pwrite (wchar) and the fsyncs it made, whole run.
      # ... and its CPU time (user + system, clock ticks), whole run.
      awk -v l="$LABEL" -v t="$(awk '{ print "cpu_ticks:" $14 + $15 }' "/proc/$SERVER_PID/stat")" \
        '/^(wchar|syscw)/ { s = s " " $1 $2 } END { print "# io " l s " " t }' "/proc/$SERVER_PID/io" |
        tee -a "$TMP/stages" >&2 || true
      # The write-ahead logs as the load ends (SQLite removes them when the server closes).
      du -k "$DATA/arbiter.db-wal" "$DATA/ledger/ledger.db-wal" "$DATA/ledger/ledger-tree.db-wal" 2>/dev/null |
        awk -v l="$LABEL" '{ s = s " " $2 "=" $1 "K" } END { print "# wal " l s }' | sed "s|$DATA/||g" |
        tee -a "$TMP/stages" >&2 || true
      stop_server
      du -k "$DATA/arbiter.db" "$DATA/arbiter.db-wal" "$DATA/ledger/ledger.db" "$DATA/ledger/ledger.db-wal" \
        "$DATA/ledger/ledger-tree.db" "$DATA/ledger/ledger-tree.db-wal" 2>/dev/null |
        awk -v l="$LABEL" '{ s = s " " $2 "=" $1 "K" } END { print "# files " l s }' | sed "s|$DATA/||g" |
        tee -a "$TMP/stages" >&2 || true
    done
  done

  if [ "$PEERS" = 1 ]; then
    PORT=$(free_port)
    start_server cat env NODE_PATH="$NPM/node_modules" node "$SRC/bench/server/express_cedar_server.js" \
      --pack "$SRC/examples/support" --token "$TOKEN" --port "$PORT" --workers 2
    run "express-cedar-wasm" "$ADDR" --method POST --path /v1/cases \
      --header "Authorization: Bearer $TOKEN" "${BODY_ARGS[@]}"
    stop_server
  fi
done

echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
python3 - "$TMP/results.jsonl" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
labels = []
for r in rows:
    if r["label"] not in labels: labels.append(r["label"])
med = {}
for label in labels:
    rs = [r for r in rows if r["label"] == label]
    med[label] = {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50_ms", "p99_ms", "p999_ms", "max_ms", "non_2xx", "errors")}
    med[label]["runs"] = len(rs)
    med[label]["rps_runs"] = [round(r["rps"]) for r in rs]
base = med.get("beast-fixed-200", {}).get("rps")
express = med.get("express-cedar-wasm", {}).get("rps")
print("| server | median req/s | runs (req/s) | p50 ms | p99 ms | p999 ms | max ms | non-2xx | vs fixed-200 | vs express |")
print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
for label in labels:
    m = med[label]
    ratio = m["rps"] / base if base else float("nan")
    vs = m["rps"] / express if express else float("nan")
    print(f"| {label} | {m['rps']:.0f} | {m['rps_runs']} | {m['p50_ms']:.2f} | {m['p99_ms']:.2f} | {m['p999_ms']:.2f} | {m['max_ms']:.2f} | {m['non_2xx']:.0f} | {ratio:.2f} | {vs:.2f} |")
EOF
# Per request, medians of the rounds, from the committers' metrics, /proc/PID/io and the files.
if [ -s "$TMP/stages" ]; then
  python3 - "$TMP/stages" <<'EOF'
import collections, os, re, statistics, sys
TICKS = os.sysconf("SC_CLK_TCK")
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    m = re.match(r"# (io|stages|files|wal) (\S+) ?(.*)", line)
    if m: runs[m.group(2)].append((m.group(1), m.group(3)))
print()
print("| server | rows per case txn | rows per evidence batch | KB written per request | arbiter.db KB per case | case txn ms | evidence batch ms | oldest entry's wait ms | write calls per request | server CPU us per request | arbiter.db-wal MB at end | ledger.db-wal MB at end |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for label, items in runs.items():
    def parse(r, sep): return dict(kv.rsplit(sep, 1) for kv in r.split() if sep in kv)
    stages = [parse(r, "=") for k, r in items if k == "stages"]
    ios = [parse(r, ":") for k, r in items if k == "io"]
    files = [parse(r, "=") for k, r in items if k == "files"]
    wals = [parse(r, "=") for k, r in items if k == "wal"] or [{}] * len(files)
    out = []
    for s, io, f, w in zip(stages, ios, files, wals):
        g = lambda name, c, k: float(s.get('arbiter_group_commit_%s{committer="%s",%s}' % (name, c, k), "nan"))
        n = g("rows", "evidence", 'kind="committed"')
        cb, eb = g("rows", "cases", 'kind="batches"'), g("rows", "evidence", 'kind="batches"')
        out.append([n / cb, n / eb, float(io.get("wchar", "nan")) / n / 1024,
                    float(f.get("arbiter.db", "nanK")[:-1]) / n,
                    g("seconds", "cases", 'stage="commit"') / cb * 1e3,
                    g("seconds", "evidence", 'stage="commit"') / eb * 1e3,
                    g("seconds", "evidence", 'stage="queue_wait"') / eb * 1e3,
                    float(io.get("syscw", "nan")) / n,
                    float(io.get("cpu_ticks", "nan")) / TICKS / n * 1e6,
                    float(w.get("arbiter.db-wal", "nanK")[:-1]) / 1024,
                    float(w.get("ledger/ledger.db-wal", "nanK")[:-1]) / 1024])
    if not out: continue
    med = [statistics.median(o[i] for o in out) for i in range(len(out[0]))]
    print(f"| {label} | " + " | ".join(f"{v:.2f}" if 4 <= i < 7 else f"{v:.0f}" if i == 8 else f"{v:.1f}" for i, v in enumerate(med)) + " |")
EOF
fi
