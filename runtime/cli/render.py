"""``asl render``: draw a state machine, or an execution of it, to a file.

Exit codes as for every ``asl`` command: 0 drawn (an invalid definition too, its problems
marked on its states), 1 the definition is invalid and nothing of it can be drawn, 2 bad
usage or unreadable input (unknown format, a file that cannot be read, a history that is
not one, graphviz missing).

``${NAME}`` placeholders are filled from ``--substitute`` and ``--substitutions``; one left
without a value is drawn as it is where its field holds text, and as a stand-in value of
the field's type elsewhere (a Wait's seconds, a Choice rule's number), said on stderr.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

import asl
from asl.diagnostics import DefinitionError
from asl.loader import DefinitionTooLarge, SubstitutionError, read_document
from asl.validate.placeholders import unresolved
from runtime.cli.options import (
    EXIT_FAILED,
    EXIT_USAGE,
    SubstituteOption,
    SubstitutionsOption,
    Values,
    printable,
    substitutions,
)

if TYPE_CHECKING:
    from visualizer.map_runs import MapRunHistories


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
    map_runs: Annotated[
        Path | None,
        typer.Option(
            "--map-runs",
            help="With --history: its Distributed Maps' child executions' histories by Map "
            "Run ARN (JSON, as `asl run --map-runs` writes it), drawn inside their Maps.",
        ),
    ] = None,
    substitute: SubstituteOption = None,
    substitutions_file: SubstitutionsOption = None,
) -> None:
    """Draw a state machine, or one execution of it, as svg, png, pdf, dot, mermaid or html.

    With --history each state is coloured by what happened there, the transitions taken
    are bold with how often, and html adds a timeline and the events. An invalid
    definition is drawn too, each problem marked on the state it is in.
    """
    # Imported here: the visualizer is this command's alone (`asl --help` and the other
    # commands need none of it).
    import visualizer
    from visualizer.trace import HistoryError

    values = substitutions(substitute, substitutions_file, command="asl render")
    if map_runs is not None and history is None:
        typer.echo("asl render: --map-runs goes with --history", err=True)
        raise typer.Exit(EXIT_USAGE)
    children = _map_runs(map_runs) if map_runs is not None else {}
    try:
        fmt = _render(definition, output, format, history, children, values)
    except DefinitionError as exc:
        for diagnostic in exc.diagnostics:
            typer.echo(printable(diagnostic.format(str(definition))), err=True)
        typer.echo(
            f"asl render: {definition} is not a valid state machine, and nothing of it "
            "can be drawn",
            err=True,
        )
        raise typer.Exit(EXIT_FAILED) from None
    except HistoryError as exc:
        typer.echo(printable(f"asl render: {history} is not an execution history: {exc}"), err=True)
        raise typer.Exit(EXIT_USAGE) from None
    except DefinitionTooLarge as exc:
        typer.echo(f"asl render: {definition}: {exc.code}: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    except (FileNotFoundError, SubstitutionError, visualizer.RenderError) as exc:
        typer.echo(f"asl render: {printable(str(exc))}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    typer.echo(f"wrote {output} ({fmt})")


def _map_runs(path: Path) -> MapRunHistories:
    """``--map-runs``: the file read and checked; unreadable or not histories, exit 2."""
    from visualizer import RenderError
    from visualizer.render import read_map_runs
    from visualizer.trace import HistoryError

    try:
        return read_map_runs(path)
    except HistoryError as exc:
        message = f"asl render: {path} is not a set of Map Run histories: {exc}"
    except (FileNotFoundError, RenderError) as exc:
        message = f"asl render: {exc}"
    typer.echo(printable(message), err=True)
    raise typer.Exit(EXIT_USAGE)


def _render(
    definition: Path,
    output: Path,
    format: str | None,
    history: Path | None,
    map_runs: MapRunHistories,
    values: Values,
) -> str:
    """Check the format, read the inputs, draw; return the format written."""
    import visualizer
    from visualizer.map_runs import fold_map_runs
    from visualizer.render import read_history

    fmt = visualizer.output_format(output, format)
    events = read_history(history) if history is not None else None
    document = read_document(definition, values)
    filled = document.value
    # Not an object: nothing to draw, which load_diagram reports from the file itself.
    source = filled if isinstance(filled, Mapping) else definition
    diagram = visualizer.load_diagram(source, mark_problems=True)
    names = unresolved(filled) if isinstance(filled, Mapping) else {}
    if names:
        note = f"no value for {_listed(names)}: drawn as written"
        if diagram.stand_ins:
            note += (
                f", but {_listed(diagram.stand_ins)} as stand-ins (their fields cannot hold text)"
            )
        typer.echo(
            f"asl render: {printable(note)}; give values with --substitute NAME=VALUE", err=True
        )
    if diagram.repair is not None:
        for diagnostic in asl.validate(definition, substitutions=values):
            typer.echo(printable(diagnostic.format(str(definition))), err=True)
        typer.echo(
            f"asl render: {definition} is not a valid state machine; "
            "drawn with its problems marked",
            err=True,
        )
    elif document.repeated_states:  # the value, drawn, keeps the last state of a name
        for diagnostic in document.repeated_states:
            typer.echo(printable(diagnostic.format(str(definition))), err=True)
        typer.echo(
            f"asl render: {definition} is not a valid state machine: drawn with the last "
            "state of each name given twice",
            err=True,
        )
    trace = None
    if events is not None:
        trace = fold_map_runs(diagram, visualizer.build_trace(diagram, events), map_runs)
    if trace is not None and trace.unknown_states:
        names_seen = printable(", ".join(trace.unknown_states))
        typer.echo(f"asl render: warning: states not in {definition}: {names_seen}", err=True)
    visualizer.render(diagram, output, fmt, trace)
    return fmt


def _listed(names: Iterable[str]) -> str:
    return ", ".join(f"${{{name}}}" for name in dict.fromkeys(names))
