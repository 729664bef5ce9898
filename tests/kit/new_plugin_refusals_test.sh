#!/usr/bin/env bash
# tools/new-plugin refuses bad input with the exact catalogued message (docs/errors.md,
# RG-K0xx), the documented exit code, and nothing written.
#   new_plugin_refusals_test.sh <path of tools/new-plugin>
set -uo pipefail
new_plugin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# expect EXIT_CODE MESSAGE -- ARGS...: runs new-plugin with ARGS and checks its stderr.
expect() {
  local want_code=$1 want=$2
  shift 3
  local got code
  got=$("$new_plugin" "$@" 2>&1 >/dev/null)
  code=$?
  if [[ $code != "$want_code" || $got != "$want" ]]; then
    echo "FAIL: new-plugin $*"
    echo "  want (exit $want_code): $want"
    echo "  got  (exit $code): $got"
    failures=$((failures + 1))
  fi
}

p=new-plugin
expect 1 "$p: error RG-K001: missing plug-in NAME; usage: $p NAME [--dir DIR] [--vendor TEXT] [--base-url URL] (see --help)" --
expect 1 "$p: error RG-K003: plug-in name 'Acme' is not valid: use a lower-case letter, then up to 63 of a-z, 0-9, '_', '-' (e.g. 'acme' or 'acme-chat') (did you mean 'acme'?)" -- Acme --dir "$work"
expect 1 "$p: error RG-K003: plug-in name '9acme' is not valid: use a lower-case letter, then up to 63 of a-z, 0-9, '_', '-' (e.g. 'acme' or 'acme-chat')" -- 9acme --dir "$work"
expect 1 "$p: error RG-K003: plug-in name 'ac me' is not valid: use a lower-case letter, then up to 63 of a-z, 0-9, '_', '-' (e.g. 'acme' or 'acme-chat')" -- "ac me" --dir "$work"
expect 1 "$p: error RG-K003: plug-in name '../acme' is not valid: use a lower-case letter, then up to 63 of a-z, 0-9, '_', '-' (e.g. 'acme' or 'acme-chat')" -- ../acme --dir "$work"
expect 1 "$p: error RG-K003: plug-in name 'acme-' ends with '-'; end it with a letter or digit" -- acme- --dir "$work"
expect 1 "$p: error RG-K003: plug-in name 'new' is a C++ keyword and cannot name the namespace rg::plugins::new; pick another name (e.g. 'new-ai')" -- new --dir "$work"
expect 1 "$p: error RG-K002: unknown option '--vendr'; see $p --help" -- acme --vendr Acme --dir "$work"
expect 1 "$p: error RG-K002: option --base-url needs a value; see $p --help" -- acme --dir "$work" --base-url
expect 1 "$p: error RG-K002: unexpected argument 'other': give one plug-in NAME; see $p --help" -- acme other --dir "$work"
expect 1 "$p: error RG-K004: --vendor 'Ac\"me' must be non-blank text without '\"', '\\' or control characters" -- acme --vendor 'Ac"me' --dir "$work"
expect 1 "$p: error RG-K004: --base-url 'ftp://acme.com' is not an http:// or https:// URL without spaces or quotes (e.g. https://api.acme.com)" -- acme --base-url ftp://acme.com --dir "$work"
expect 1 "$p: error RG-K004: --model 'acme chat' is not a valid model id: a letter or digit, then up to 127 of A-Z a-z 0-9 . _ : / -" -- acme --model "acme chat" --dir "$work"
expect 1 "$p: error RG-K004: --model 'm1' is given twice; list each model once" -- acme --model m1 --model m1 --dir "$work"
expect 1 "$p: error RG-K004: --endpoint 'CN' is not a valid endpoint id: a lower-case letter, then up to 63 of a-z, 0-9, '_', '-'" -- acme --endpoint CN --dir "$work"
expect 1 "$p: error RG-K004: --data-region 'cn' is not one of CN HK SG US EU JP GLOBAL" -- acme --data-region cn --dir "$work"
expect 1 "$p: error RG-K004: --inference-scope 'mainland' is not one of cn-mainland cn-elastic intl-ex-cn us eu hk jp sg global" -- acme --inference-scope mainland --dir "$work"
expect 1 "$p: error RG-K004: --api-key-env 'ACME-KEY' is not an environment variable name: letters, digits and '_', not starting with a digit" -- acme --api-key-env ACME-KEY --dir "$work"
expect 1 "$p: error RG-K004: --dir '$work/missing' is not a directory; create it first or pick another" -- acme --dir "$work/missing"
mkdir "$work/taken"
expect 2 "$p: error RG-K005: $work/taken already exists; pick another NAME or --dir, or remove the folder first (nothing was written)" -- taken --dir "$work"

# A copy of the script without its templates, and one with a broken template.
mkdir -p "$work/lone" "$work/broken/templates"
cp "$new_plugin" "$work/lone/new-plugin"
cp "$new_plugin" "$work/broken/new-plugin"
cp -r "$(dirname "$new_plugin")/templates/plugin" "$work/broken/templates/plugin"
echo "// @@NAMES@@" >>"$work/broken/templates/plugin/entry.cpp.tmpl"
mkdir "$work/out"
new_plugin=$work/lone/new-plugin
expect 3 "$p: error RG-K006: cannot find the plug-in templates (looked in $work/lone/templates/plugin and $work/lone/../share/regiongate/templates/plugin); run $p from a regiongate checkout or installation" -- acme --dir "$work/out"
new_plugin=$work/broken/new-plugin
expect 3 "$p: error RG-K006: template $work/broken/templates/plugin/entry.cpp.tmpl has an unknown placeholder @@NAMES@@; fix the template" -- acme --dir "$work/out"
if [[ -n $(find "$work/out" -mindepth 1) ]]; then
  echo "FAIL: a template error left files behind in $work/out"
  failures=$((failures + 1))
fi
rm -rf "$work/lone" "$work/broken" "$work/out"
new_plugin=$1

# Nothing but the folder made on purpose above may exist: refusals write nothing.
leftover=$(find "$work" -mindepth 1 -maxdepth 1 ! -name taken -printf '%f ')
if [[ -n $leftover ]]; then
  echo "FAIL: refusals left files behind in $work: $leftover"
  failures=$((failures + 1))
fi
# --help is not a refusal.
if ! "$new_plugin" --help | grep -q "^usage: $p NAME"; then
  echo "FAIL: new-plugin --help does not print the usage"
  failures=$((failures + 1))
fi

if ((failures)); then
  echo "$failures refusal check(s) failed"
  exit 1
fi
echo "all new-plugin refusals are exact"
