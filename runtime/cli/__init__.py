"""The ``asl`` command line and ``make demo``: the outer ring's commands.

One module per command: ``app`` (the typer app, ``asl --version``, the console script's
``main``), ``validate`` and ``run`` (in ``app``; ``local_run`` sets up and runs the
execution), ``tasks`` (``asl tasks``), ``render`` (``asl render``), ``demo``
(``make demo``); ``options`` reads the options that are JSON text or ``@file``.

``python -m runtime.cli`` runs the ``asl`` command.
"""
