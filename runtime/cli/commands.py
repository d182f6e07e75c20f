"""The ``asl`` command line: the typer app, with one module per command (``validate``,
``run``, ``tasks``, ``render``, ``serve``, ``test-state``, ``test``, ``worker``) and
``--version``; :mod:`runtime.cli.app` runs it.

Exit codes: 0 success, 1 the definition or execution failed, 2 bad usage or unreadable input.
"""

from __future__ import annotations

from typing import Annotated

import typer

from runtime.cli.options import EXIT_OK, command_group, help_of
from runtime.cli.render import render
from runtime.cli.run import run
from runtime.cli.serve import serve
from runtime.cli.tasks import app as tasks_app
from runtime.cli.test_cases import test_cases
from runtime.cli.test_state import test_state
from runtime.cli.validate import validate
from runtime.cli.worker import worker

app = command_group(
    "asl",
    "Amazon States Language engine: validate, run and draw AWS Step Functions state machines.",
    no_args_is_help=True,
)

app.command(help=help_of(validate))(validate)
app.command(help=help_of(run))(run)
app.add_typer(tasks_app, name="tasks")
app.command(help=help_of(render))(render)
app.command(help=help_of(serve))(serve)
app.command(name="test-state", help=help_of(test_state))(test_state)
app.command(name="test", help=help_of(test_cases))(test_cases)
app.command(help=help_of(worker))(worker)


@app.callback(invoke_without_command=True)
def _main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    """Amazon States Language engine."""
    if version:
        from importlib.metadata import version as dist_version

        typer.echo(f"asl-engine {dist_version('asl-engine')}")
        raise typer.Exit(EXIT_OK)
