#!/usr/bin/env bash
# Instructions per operation of the identity hot paths, counted by callgrind: unlike CPU time,
# the count does not depend on how loaded the (shared) machine is.
#
#   bench/identity/instructions.sh [build/rel/bench/identity/identity_bench]
#
# For each row: runs one benchmark under callgrind and divides the inclusive cost of the measured
# functions by the number of times the benchmark loop called the first of them. Setup (keys,
# databases, tokens minted outside the timed region) is not counted. Takes a few minutes.
set -euo pipefail
bin=${1:-build/rel/bench/identity/identity_bench}
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is not installed" >&2; exit 1; }
[[ -x "$bin" ]] || { echo "instructions.sh: no benchmark binary at $bin" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# measure LABEL FILTER BENCH_FUNCTION MEASURED_FUNCTION...
measure() {
  local label=$1 filter=$2 bm=$3
  shift 3
  valgrind --tool=callgrind --callgrind-out-file="$work/cg" "$bin" \
    --benchmark_filter="^${filter}\$" --benchmark_min_time=1 >"$work/log" 2>&1 ||
    { cat "$work/log" >&2; exit 1; }
  callgrind_annotate --inclusive=yes --tree=calling "$work/cg" >"$work/tree"
  local total=0 calls=0 fn line n c
  for fn in "$@"; do
    # In the block of BM_x, the callee line: "  1,234 (0.5%)  >   ???:fn(...) (56x) [...]".
    line=$(awk -v bm="$bm(" -v fn="$fn(" '
      / \*  / { inblock = index($0, bm) > 0; next }
      inblock && / >   / && index($0, fn) { print; exit }' "$work/tree")
    [[ -n "$line" ]] || { echo "instructions.sh: $fn not found under $bm" >&2; exit 1; }
    n=$(echo "$line" | awk '{ gsub(",", "", $1); print $1 }')
    c=$(echo "$line" | sed -E 's/.*\(([0-9,]+)x\) \[.*/\1/; s/,//g')
    total=$((total + n))
    [[ $calls -ne 0 ]] || calls=$c
  done
  printf '%-44s %12d instructions/op  (%d ops)\n' "$label" $((total / calls)) "$calls"
}

measure "peer: ES256 sign" BM_Peer_OpenSslEs256Sign BM_Peer_OpenSslEs256Sign \
  arbiter::EcdsaP256PrivateKey::Sign
measure "peer: ES256 verify" BM_Peer_OpenSslEs256Verify BM_Peer_OpenSslEs256Verify \
  arbiter::EcdsaP256PublicKey::Verify
measure "peer: Ed25519 sign" BM_Peer_OpenSslEd25519Sign BM_Peer_OpenSslEd25519Sign \
  arbiter::Ed25519PrivateKey::Sign
measure "peer: Ed25519 verify" BM_Peer_OpenSslEd25519Verify BM_Peer_OpenSslEd25519Verify \
  arbiter::Ed25519Verify
measure "mint" BM_IntentMint BM_IntentMint arbiter::grants::IntentTokenService::Mint
measure "mint + offline verify (JWKS)" BM_IntentMintAndVerify BM_IntentMintAndVerify \
  arbiter::grants::IntentTokenService::Mint arbiter::grants::VerifyIntentToken
measure "mint + introspect (in-memory)" BM_IntentMintAndIntrospect/0 BM_IntentMintAndIntrospect \
  arbiter::grants::IntentTokenService::Mint arbiter::grants::IntentTokenService::Introspect
measure "introspect (in-memory SQLite)" BM_IntentIntrospect/0 BM_IntentIntrospect \
  arbiter::grants::IntentTokenService::Introspect
measure "introspect (file SQLite, WAL, NORMAL)" BM_IntentIntrospect/1 BM_IntentIntrospect \
  arbiter::grants::IntentTokenService::Introspect
measure "introspect (file + mapped single-use file)" BM_IntentIntrospect/3 BM_IntentIntrospect \
  arbiter::grants::IntentTokenService::Introspect
measure "introspect (in-memory + mapped file)" BM_IntentIntrospect/5 BM_IntentIntrospect \
  arbiter::grants::IntentTokenService::Introspect
measure "mint + introspect (in-memory + mapped file)" BM_IntentMintAndIntrospect/5 \
  BM_IntentMintAndIntrospect arbiter::grants::IntentTokenService::Mint \
  arbiter::grants::IntentTokenService::Introspect
measure "mint + introspect (file + mapped file)" BM_IntentMintAndIntrospect/3 \
  BM_IntentMintAndIntrospect arbiter::grants::IntentTokenService::Mint \
  arbiter::grants::IntentTokenService::Introspect
measure "introspect, replayed jti" BM_IntentIntrospectReplay BM_IntentIntrospectReplay \
  arbiter::grants::IntentTokenService::Introspect
