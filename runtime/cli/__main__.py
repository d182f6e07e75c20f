"""``python -m runtime.cli``: the ``asl`` command."""

from runtime.cli.entry import main

main()
