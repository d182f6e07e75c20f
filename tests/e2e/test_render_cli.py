"""`asl render` as a user runs it: a subprocess, real files, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
ORDER = ROOT / "examples" / "order_approval" / "order_approval.asl.json"
#: The command function on a typer app of its own, as runtime/cli/commands.py registers it.
_APP = (
    "import typer; from runtime.cli.render import render; "
    "app = typer.Typer(); app.command()(render); app()"
)


def asl_render(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _APP, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_svg_from_the_extension(tmp_path: Path) -> None:
    out = tmp_path / "order.svg"
    proc = asl_render(ORDER, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"wrote {out} (svg)"
    ET.parse(out)


def test_format_option_overrides_the_extension(tmp_path: Path) -> None:
    out = tmp_path / "order.txt"
    proc = asl_render(ORDER, "--output", out, "--format", "mermaid")
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().startswith("flowchart TD")


def test_trace_with_history(tmp_path: Path) -> None:
    out = tmp_path / "trace.dot"
    definition = GOLDEN / "definitions" / "caught.asl.json"
    proc = asl_render(definition, "-o", out, "--history", GOLDEN / "histories" / "caught.json")
    assert proc.returncode == 0, proc.stderr
    assert "Execution FAILED" in out.read_text()


def test_html_report(tmp_path: Path) -> None:
    out = tmp_path / "run.html"
    definition = GOLDEN / "definitions" / "retry.asl.json"
    proc = asl_render(definition, "-o", out, "--history", GOLDEN / "histories" / "retry.json")
    assert proc.returncode == 0, proc.stderr
    assert "<svg" in out.read_text()


def test_unknown_format_exits_2(tmp_path: Path) -> None:
    proc = asl_render(ORDER, "-o", tmp_path / "x.svg", "--format", "jpeg")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "asl render: unknown format 'jpeg'; choose one of svg, png, pdf, dot, mermaid, html"
    )
    proc = asl_render(ORDER, "-o", tmp_path / "x.unknown")
    assert proc.returncode == 2
    assert "cannot tell the format from" in proc.stderr


def test_unreadable_definition_exits_2(tmp_path: Path) -> None:
    proc = asl_render(tmp_path / "missing.json", "-o", tmp_path / "x.svg")
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"asl render: cannot read {tmp_path / 'missing.json'}")
    assert "Traceback" not in proc.stderr


def test_unreadable_or_wrong_history_exits_2(tmp_path: Path) -> None:
    proc = asl_render(ORDER, "-o", tmp_path / "x.svg", "--history", tmp_path / "none.json")
    assert proc.returncode == 2
    assert "cannot read" in proc.stderr
    not_history = tmp_path / "h.json"
    not_history.write_text(json.dumps({"StartAt": "A"}))
    proc = asl_render(ORDER, "-o", tmp_path / "x.svg", "--history", not_history)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"asl render: {not_history} is not an execution history: "
        'a history is {"events": [...]} or a list of events'
    )


def test_an_invalid_definition_is_drawn_with_its_problems_marked(tmp_path: Path) -> None:
    bad = tmp_path / "bad.asl.json"
    bad.write_text('{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}')
    out = tmp_path / "x.svg"
    proc = asl_render(bad, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert f"{bad}:1:59: ERROR MISSING_TRANSITION_TARGET Missing 'Next' target: B" in proc.stderr
    assert proc.stderr.strip().endswith(
        f"asl render: {bad} is not a valid state machine; drawn with its problems marked"
    )
    assert proc.stdout.strip() == f"wrote {out} (svg)"
    texts = "".join(ET.parse(out).getroot().itertext())
    assert "Invalid definition · 2 problems" in texts
    assert "MISSING_END_STATE: Workflow has no terminal state" in texts
    assert "missing: no state has this name" in texts


def test_a_state_name_given_twice_is_reported(tmp_path: Path) -> None:
    # Only the text shows a repeated name (the parsed value keeps the last state), so the
    # picture, drawn from the value, was made without a word of it.
    twice = tmp_path / "twice.asl.json"
    twice.write_text(
        '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}, "A": {"Type": "Succeed"}}}'
    )
    out = tmp_path / "x.svg"
    proc = asl_render(twice, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert f"{twice}:1:70: ERROR DUPLICATE_STATE_NAME Duplicate State name: A" in proc.stderr
    assert proc.stderr.strip().endswith(
        f"asl render: {twice} is not a valid state machine: drawn with the last state of each"
        " name given twice"
    )
    assert proc.stdout.strip() == f"wrote {out} (svg)"


@pytest.mark.parametrize("text", ['{"StartAt": "A", "States": {}}', "[1, 2]", '{"StartAt": 1}'])
def test_a_definition_with_nothing_to_draw_exits_1_with_diagnostics(
    tmp_path: Path, text: str
) -> None:
    bad = tmp_path / "bad.asl.json"
    bad.write_text(text)
    proc = asl_render(bad, "-o", tmp_path / "x.svg")
    assert proc.returncode == 1
    assert f"{bad}: ERROR " in proc.stderr or f"{bad}:1:" in proc.stderr
    assert proc.stderr.strip().endswith(
        f"asl render: {bad} is not a valid state machine, and nothing of it can be drawn"
    )
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "x.svg").exists()


def test_history_of_another_machine_warns(tmp_path: Path) -> None:
    out = tmp_path / "x.dot"
    proc = asl_render(ORDER, "-o", out, "--history", GOLDEN / "histories" / "success.json")
    assert proc.returncode == 0
    assert "asl render: warning: states not in" in proc.stderr
    assert "Prepare" in proc.stderr


def test_missing_dot_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _APP, str(ORDER), "-o", str(tmp_path / "x.png")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={"PATH": str(tmp_path)},
    )
    assert proc.returncode == 2
    assert "graphviz's 'dot' program was not found on PATH" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_output_option_is_bad_usage() -> None:
    proc = asl_render(ORDER)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
