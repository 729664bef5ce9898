#!/usr/bin/env bash
# The integrator's path, end to end, outside the source tree:
#   1. `cmake --install` the build tree into a temporary prefix;
#   2. scaffold a plug-in with the INSTALLED regiongate-new-plugin into a temporary folder;
#   3. configure and build it against the installed package (find_package(regiongate)), with
#      the project's warnings as errors;
#   4. prove it: `regiongate conformance` (its own simulator, OpenAI route) when the CLI has
#      it; otherwise load it (`plugins list --json`) and chat through the installed
#      rg-vendor-sim, buffered and streamed, and see an input block;
#   5. `cmake --install` the plug-in into the same prefix and find it from the installed CLI
#      with no --plugin-dir (the installed layout).
#
#   out_of_tree_test.sh BUILD_DIR GENERATOR CXX_COMPILER
set -euo pipefail
build=$1
generator=$2
cxx=$3

work=$(mktemp -d "${TMPDIR:-/tmp}/rg-kit-test.XXXXXX")
sim_pid=
cleanup() {
  if [[ -n $sim_pid ]]; then
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
step() { echo "== $*"; }
die() {
  echo "FAIL: $*" >&2
  exit 1
}

prefix=$work/prefix
step "installing $build into $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" ||
  { cat "$work/install.log"; die "cmake --install failed"; }
for f in bin/regiongate bin/rg-vendor-sim bin/regiongate-new-plugin include/regiongate/abi.h \
  include/regiongate/sdk/openai_compat.hpp lib/cmake/regiongate/regiongateConfig.cmake \
  lib/cmake/regiongate/regiongateConfigVersion.cmake lib/cmake/regiongate/RgPlugin.cmake \
  lib/cmake/regiongate/RgPluginManifest.cmake share/regiongate/config/regions/cn-mainland.yaml \
  share/regiongate/templates/plugin/client.cpp.tmpl lib/regiongate/plugins/openai/plugin.yaml; do
  [[ -e $prefix/$f ]] || die "the install has no $f"
done
rg=$prefix/bin/regiongate

step "scaffolding plug-in 'acme' with the installed regiongate-new-plugin"
"$prefix/bin/regiongate-new-plugin" acme --dir "$work" --vendor "Acme AI" >"$work/new-plugin.log"
src=$work/acme

step "building it against the installed package"
# The project's own warning set, as errors: the scaffold must be clean out of tree too.
flags="-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion -Wnon-virtual-dtor"
flags+=" -Wold-style-cast -Woverloaded-virtual -Werror"
cmake -S "$src" -B "$work/build" -G "$generator" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_FLAGS="$flags" \
  >"$work/configure.log" 2>&1 || { cat "$work/configure.log"; die "configuring the scaffold failed"; }
cmake --build "$work/build" >"$work/build.log" 2>&1 ||
  { cat "$work/build.log"; die "building the scaffold failed"; }
plugins=$work/build/plugins
[[ -f $plugins/acme/rg-plugin-acme.so && -f $plugins/acme/plugin.yaml ]] ||
  die "the build made no $plugins/acme/{rg-plugin-acme.so,plugin.yaml}"

unset RG_PLUGIN_DIR RG_CONFIG_DIR

if "$rg" --help | grep -Eq '^ +conformance '; then
  # The harness runs its own simulator and supplies the OpenAI route's key to any
  # OpenAI-compatible plug-in.
  step "regiongate conformance on the scaffold"
  "$rg" conformance "$plugins/acme" --junit "$work/junit.xml" ||
    die "regiongate conformance failed on the unedited scaffold"
  grep -q '<testcase ' "$work/junit.xml" || die "conformance wrote no test cases to its JUnit file"
else
  step "no 'regiongate conformance' in this build: loading and chatting through rg-vendor-sim"
  "$prefix/bin/rg-vendor-sim" --port 0 --port-file "$work/sim.port" >"$work/sim.out" 2>&1 &
  sim_pid=$!
  for _ in $(seq 200); do
    [[ -s $work/sim.port ]] && break
    kill -0 "$sim_pid" 2>/dev/null || { cat "$work/sim.out"; die "rg-vendor-sim exited"; }
    sleep 0.05
  done
  [[ -s $work/sim.port ]] || die "rg-vendor-sim did not write its port"
  base=http://127.0.0.1:$(cat "$work/sim.port")
  export ACME_API_KEY=sk-sim-openai  # the simulator's OpenAI key
  listed=$("$rg" --plugin-dir "$plugins" plugins list --json)
  grep -q '"id": *"acme"' <<<"$listed" || die "plugins list --json does not show acme: $listed"
  grep -q '"refused": *\[\]' <<<"$listed" || die "a plug-in was refused: $listed"
  for mode in "" --stream; do
    answer=$("$rg" --plugin-dir "$plugins" --endpoint-override "acme.default=$base" \
      chat $mode --plugin acme --model acme-chat "hello from the kit")
    [[ $answer == "Echo: hello from the kit" ]] ||
      die "chat ${mode:-buffered} answered '$answer', want 'Echo: hello from the kit'"
  done
  blocked=0
  "$rg" --plugin-dir "$plugins" --endpoint-override "acme.default=$base" \
    chat --json --plugin acme --model acme-chat "hi [[sim:input-block]]" >"$work/blocked.json" ||
    blocked=$?
  [[ $blocked == 2 ]] || die "an input block exited $blocked, want 2"
  grep -q '"code": *"provider_blocked"' "$work/blocked.json" ||
    die "an input block is not provider_blocked: $(cat "$work/blocked.json")"
fi

step "installing the plug-in next to the shipped ones"
cmake --install "$work/build" --prefix "$prefix" >>"$work/install.log"
installed=$("$rg" plugins list --json)
for id in acme openai qwen baidu; do
  grep -q "\"id\": *\"$id\"" <<<"$installed" || die "the installed CLI does not find $id: $installed"
done
echo "the scaffold builds out of tree, loads and answers through the simulator"
