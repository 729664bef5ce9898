#!/usr/bin/env bash
# The DeepSeek plug-in (made with tools/new-plugin) through the gate, as an operator runs it:
# allowed for zh-CN with the filing and residency reasons, answering through the simulator's
# OpenAI route; refused for en-US; a missing DEEPSEEK_API_KEY named in the error.
#   deepseek_gate_test.sh REGIONGATE RG_VENDOR_SIM PLUGIN_DIR CONFIG_DIR
set -euo pipefail
rg=$1
sim=$2
plugin_dir=$3
config_dir=$4

work=$(mktemp -d "${TMPDIR:-/tmp}/rg-kit-deepseek.XXXXXX")
sim_pid=
cleanup() {
  if [[ -n $sim_pid ]]; then
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
die() {
  echo "FAIL: $*" >&2
  exit 1
}

"$sim" --port 0 --port-file "$work/sim.port" >"$work/sim.out" 2>&1 &
sim_pid=$!
for _ in $(seq 200); do
  [[ -s $work/sim.port ]] && break
  kill -0 "$sim_pid" 2>/dev/null || { cat "$work/sim.out"; die "rg-vendor-sim exited"; }
  sleep 0.05
done
[[ -s $work/sim.port ]] || die "rg-vendor-sim did not write its port"
base=http://127.0.0.1:$(cat "$work/sim.port")
unset RG_PLUGIN_DIR RG_CONFIG_DIR
export DEEPSEEK_API_KEY=sk-sim-openai  # the simulator's OpenAI key
run() {
  "$rg" --plugin-dir "$plugin_dir" --config "$config_dir" \
    --endpoint-override "deepseek.cn=$base" "$@"
}

# 1. explain: both models allowed for zh-CN, with the filing and residency reasons.
explained=$(run explain --locale zh-CN --plugin deepseek)
for model in deepseek-chat deepseek-reasoner; do
  grep -Eq "^deepseek +$model +cn +allow$" <<<"$explained" ||
    die "explain --locale zh-CN does not allow deepseek/$model:"$'\n'"$explained"
done
for reason in \
  "allow    cn-genai-filing: model 'deepseek-chat' has cac-genai filing Beijing-DeepseekChat-202404280016 (holder DeepSeek), verified in the registry on 2026-11-01" \
  "allow    cn-residency-mainland: endpoint 'cn' stores data in CN and runs inference in cn-mainland"; do
  grep -Fq "$reason" <<<"$explained" || die "explain lacks the reason '$reason':"$'\n'"$explained"
done

# 2. chat through the gate, buffered and streamed. The region's explicit AI label may follow
# the answer once the runtime applies labels; the answer itself must be the simulator's.
answer=$(run chat --locale zh-CN --plugin deepseek "你好" 2>"$work/chat.err")
[[ $answer == "Echo: 你好"* ]] || die "chat --locale zh-CN answered '$answer', want 'Echo: 你好'"
grep -Fq "regiongate: zh-CN (region cn-mainland) -> deepseek/deepseek-chat via cn" "$work/chat.err" ||
  die "chat did not say who answers: $(cat "$work/chat.err")"
answer=$(run chat --stream --locale zh-CN --plugin deepseek --model deepseek-reasoner "你好" 2>/dev/null)
[[ $answer == "Echo: 你好"* ]] || die "chat --stream answered '$answer', want 'Echo: 你好'"

# 3. refused where the residency rules say no.
code=0
run chat --locale en-US --plugin deepseek "hi" >/dev/null 2>"$work/denied.err" || code=$?
[[ $code == 2 ]] || die "chat --locale en-US --plugin deepseek exited $code, want 2"
grep -Fq "regiongate: refused: nothing is allowed for locale 'en-US' (region 'us') with plug-in 'deepseek'" \
  "$work/denied.err" || die "en-US refusal not as expected: $(cat "$work/denied.err")"

# 4. no key: the error names the variable, and nothing answers.
code=0
env -u DEEPSEEK_API_KEY "$rg" --plugin-dir "$plugin_dir" --config "$config_dir" \
  --endpoint-override "deepseek.cn=$base" chat --locale zh-CN --plugin deepseek "你好" \
  >/dev/null 2>"$work/nokey.err" || code=$?
[[ $code != 0 ]] || die "chat without DEEPSEEK_API_KEY succeeded"
grep -Fq "missing credential: set DEEPSEEK_API_KEY (the secret named by setting 'api_key_secret' of plug-in 'deepseek')" \
  "$work/nokey.err" || die "missing key not named: $(cat "$work/nokey.err")"

echo "deepseek is allowed for zh-CN, answers through the gate, and is refused for en-US"
