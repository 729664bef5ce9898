#!/usr/bin/env bash
# The README's demo: builds, starts the vendor simulators on loopback, shows for each shipped
# locale which plug-ins the gate allows and why not the others, then answers flowing through
# the gate. Runs unattended and exits 0 when everything behaved as shown.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

tools/install-deps.sh
preset=${RG_PRESET:-release}
jobs=${RG_JOBS:-$(nproc)}
echo "== building (preset $preset)"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs" --target regiongate rg-vendor-sim rg_plugins

build=$root/build/$preset
rg=$build/tools/regiongate/regiongate
sim=$build/tools/simulators/rg-vendor-sim
work=$(mktemp -d)
sim_pid=
cleanup() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

echo "== starting the vendor simulators on loopback"
"$sim" --port 0 --port-file "$work/port" >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(cat "$work/port")
echo "rg-vendor-sim listening on 127.0.0.1:$port (OpenAI, DashScope, Qianfan)"

# Simulator credentials, as a real deployment would pass real ones.
export DASHSCOPE_API_KEY=sk-sim-dashscope OPENAI_API_KEY=sk-sim-openai
export QIANFAN_API_KEY=bce-v3/ALTAK-sim QIANFAN_AK=sim-ak QIANFAN_SK=sim-sk
export RG_PLUGIN_DIR=$build/plugins
# Every declared endpoint goes to the simulator; decisions still use the declared endpoints.
run() { "$rg" --endpoint-override "*.*=http://127.0.0.1:$port" "$@"; }

echo
echo "== plug-ins found"
run plugins list

locales=(zh-CN en-US fr-FR ja-JP zh-HK)
for locale in "${locales[@]}"; do
  echo
  echo "== $locale: what the gate allows, and why not the others"
  run explain --locale "$locale"
done

for locale in "${locales[@]}"; do
  echo
  echo "== $locale: one streamed answer through the gate"
  run chat --locale "$locale" --stream "Say hello to $locale in one sentence"
done

echo
echo "== demo finished"
