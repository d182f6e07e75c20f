"""The entry point that writes pictures: pick the format, draw, write the file.

Formats: ``svg``, ``png``, ``pdf`` (laid out by graphviz's ``dot``), ``dot`` (the DOT
text), ``mermaid`` (Mermaid text; fenced as a code block when the file is ``.md``) and
``html`` (a self-contained page: the picture and, with a history, the execution's
timeline and events).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from asl.jsontext import parse_json
from asl.loader import Source
from asl.textfile import MIB, TextFileError, read_text_file
from visualizer.diagram import Diagram, load_diagram
from visualizer.dot import to_dot
from visualizer.html_report import html_report
from visualizer.layout import LAYOUT_FORMATS, RenderError, layout
from visualizer.map_runs import MapRunHistories, fold_map_runs
from visualizer.mermaid import to_mermaid
from visualizer.trace import HistoryError, HistoryLike, Trace, build_trace, history_events

__all__ = [
    "FORMATS",
    "HISTORY_FILE_MAX_BYTES",
    "output_format",
    "read_history",
    "read_map_runs",
    "render",
]

#: The largest history file read (our bound: AWS hands a history out page by page):
#: 25,000 events, a Standard execution's most, of 2.6 KiB each as ``asl run --history``
#: writes them (indented), where a state's event with a small payload takes 0.4 KiB.
HISTORY_FILE_MAX_BYTES = 64 * MIB

FORMATS = ("svg", "png", "pdf", "dot", "mermaid", "html")
_BY_SUFFIX = {
    ".svg": "svg",
    ".png": "png",
    ".pdf": "pdf",
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".md": "mermaid",
    ".html": "html",
    ".htm": "html",
}


def output_format(output: str | os.PathLike[str], format: str | None = None) -> str:
    """The format asked for, or the one the output file's extension names."""
    if format is not None:
        chosen = format.lower().lstrip(".")
        if chosen in ("gv",):
            chosen = "dot"
        if chosen in ("mmd", "md"):
            chosen = "mermaid"
        if chosen not in FORMATS:
            raise RenderError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
        return chosen
    suffix = Path(output).suffix.lower()
    found = _BY_SUFFIX.get(suffix)
    if found is None:
        known = ", ".join(sorted(_BY_SUFFIX))
        raise RenderError(
            f"cannot tell the format from {str(output)!r}: use --format or an extension ({known})"
        )
    return found


def read_history(source: str | os.PathLike[str] | HistoryLike) -> HistoryLike:
    """A history from a JSON file (``{"events": [...]}``, as ``aws stepfunctions
    get-execution-history`` prints it) or as given when it is already parsed."""
    if not isinstance(source, str | os.PathLike):
        return source
    return _read_json(source)  # type: ignore[no-any-return]


def read_map_runs(source: str | os.PathLike[str]) -> MapRunHistories:
    """The histories of a Distributed Map's child executions by Map Run ARN, from a JSON
    file: ``{"<Map Run ARN>": [history, ...]}``, as ``asl run --map-runs`` writes it (from
    AWS: ``list-executions --map-run-arn`` and each child's ``get-execution-history``).
    Raises :class:`~visualizer.trace.HistoryError` naming what is not a history."""
    value = _read_json(source)
    if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
        raise HistoryError('Map Run histories are {"<Map Run ARN>": [history, ...]}')
    for arn, histories in value.items():
        for number, history in enumerate(histories, 1):
            try:
                history_events(history)
            except HistoryError as exc:
                raise HistoryError(f"{arn} history #{number}: {exc}") from None
    return value


def _read_json(source: str | os.PathLike[str]) -> Any:
    try:
        text = read_text_file(source, HISTORY_FILE_MAX_BYTES)
    except TextFileError as exc:
        raise FileNotFoundError(str(exc)) from exc
    try:
        value: Any = parse_json(text)
    except json.JSONDecodeError as exc:
        raise RenderError(f"{source} is not JSON: {exc.msg} at line {exc.lineno}") from None
    except ValueError as exc:  # NaN, a number out of range, nesting too deep
        raise RenderError(f"{source} is not JSON: {exc}") from None
    return value


def render(
    definition: Source | Diagram,
    output: str | os.PathLike[str],
    format: str | None = None,
    history: str | os.PathLike[str] | HistoryLike | Trace | None = None,
    *,
    mark_problems: bool = False,
    map_runs: MapRunHistories | None = None,
) -> Path:
    """Draw a definition (and an execution of it, when ``history`` is given) to a file.

    ``format`` defaults to the output's extension. ``map_runs`` holds the histories of
    the child executions of the execution's Distributed Maps, by Map Run ARN
    (:func:`~visualizer.map_runs.fold_map_runs`): their states are drawn as reached, with
    their counts, inside the Map that ran them. Raises
    :class:`~asl.diagnostics.DefinitionError` for an invalid definition (with
    ``mark_problems``, only when nothing of it can be drawn: else it is drawn with its
    problems marked on its states),
    ``FileNotFoundError`` for an unreadable file and :class:`RenderError` for anything
    else that stops the picture (unknown format, ``dot`` missing, a malformed history).
    """
    fmt = output_format(output, format)
    diagram = load_diagram(definition, mark_problems=mark_problems)
    trace = _trace(diagram, history, map_runs or {})
    data = _draw(diagram, trace, fmt, Path(output).suffix.lower() == ".md")
    path = Path(output)
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise RenderError(f"cannot write {path}: {exc}") from exc
    return path


def _trace(diagram: Diagram, history: Any, map_runs: MapRunHistories) -> Trace | None:
    if history is None:
        return None
    try:
        trace = (
            history if isinstance(history, Trace) else build_trace(diagram, read_history(history))
        )
        return fold_map_runs(diagram, trace, map_runs)
    except HistoryError as exc:
        raise RenderError(f"not an execution history: {exc}") from None


def _draw(diagram: Diagram, trace: Trace | None, fmt: str, fenced: bool) -> bytes:
    if fmt == "html":
        return html_report(diagram, trace).encode()
    if fmt == "mermaid":
        text = to_mermaid(diagram, trace)
        return (f"```mermaid\n{text}```\n" if fenced else text).encode()
    dot_text = to_dot(diagram, trace)
    if fmt == "dot":
        return dot_text.encode()
    assert fmt in LAYOUT_FORMATS, fmt
    return layout(dot_text, fmt)
