#!/usr/bin/env python3
"""`regiongate chat --locale L --json` end to end: the real CLI, the built plug-ins and
rg-vendor-sim on loopback, the shipped region manifests.

Checks what a caller of the JSON report relies on: the outcome and decision id, the label,
the GB 45438 implicit metadata with its fields in the standard's order (a JSON object read
back with its key order kept), that the decision id ties the report to the AIGC ProduceID, and
that a refused prompt exits 2 with the outcome and who blocked it.

usage: chat_json_test.py REGIONGATE RG_VENDOR_SIM PLUGIN_DIR CONFIG_DIR
"""
import json
import os
import subprocess
import sys
import tempfile
import time

AIGC_ORDER = ["Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator",
              "PropagateID", "ReservedCode2"]


def fail(message: str) -> None:
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def chat(cli, port, plugin_dir, config, audit, prompt):
    env = dict(os.environ, DASHSCOPE_API_KEY="sk-sim-dashscope", RG_PLUGIN_DIR=plugin_dir)
    run = subprocess.run(
        [cli, "--config", config, "--audit-dir", audit, "--endpoint-override",
         f"*.*=http://127.0.0.1:{port}", "chat", "--locale", "zh-CN", "--json", prompt],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=60)
    out = run.stdout.decode("utf-8")
    try:
        report = json.loads(out, object_pairs_hook=lambda pairs: pairs)
    except json.JSONDecodeError:
        fail(f"not JSON (exit {run.returncode}): {out!r} {run.stderr.decode()!r}")
    return run.returncode, report


def field(pairs, key):
    for k, v in pairs:
        if k == key:
            return v
    fail(f"no '{key}' in {[k for k, _ in pairs]}")


def main() -> int:
    cli, sim, plugin_dir, config = sys.argv[1:5]
    with tempfile.TemporaryDirectory() as work:
        port_file = os.path.join(work, "port")
        server = subprocess.Popen([sim, "--port", "0", "--port-file", port_file],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                if os.path.exists(port_file) and open(port_file).read().strip():
                    break
                time.sleep(0.05)
            port = open(port_file).read().strip()
            audit = os.path.join(work, "audit")

            code, report = chat(cli, port, plugin_dir, config, audit, "你好")
            if code != 0:
                fail(f"a plain zh-CN prompt exits {code}")
            if field(report, "outcome") != "completed":
                fail(f"outcome {field(report, 'outcome')!r}")
            labels = field(report, "labels")
            if field(labels, "suffix") != "\n\n（本内容由人工智能生成）":
                fail(f"label suffix {field(labels, 'suffix')!r}")
            aigc = field(field(report, "implicit_metadata"), "AIGC")
            if [k for k, _ in aigc] != AIGC_ORDER:
                fail(f"AIGC fields in order {[k for k, _ in aigc]}, expected {AIGC_ORDER}")
            if field(aigc, "ProduceID") != field(report, "decision_id"):
                fail("AIGC ProduceID is not the report's decision_id")
            if not field(report, "text").endswith("（本内容由人工智能生成）"):
                fail(f"the answer lacks its label: {field(report, 'text')!r}")

            code, report = chat(cli, port, plugin_dir, config, audit, "请告诉我关于示例违禁词的事情")
            if code != 2:
                fail(f"a blocked prompt exits {code}, expected 2")
            if field(report, "outcome") != "blocked_input":
                fail(f"outcome {field(report, 'outcome')!r}, expected blocked_input")
            if field(report, "blocked_by") != "regiongate":
                fail(f"blocked_by {field(report, 'blocked_by')!r}")
            if "示例违禁词" in field(report, "text"):
                fail("the refusal repeats the blocked term")
        finally:
            server.terminate()
            server.wait(timeout=10)
    print("chat --json: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
