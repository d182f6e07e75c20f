"""Helpers the state handlers share."""

from __future__ import annotations

from typing import Any

from asl import model as m
from asl.bindings import Bindings
from runtime.frame import Frame


def bindings_for(
    state: m.State,
    frame: Frame,
    retry_count: int = 0,
    map_item: dict[str, Any] | None = None,
    task_token: str | None = None,
) -> Bindings:
    """Bindings for evaluating a state's expressions: context, variables, entropy."""
    return frame.bindings(state, retry_count, map_item, task_token)
