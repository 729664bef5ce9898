#!/usr/bin/env python3
"""Validates the JUnit XML of `regiongate conformance` (and that it agrees with --json).

usage: validate_junit.py FILE [--json FILE] [--suite NAME]... [--case CLASSNAME:NAME]...

Checks the shape CI tools read: a <testsuites> root whose counts add up, <testsuite>
elements with name/tests/failures/errors/skipped/time whose counts match their <testcase>
children, every <testcase> with a non-empty classname and name (unique within the class),
<failure>/<skipped> children with a message, and that each --suite / --case is present.
"""
import argparse
import json
import sys
import xml.etree.ElementTree as ET


def fail(message: str) -> None:
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def count(element: ET.Element, attribute: str) -> int:
    value = element.get(attribute)
    if value is None or not value.isdigit():
        fail(f"<{element.tag} name={element.get('name')!r}> lacks a numeric '{attribute}'")
    return int(value)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--json")
    parser.add_argument("--suite", action="append", default=[])
    parser.add_argument("--case", action="append", default=[])
    args = parser.parse_args()

    root = ET.parse(args.file).getroot()
    if root.tag != "testsuites":
        fail(f"the root element is <{root.tag}>, expected <testsuites>")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    suites = set()
    cases = set()
    for suite in root:
        if suite.tag != "testsuite":
            fail(f"<testsuites> holds <{suite.tag}>, expected only <testsuite>")
        name = suite.get("name") or fail("a <testsuite> has no name")
        suites.add(name)
        try:
            float(suite.get("time", ""))
        except ValueError:
            fail(f"suite {name} has no numeric time")
        seen = {"tests": 0, "failures": 0, "skipped": 0}
        for case in suite:
            if case.tag in ("system-out", "system-err", "properties"):
                continue
            if case.tag != "testcase":
                fail(f"suite {name} holds <{case.tag}>")
            classname = case.get("classname")
            case_name = case.get("name")
            if not classname or not case_name:
                fail(f"suite {name} has a testcase without classname or name")
            key = f"{classname}:{case_name}"
            if key in cases:
                fail(f"testcase {key} appears twice")
            cases.add(key)
            seen["tests"] += 1
            for child in case:
                if child.tag not in ("failure", "skipped", "error", "system-out", "system-err"):
                    fail(f"testcase {key} holds <{child.tag}>")
                if child.tag in ("failure", "skipped") and not child.get("message"):
                    fail(f"testcase {key} has a <{child.tag}> without a message")
                if child.tag == "failure":
                    seen["failures"] += 1
                if child.tag == "skipped":
                    seen["skipped"] += 1
        for attribute, value in seen.items():
            if count(suite, attribute) != value:
                fail(f"suite {name} says {attribute}={suite.get(attribute)} but holds {value}")
            totals[attribute] += value
        count(suite, "errors")
    for attribute, value in totals.items():
        if count(root, attribute) != value:
            fail(f"<testsuites> says {attribute}={root.get(attribute)} but its suites hold {value}")
    for name in args.suite:
        if name not in suites:
            fail(f"no testsuite named {name!r} (suites: {sorted(suites)})")
    for key in args.case:
        if key not in cases:
            fail(f"no testcase {key!r}")
    if args.json:
        with open(args.json, encoding="utf-8") as f:
            report = json.load(f)
        if report["counts"]["total"] != totals["tests"]:
            fail(f"the JSON report counts {report['counts']['total']} cases, the XML {totals['tests']}")
    print(f"ok: {len(suites)} suites, {totals['tests']} testcases, {totals['failures']} failures, "
          f"{totals['skipped']} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
