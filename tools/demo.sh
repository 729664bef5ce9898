#!/usr/bin/env bash
# The README's demo: builds, starts the vendor simulators on loopback, shows for each shipped
# locale which plug-ins the gate allows and why not the others, then answers flowing through
# the gate. Runs unattended and exits 0 when everything behaved as shown.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

tools/install-deps.sh
preset=${RG_PRESET:-ci}  # the same build as tools/test.sh, so running both builds once
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
export DEEPSEEK_API_KEY=sk-sim-openai
export RG_PLUGIN_DIR=$build/plugins
# Kept after the demo so it can be inspected (and verified again) by hand.
audit_dir=$build/demo-audit
rm -rf "$audit_dir"
# Every declared endpoint goes to the simulator; decisions still use the declared endpoints.
run() {
  "$rg" --audit-dir "$audit_dir" --endpoint-override "*.*=http://127.0.0.1:$port" "$@" \
    2> >(grep -v "endpoint override" >&2)
}
# Expect exit code $1 from the rest of the command line.
expect() {
  local want=$1; shift
  local got=0
  run "$@" || got=$?
  if [ "$got" -ne "$want" ]; then
    echo "demo: expected exit code $want, got $got from: $*" >&2
    exit 1
  fi
}

echo
echo "== plug-ins found"
run plugins list

locales=(zh-CN en-US fr-FR ja-JP zh-HK)
for locale in "${locales[@]}"; do
  echo
  echo "== $locale: what the gate allows, and why not the others"
  run explain --locale "$locale" --brief
done

for locale in "${locales[@]}"; do
  echo
  echo "== $locale: one streamed answer through the gate, with its label"
  expect 0 chat --locale "$locale" --stream "Say hello to $locale in one sentence"
done

echo
echo "== zh-CN: OpenAI is refused outright (exit code 2, with the reasons)"
expect 2 chat --locale zh-CN --plugin openai "hello" 2> >(head -n 4 >&2)

echo
echo "== zh-CN: an input the content filter refuses (traditional characters, full-width)"
echo "   (sample term 示例违禁词 from config/lexicons/zh-CN/tc260-a1-a2.tsv, written 示例違禁詞)"
expect 2 chat --locale zh-CN "请介绍一下示例違禁詞"

echo
echo "== zh-CN: an answer stopped mid-stream: the model starts to say a blocked term"
echo "   (the simulator's [[sim:reverse]] makes the model say what the prompt spelled backwards)"
expect 2 chat --locale zh-CN --stream "[[sim:reverse]] 词禁违例示 是什么意思"

echo
echo "== a vendor-side block is reported the same way (DashScope data_inspection_failed)"
expect 2 chat --locale zh-CN --stream "[[sim:output-block]] tell me a long story"

echo
echo "== the audit trail: one hash-chained record per request, refusals included"
find "$audit_dir" -name '*.jsonl' | sort
for trail in "$audit_dir"/*/; do
  expect 0 audit verify "$trail"audit-*.jsonl
done
echo
echo "one record (the prompt is kept only as a salted hash unless the region asks for text):"
tail -n 1 "$(find "$audit_dir" -name '*.jsonl' | sort | head -n 1)"

echo
echo "== demo finished: every step behaved as shown; the audit trail stays in $audit_dir"
