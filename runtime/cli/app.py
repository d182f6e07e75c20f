"""The ``asl`` command's entry point: the console script's ``main``, and ``python -m
runtime.cli``'s.

Light to import, so that ``asl serve`` notes a SIGINT or SIGTERM that comes while its
modules are still being imported (:func:`runtime.stop_signals.note_early_stops`) and stops
as quietly as it does later; the typer app (:mod:`runtime.cli.commands`) is imported after.
"""

from __future__ import annotations

import sys

from runtime.stop_signals import note_early_stops

__all__ = ["main"]


def main() -> None:
    """Run the ``asl`` command."""
    note_early_stops(sys.argv)
    from runtime.cli.commands import app

    app()


if __name__ == "__main__":
    main()
