"""What the documented commands write, checked to be what their option says it is: a
picture of its extension's format, JSON of AWS history events, JUnit XML, a coverage
report. Each check raises ``AssertionError`` naming the file and what is wrong."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

#: The options whose value is a file (or folder) a documented command writes or reads.
OPTIONS = ("-o", "--trace", "--history", "--map-runs", "--junit-xml", "--asl-cov-report")

#: How each kind of picture ``asl render`` writes begins (its extension picks the format).
_PICTURE_STARTS = {
    ".png": b"\x89PNG\r\n\x1a\n",
    ".pdf": b"%PDF-",
    ".dot": b"digraph",
    ".mmd": b"flowchart",
}
_TERMINAL_EVENTS = {
    "ExecutionSucceeded",
    "ExecutionFailed",
    "ExecutionTimedOut",
    "ExecutionAborted",
}


def check_written(option: str, path: Path) -> None:
    """That ``path``, given to ``option``, holds what the option says."""
    if option == "--asl-cov-report":
        _check_coverage_report(path)
        return
    assert path.is_file(), f"{option} {path}: no such file"
    if option == "--history":
        check_history(json.loads(path.read_text(encoding="utf-8")), str(path))
    elif option == "--map-runs":
        _check_map_runs(path)
    elif option == "--junit-xml":
        _check_junit(path)
    else:
        check_picture(path)


def check_picture(path: Path) -> None:
    """A drawing in the format its extension names."""
    if path.suffix == ".svg":
        root = ElementTree.parse(path).getroot()
        assert root.tag.endswith("svg"), f"{path}: an XML document, but not SVG ({root.tag})"
    elif path.suffix == ".html":
        text = path.read_text(encoding="utf-8")
        assert text.lstrip().lower().startswith("<!doctype html"), f"{path}: not HTML"
        assert "<svg" in text, f"{path}: an HTML report without its diagram"
    else:
        start = _PICTURE_STARTS[path.suffix]
        assert path.read_bytes().startswith(start), f"{path}: does not begin with {start!r}"


def check_history(history: Any, where: str) -> None:
    """GetExecutionHistory's shape: ``{"events": [...]}`` from ``ExecutionStarted`` to an
    execution's end, ids counting from 1."""
    assert isinstance(history, dict) and isinstance(history.get("events"), list), where
    events = history["events"]
    assert events, f"{where}: no events"
    assert [event["id"] for event in events] == list(range(1, len(events) + 1)), where
    assert all(isinstance(event.get("timestamp"), str | int | float) for event in events), where
    assert events[0]["type"] == "ExecutionStarted", f"{where}: begins {events[0]['type']}"
    assert events[-1]["type"] in _TERMINAL_EVENTS, f"{where}: ends {events[-1]['type']}"


def _check_map_runs(path: Path) -> None:
    runs = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(runs, dict) and runs, f"{path}: no Map Run"
    for arn, histories in runs.items():
        assert ":mapRun:" in arn, f"{path}: {arn} is not a Map Run ARN"
        assert isinstance(histories, list) and histories, f"{path}: {arn} has no children"
        for history in histories:
            check_history(history, f"{path}: a child of {arn}")


def _check_junit(path: Path) -> None:
    root = ElementTree.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    assert root.tag in ("testsuite", "testsuites") and suites, f"{path}: not JUnit XML"
    assert sum(len(suite.findall("testcase")) for suite in suites) > 0, f"{path}: no test case"


def _check_coverage_report(folder: Path) -> None:
    index = folder / "index.html"
    assert index.is_file(), f"{folder}: no index.html"
    text = index.read_text(encoding="utf-8")
    assert "<table" in text, f"{index}: no table of items"
    drawings = re.findall(r"<img src='([^']+)'", text)
    assert drawings, f"{index}: no machine drawn"
    for drawing in drawings:
        check_picture(folder / drawing)
