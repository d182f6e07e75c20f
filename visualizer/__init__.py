"""Drawings of workflows and of their executions.

>>> from visualizer import render
>>> render("machine.asl.json", "machine.svg")                         # doctest: +SKIP
>>> render("machine.asl.json", "run.html", history="history.json")    # doctest: +SKIP

Lower level: :func:`load_diagram` (a definition ready to draw), :func:`build_trace` (an
execution history folded onto it), :func:`to_dot`, :func:`to_mermaid`,
:func:`html_report` (text), :func:`layout` (``dot`` to svg, png or pdf bytes).
"""

from visualizer.diagram import Diagram, load_diagram
from visualizer.dot import to_dot
from visualizer.html_report import html_report
from visualizer.layout import RenderError, layout
from visualizer.mermaid import to_mermaid
from visualizer.render import FORMATS, output_format, render
from visualizer.trace import Trace, build_trace

__all__ = [
    "FORMATS",
    "Diagram",
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
