"""Pictures as files: every format, valid SVG naming every state, Mermaid, the HTML page."""

from __future__ import annotations

import importlib.util
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

import visualizer
from asl.diagnostics import DefinitionError
from asl.model import Task
from runtime.cli.demo import example_definition
from visualizer import RenderError, load_diagram, output_format, render, to_dot, to_mermaid
from visualizer.dot import SHARED_CATCH_EDGES, back_edges, join_id, proxy_id, shared_catches

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
EXAMPLES = sorted((ROOT / "examples").glob("*/*.asl.json"))
SVG = "{http://www.w3.org/2000/svg}"


def _generate(states: int) -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location(
        "render_bench", ROOT / "bench" / "render_bench.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    machine: dict[str, Any] = module.generate(states)
    return machine


def _svg_texts(path: Path) -> tuple[ET.Element, set[str]]:
    root = ET.parse(path).getroot()  # raises on invalid XML
    texts = {"".join(t.itertext()) for t in root.iter(f"{SVG}text")}
    return root, texts


def test_exports_are_pinned() -> None:
    assert sorted(visualizer.__all__) == [
        "Diagram",
        "FORMATS",
        "RenderError",
        "Trace",
        "build_trace",
        "html_report",
        "layout",
        "load_diagram",
        "output_format",
        "render",
        "to_dot",
        "to_mermaid",
    ]
    for name in visualizer.__all__:
        assert hasattr(visualizer, name)


@pytest.mark.parametrize("definition", EXAMPLES, ids=lambda p: p.parent.name)
def test_svg_is_valid_xml_and_names_every_state(definition: Path, tmp_path: Path) -> None:
    out = render(example_definition(definition), tmp_path / "machine.svg")
    root, texts = _svg_texts(out)
    assert root.tag == f"{SVG}svg"
    diagram = load_diagram(example_definition(definition))
    assert {state.name for state in diagram.states.values()} <= texts
    ids = {g.get("id") for g in root.iter(f"{SVG}g")}
    assert {f"state-{i}" for i in range(len(diagram.states))} <= ids


def test_a_generated_100_state_machine_renders_with_every_state(tmp_path: Path) -> None:
    definition = _generate(100)
    diagram = load_diagram(definition)
    assert len(diagram.states) >= 100
    out = render(definition, tmp_path / "big.svg")
    _, texts = _svg_texts(out)
    assert {state.name for state in diagram.states.values()} <= texts


def test_trace_svg_names_every_state(tmp_path: Path) -> None:
    definition = GOLDEN / "definitions" / "map_failure.asl.json"
    out = render(definition, tmp_path / "t.svg", history=GOLDEN / "histories" / "map_failure.json")
    _, texts = _svg_texts(out)
    assert {"Resize images", "Resize", "Publish", "ImageError", "b.png is not an image"} <= texts
    assert "3 iterations · 1 failed · 1 aborted" in texts


@pytest.mark.parametrize(
    ("name", "fmt", "magic"),
    [
        ("m.png", None, b"\x89PNG\r\n\x1a\n"),
        ("m.pdf", None, b"%PDF"),
        ("m.svg", None, b"<?xml"),
        ("m.dot", None, b"digraph workflow {"),
        ("m.gv", None, b"digraph workflow {"),
        ("m.mmd", None, b"flowchart TD"),
        ("m.md", None, b"```mermaid\nflowchart TD"),
        ("m.html", None, b"<!DOCTYPE html>"),
        ("m.out", "png", b"\x89PNG"),
        ("m.svg", "dot", b"digraph"),
    ],
)
def test_every_format_is_written(name: str, fmt: str | None, magic: bytes, tmp_path: Path) -> None:
    out = render(EXAMPLES[0], tmp_path / name, format=fmt)
    assert out.read_bytes().startswith(magic)


def test_output_format_from_option_or_extension() -> None:
    assert output_format("x.SVG") == "svg"
    assert output_format("x.anything", "Mermaid") == "mermaid"
    assert output_format("x", "gv") == "dot"
    with pytest.raises(RenderError) as caught:
        output_format("x.txt")
    assert str(caught.value).startswith("cannot tell the format from 'x.txt': use --format")
    with pytest.raises(RenderError) as caught:
        output_format("x.svg", "jpeg")
    assert str(caught.value) == (
        "unknown format 'jpeg'; choose one of svg, png, pdf, dot, mermaid, html"
    )


def test_invalid_definitions_raise_definition_error(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError) as caught:
        render({"StartAt": "A", "States": {}}, tmp_path / "x.svg")
    assert caught.value.diagnostics
    assert not (tmp_path / "x.svg").exists()


def test_placeholders_without_values_are_drawn_as_the_cli_draws_them(tmp_path: Path) -> None:
    # A SAM template's definition, its DefinitionSubstitutions not filled: the Python API
    # draws it as `asl render` does, a stand-in where the field cannot hold the text.
    text = """
    StartAt: Pause
    States:
      Pause:
        Type: Wait
        Seconds: ${Delay}
        Next: Check
      Check:
        Type: Choice
        Choices: [{Variable: $.n, NumericGreaterThan: "${Limit}", Next: Work}]
        Default: Work
      Work: {Type: Task, Resource: "${WorkerArn}", End: true}
    """
    path = tmp_path / "template.asl.yaml"
    path.write_text(text)
    diagram = load_diagram(path)
    assert diagram.stand_ins == ("Delay", "Limit")
    work = diagram.states[diagram.by_name["Work"]]
    assert isinstance(work, Task) and work.resource == "${WorkerArn}"
    dot_text = render(path, tmp_path / "template.dot").read_text()
    assert "${WorkerArn}" in dot_text
    assert render(path, tmp_path / "template.svg").read_bytes().startswith(b"<?xml")


def test_bad_histories_raise_render_error(tmp_path: Path) -> None:
    bad = tmp_path / "h.json"
    bad.write_text("{not json")
    with pytest.raises(RenderError) as caught:
        render(EXAMPLES[0], tmp_path / "x.dot", history=bad)
    assert str(caught.value).startswith(f"{bad} is not JSON: ")
    bad.write_text('{"events": 3}')
    with pytest.raises(RenderError) as caught:
        render(EXAMPLES[0], tmp_path / "x.dot", history=bad)
    assert str(caught.value) == (
        'not an execution history: a history is {"events": [...]} or a list of events'
    )
    with pytest.raises(FileNotFoundError):
        render(EXAMPLES[0], tmp_path / "x.dot", history=tmp_path / "missing.json")


def test_missing_dot_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RenderError) as caught:
        render(EXAMPLES[0], tmp_path / "x.svg")
    assert "graphviz's 'dot' program was not found on PATH" in str(caught.value)
    render(EXAMPLES[0], tmp_path / "x.dot")  # text formats need no graphviz


