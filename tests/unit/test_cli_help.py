"""Each command's ``--help`` prose at 80 columns: paragraphs wrapped by the terminal's
width, not broken where the docstring's source lines end."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from runtime.cli.commands import app
from runtime.cli.options import help_of

COMMANDS = ["validate", "run", "render", "serve", "test-state", "tasks"]


def _prose(text: str) -> list[list[str]]:
    """The paragraphs between the usage line and the first panel, as their lines."""
    top = text.split("╭")[0].splitlines()
    start = next(i for i, line in enumerate(top) if "Usage:" in line) + 1
    paragraphs: list[list[str]] = [[]]
    for line in top[start:]:
        if line.strip():
            paragraphs[-1].append(line.rstrip())
        elif paragraphs[-1]:
            paragraphs.append([])
    return [paragraph for paragraph in paragraphs if paragraph]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_prose_fills_80_columns(command: str) -> None:
    shown = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "80"})
    assert shown.exit_code == 0, shown.output
    paragraphs = _prose(shown.output)
    assert paragraphs
    for paragraph in paragraphs:
        assert all(len(line) <= 80 for line in paragraph), paragraph
        # Every line but a paragraph's last is filled: a ragged break leaves one short.
        assert all(len(line) > 60 for line in paragraph[:-1]), paragraph


def test_help_of_joins_a_paragraphs_lines() -> None:
    def command() -> None:
        """First line.

        One paragraph
        on two lines.
        """

    assert help_of(command) == "First line.\n\nOne paragraph on two lines."
