"""Task resources: the integrations that run a Task state's work."""

__all__: list[str] = []
