#!/usr/bin/env bash
# The README's first command: installs what Arbiter needs, builds it (Release), and starts its main job.
# Extra arguments go to `arbiter`; with none, it starts the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build build/release --target arbiter
if [ "$#" -gt 0 ]; then
  exec build/release/src/arbiter/cli/arbiter "$@"
fi
# Until the server lands, the main job is the CLI itself: show what it can do.
exec build/release/src/arbiter/cli/arbiter --help
