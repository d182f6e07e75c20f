"""``asl render``: draw a state machine, or an execution of it, to a file.

Exit codes as for every ``asl`` command: 0 drawn (an invalid definition too, its problems
marked on its states), 1 the definition is invalid and nothing of it can be drawn, 2 bad
usage or unreadable input (unknown format, a file that cannot be read, a history that is
not one, graphviz missing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import asl
import visualizer
from asl.diagnostics import DefinitionError
from runtime.cli.options import EXIT_FAILED, EXIT_USAGE
from visualizer.render import read_history
from visualizer.trace import HistoryError


def render(
    definition: Annotated[Path, typer.Argument(help="Definition file (JSON or YAML).")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="File to write; its extension names the format.")
    ],
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="svg, png, pdf, dot, mermaid or html (default: from the output's extension).",
        ),
    ] = None,
    history: Annotated[
        Path | None,
        typer.Option(
            "--history",
            help="An execution's history (GetExecutionHistory JSON) to draw over the workflow.",
        ),
    ] = None,
) -> None:
    """Draw a state machine, or one execution of it, as svg, png, pdf, dot, mermaid or html.

    With --history each state is coloured by what happened there, the transitions taken
    are bold with how often, and html adds a timeline and the events. An invalid
    definition is drawn too, each problem marked on the state it is in.
    """
    try:
        fmt = _render(definition, output, format, history)
    except DefinitionError as exc:
        for diagnostic in exc.diagnostics:
            typer.echo(diagnostic.format(str(definition)), err=True)
        typer.echo(
            f"asl render: {definition} is not a valid state machine, and nothing of it "
            "can be drawn",
            err=True,
        )
        raise typer.Exit(EXIT_FAILED) from None
    except HistoryError as exc:
        typer.echo(f"asl render: {history} is not an execution history: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    except (FileNotFoundError, visualizer.RenderError) as exc:
        typer.echo(f"asl render: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    typer.echo(f"wrote {output} ({fmt})")


def _render(definition: Path, output: Path, format: str | None, history: Path | None) -> str:
    """Check the format, read the inputs, draw; return the format written."""
    fmt = visualizer.output_format(output, format)
    events = read_history(history) if history is not None else None
    diagram = visualizer.load_diagram(definition, mark_problems=True)
    if diagram.repair is not None:
        for diagnostic in asl.validate(definition):
            typer.echo(diagnostic.format(str(definition)), err=True)
        typer.echo(
            f"asl render: {definition} is not a valid state machine; "
            "drawn with its problems marked",
            err=True,
        )
    trace = visualizer.build_trace(diagram, events) if events is not None else None
    if trace is not None and trace.unknown_states:
        names = ", ".join(trace.unknown_states)
        typer.echo(f"asl render: warning: states not in {definition}: {names}", err=True)
    visualizer.render(diagram, output, fmt, trace)
    return fmt