def test_dot_text_escapes_user_text() -> None:
    definition = {
        "StartAt": 'A "quoted" <b>&',
        "States": {'A "quoted" <b>&': {"Type": "Pass", "Comment": 'back\\slash "q"', "End": True}},
    }
    text = to_dot(definition)
    assert '"/States/A \\"quoted\\" <b>&"' in text
    assert "<B>A &quot;quoted&quot; &lt;b&gt;&amp;</B>" in text
    assert 'tooltip="A \\"quoted\\" <b>& (Pass): back\\\\slash \\"q\\""' in text


def test_shared_catch_targets_get_stand_ins_next_to_each_catcher() -> None:
    definition = _generate(60)
    diagram = load_diagram(definition)
    proxied = shared_catches(diagram)
    handler = diagram.by_name["Handle failure"]
    catches = [e for e in diagram.edges() if e.kind == "catch" and e.target == handler]
    assert len(catches) >= SHARED_CATCH_EDGES
    assert {(e.source, e.key) for e in catches[:-1]} == proxied
    text = to_dot(diagram)
    for edge in catches[:-1]:
        assert f'"{proxy_id(edge)}" [shape="box", style="rounded,dashed"' in text
    last = catches[-1]
    tail = join_id(last.source) if last.source in diagram.children else last.source
    assert f'"{tail}" -> "{handler}"' in text


def test_mermaid_uses_subgraphs_and_dotted_catch_edges() -> None:
    text = to_mermaid(ROOT / "examples" / "order_approval" / "order_approval.asl.json")
    assert text.startswith("flowchart TD\n")
    assert "subgraph s5_box" in text and 'subgraph s5_0["Branch 1"]' in text
    assert '-.->|"catch InvalidOrder"|' in text
    assert '-->|"$.pricing.total #62;= 500"|' in text
    lines = [line.strip() for line in text.splitlines()]
    assert lines.count("end") == sum(line.startswith("subgraph ") for line in lines) == 3


def test_mermaid_escapes_markup_characters() -> None:
    assert visualizer.mermaid.escape('a "b" <c> & #d |e|') == (
        "a #34;b#34; #60;c#62; #38; #35;d #124;e#124;"
    )


def test_html_report_holds_the_picture_timeline_and_events() -> None:
    history = json.loads((GOLDEN / "histories" / "retry.json").read_text())
    page = visualizer.html_report(GOLDEN / "definitions" / "retry.asl.json", history)
    assert page.startswith("<!DOCTYPE html>")
    assert "<svg" in page and "<?xml" not in page
    assert page.count('<tr class="event') == len(history["events"])
    assert page.count('<div class="row status-') == 2
    assert "States.Http.StatusCode.503: Service Unavailable" in page
    assert 'class="tick"' in page
    assert "http://" not in page.replace("http://www.w3.org", "")


def test_html_report_without_a_history_shows_the_workflow_only() -> None:
    page = visualizer.html_report(EXAMPLES[0])
    assert "<svg" in page
    assert 'id="timeline"' not in page and 'id="events"' not in page


def test_loops_are_drawn_as_reversed_back_edges() -> None:
    cleanup = ROOT / "examples" / "scheduled_cleanup" / "scheduled_cleanup.asl.json"
    diagram = load_diagram(cleanup)
    pause, listing = diagram.by_name["Pause between batches"], diagram.by_name["List expired items"]
    assert back_edges(diagram) == {(pause, listing, "next")}
    assert f'"{listing}" -> "{pause}" [dir="back"];' in to_dot(diagram)
    assert back_edges(load_diagram(EXAMPLES[0])) == set()
