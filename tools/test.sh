#!/usr/bin/env bash
# The README's test command: installs what is missing, builds the CI preset (warnings are
# errors) in parallel, and runs the whole suite, printing ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
preset=${RG_PRESET:-ci}
jobs=${RG_JOBS:-$(nproc)}
cmake --preset "$preset"
cmake --build --preset "$preset" -j "$jobs"
ctest --preset "$preset" -j "$jobs"
