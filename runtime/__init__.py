"""The engine that runs state machines, and the outer ring: the ``asl`` CLI."""

__all__: list[str] = []
