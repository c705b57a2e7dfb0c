#!/usr/bin/env bash
# The README's first command: installs what Arbiter needs, builds it (Release), and starts Arbiter's
# main job: the server on the example policy pack with the embedded store in ./arbiter-data.
# With arguments, runs `arbiter ARGS...` instead (e.g. `bash scripts/run.sh cedar --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build build/release --target arbiter
if [ "$#" -gt 0 ]; then
  exec build/release/src/arbiter/cli/arbiter "$@"
fi
exec build/release/src/arbiter/cli/arbiter serve --pack examples/support --data arbiter-data \
  --listen "${ARBITER_LISTEN:-127.0.0.1:8080}"
