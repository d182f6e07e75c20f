"""What an execution's ARN says of it: an Express execution's ARN is of the ``express``
kind (``arn:aws:states:R:A:express:<machine>:<name>:<id>``; a Map Run's Express child's,
``...:express:<machine>/<label>:<name>``), a Standard one's of the ``execution`` kind."""

from __future__ import annotations

__all__ = ["is_express"]


def is_express(arn: str) -> bool:
    """Whether ``arn`` names an Express execution."""
    return ":express:" in arn
