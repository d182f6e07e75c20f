"""The ``asl`` command line and ``make demo``: the outer ring's commands.

``app`` is the console script's ``main`` (light: it takes ``asl serve``'s stop signals
over first), ``commands`` the typer app (``asl --version``); one module per command:
``validate``, ``run`` (``local_run`` sets up and runs its execution), ``tasks``,
``render``, and ``demo`` for ``make demo``; ``options`` holds what they share (exit
codes, ``--format``, options that are JSON text or ``@file``).

``python -m runtime.cli`` runs the ``asl`` command.
"""
