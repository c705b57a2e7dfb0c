#!/usr/bin/env bash
# The README's second command, and what CI runs: installs what Arbiter needs, builds everything, runs every
# test with ctest; then builds the tests under AddressSanitizer+UBSan and runs them again.
# In CI (CI=true) warnings are errors. ARBITER_SKIP_SANITIZERS=1 skips the second pass.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/setup.sh

if [ "${CI:-}" = "true" ]; then
  normal=ci; sanitized=ci-asan
else
  normal=release; sanitized=asan
fi
jobs=$(nproc)

echo "== build ($normal)"
cmake --preset "$normal" >/dev/null
cmake --build "build/$normal" -j "$jobs"
echo "== test ($normal)"
ctest --test-dir "build/$normal" -j "$jobs" --output-on-failure --timeout 1200

if [ "${ARBITER_SKIP_SANITIZERS:-0}" != "1" ]; then
  echo "== build ($sanitized: AddressSanitizer + UBSan)"
  cmake --preset "$sanitized" >/dev/null
  cmake --build "build/$sanitized" -j "$jobs"
  echo "== test ($sanitized)"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  ctest --test-dir "build/$sanitized" -j "$jobs" --output-on-failure --timeout 2400
fi
echo "== all tests passed in $(( $(date +%s) - start )) s"
