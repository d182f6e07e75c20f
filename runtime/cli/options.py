"""What the ``asl`` commands share: their exit codes, the ``--format`` of ``validate`` and
``run``, command-line values that are JSON text, or ``@file`` naming a file that holds
it, the placeholder values of ``--substitute`` and ``--substitutions``, data made safe
to print on a terminal, counts in words, and the way out of a process that loaded Temporal's SDK."""

from __future__ import annotations

import inspect
import os
import re
import sys
from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from asl.jsontext import parse_json
from asl.textfile import MIB, TextFileError, read_text_file

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def leave_now(command: str, code: int, error: str | None = None) -> NoReturn:
    """Exit with ``code`` (after printing ``error`` as ``<command>: <error>``) at once,
    skipping the interpreter's finalisation: the Temporal SDK's Rust threads may call into
    Python during it and abort the process, even after a clean stop
    (temporalio/sdk-python#300)."""
    if error is not None:
        typer.echo(f"{command}: {error}", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def help_of(command: Callable[..., object]) -> str:
    """A command's docstring as its ``--help`` text: each paragraph on one line, which the
    terminal's width wraps (typer keeps a docstring's line breaks, and a narrower terminal
    wraps those lines again, raggedly)."""
    paragraphs = inspect.cleandoc(command.__doc__ or "").split("\n\n")
    return "\n\n".join(" ".join(paragraph.split("\n")) for paragraph in paragraphs)


def command_group(name: str, description: str, **settings: Any) -> typer.Typer:
    """A typer app as the ``asl`` command and its groups are made: no shell completion
    options, Python's own tracebacks (typer's would show locals)."""
    return typer.Typer(
        name=name,
        help=description,
        add_completion=False,
        pretty_exceptions_enable=False,
        **settings,
    )


#: The largest ``@file`` of JSON a command reads (``asl run --input``, ``asl tasks approve
#: --output``): AWS takes at most 256 KiB of JSON text there; four times that leaves room
#: for indentation, and the value is measured again as AWS measures it.
JSON_FILE_MAX_BYTES = 1 * MIB


class OutputFormat(StrEnum):
    """How ``asl validate`` and ``asl run`` print their result."""

    text = "text"
    json = "json"


# What a terminal would act on rather than show: C0 controls but tab and newline (ESC
# starts colour and cursor sequences, CR overwrites a line), DEL, C1 controls (CSI alone
# starts a sequence), the bidirectional overrides and isolates (they reorder what is
# shown), and lone surrogates (no encoding can print them).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def printable(text: str) -> str:
    """Data (an error, a cause, a state name, a handler's log) as text safe to print: each
    character a terminal would act on written as its escape (``\\x1b``, ``\\u202e``)."""
    return _UNSAFE.sub(_escape, text)


def counted(count: int, noun: str) -> str:
    """``1 state``, ``2 states``: a count with its noun (plural with an ``s``)."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def printable_json(text: str) -> str:
    """JSON text safe to print, still the same JSON: such characters (which JSON allows
    unescaped in strings, but for C0) written as ``\\u`` escapes."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def text_or_file(value: str, *, command: str, what: str) -> str:
    """``value`` itself, or the text of the file ``@path`` names (at most
    :data:`JSON_FILE_MAX_BYTES`); a file that cannot be read, is larger or is not UTF-8
    ends the command with exit status 2 and a message naming ``what`` it was for."""
    if not value.startswith("@"):
        return value
    try:
        return read_text_file(value[1:], JSON_FILE_MAX_BYTES)
    except TextFileError as exc:
        typer.echo(f"{command}: cannot read the {what} file {value[1:]}: {exc.reason}", err=True)
        raise typer.Exit(EXIT_USAGE) from None


def json_option(value: str, *, command: str, what: str) -> Any:
    """The JSON value of the option ``--what`` (text, or ``@file`` as :func:`text_or_file`
    reads it), read as every JSON from outside is (:func:`asl.jsontext.parse_json`); text
    that is not JSON ends the command with exit status 2 and a message saying so."""
    text = text_or_file(value, command=command, what=what)
    try:
        return parse_json(text)
    except ValueError as exc:
        typer.echo(printable(f"{command}: --{what} is not JSON: {exc}"), err=True)
        raise typer.Exit(EXIT_USAGE) from None


#: The local set-up files ``asl run`` and ``asl serve`` share.
FunctionsOption = Annotated[
    Path | None, typer.Option(help="Functions file mapping Lambda names to handlers.")
]
ConnectionsOption = Annotated[
    Path | None,
    typer.Option(help="EventBridge connections for HTTP Tasks (JSON or YAML)."),
]
ResourcesOption = Annotated[
    Path | None,
    typer.Option(
        help="AWS resources to create first on the local endpoint: SQS queues, SNS "
        "topics, DynamoDB tables, S3 buckets, EventBridge buses (JSON or YAML)."
    ),
]
#: ``--substitute NAME=VALUE``, repeatable: a value for a ``${NAME}`` placeholder.
SubstituteOption = Annotated[
    list[str] | None,
    typer.Option(
        "--substitute",
        metavar="NAME=VALUE",
        help="A value for the ${NAME} placeholders (SAM/CDK DefinitionSubstitutions, "
        "Terraform templatefile); repeatable.",
    ),
]
#: ``--substitutions FILE``: placeholder values, a JSON or YAML map of name -> value.
SubstitutionsOption = Annotated[
    Path | None,
    typer.Option(
        "--substitutions",
        help="Placeholder values: a JSON or YAML map of NAME -> value (--substitute wins).",
    ),
]

Values = dict[str, str | int | float | bool]


def substitutions(pairs: list[str] | None, file: Path | None, *, command: str) -> Values:
    """The placeholder values of ``--substitutions FILE`` and ``--substitute NAME=VALUE``
    (the latter win); a malformed one ends the command with exit status 2."""
    values: Values = {}
    if file is not None:
        values.update(_from_file(file, command))
    for pair in pairs or ():
        name, equals, value = pair.partition("=")
        if not equals or not name:
            typer.echo(f"{command}: --substitute takes NAME=VALUE, not {pair!r}", err=True)
            raise typer.Exit(EXIT_USAGE)
        values[name] = value
    return values


def _from_file(file: Path, command: str) -> Values:
    # Imported here: the integrations package brings asyncio, which `asl --help` and
    # `asl validate` without a substitutions file need not load.
    from integrations.settings_file import SettingsFileError, read_settings

    try:
        document = read_settings(file)
    except SettingsFileError as exc:
        typer.echo(f"{command}: the substitutions file {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    scalar = str | int | float | bool
    if not isinstance(document, Mapping) or not all(
        isinstance(key, str) and isinstance(value, scalar) for key, value in document.items()
    ):
        typer.echo(
            f"{command}: the substitutions file {file} must map each name to a string, "
            "number or boolean",
            err=True,
        )
        raise typer.Exit(EXIT_USAGE)
    return dict(document)
