"""``python -m runtime.cli``: the ``asl`` command."""

from runtime.cli.app import main

main()
