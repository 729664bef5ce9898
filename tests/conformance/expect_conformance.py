#!/usr/bin/env python3
"""Runs a command and checks its exit code and that its output holds each expected text.

usage: expect_conformance.py --exit N [--expect TEXT]... -- COMMAND [ARG]...

The conformance ctests use it to assert both that `regiongate conformance` fails (or
passes) and the exact message it gives, which a ctest regular expression cannot do together
with the exit code.
"""
import argparse
import os
import subprocess
import sys


def main() -> int:
    if "--" not in sys.argv:
        print("expect_conformance.py: missing '--' before the command", file=sys.stderr)
        return 2
    split = sys.argv.index("--")
    parser = argparse.ArgumentParser()
    parser.add_argument("--exit", type=int, required=True)
    parser.add_argument("--expect", action="append", default=[])
    args = parser.parse_args(sys.argv[1:split])
    command = sys.argv[split + 1:]
    for arg in command:
        if arg.endswith(".xml") or arg.endswith(".json"):
            os.makedirs(os.path.dirname(arg) or ".", exist_ok=True)
    run = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = run.stdout.decode("utf-8", "replace")
    err = run.stderr.decode("utf-8", "replace")
    sys.stdout.write(out)
    sys.stderr.write(err)
    ok = True
    if run.returncode != args.exit:
        print(f"FAIL: exit code {run.returncode}, expected {args.exit}", file=sys.stderr)
        ok = False
    for text in args.expect:
        if text not in out and text not in err:
            print(f"FAIL: the output lacks: {text}", file=sys.stderr)
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
