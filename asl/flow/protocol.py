"""What the runtime asks of a state's compiled flow: the :class:`StateFlow` protocol,
and the compiled fields of a Distributed Map it hands over (:class:`MapFields`).

Both query languages' flows (:class:`~asl.flow.jsonpath.JsonPathFlow`,
:class:`~asl.flow.jsonata.JsonataFlow`) satisfy the protocol, and ``asl.model.State.flow``
is typed with it, so mypy checks every call the runtime makes. This module imports no
model: the model imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from asl.bindings import Bindings
from asl.item_readers import ReaderConfig
from asl.jsontext import JSON

__all__ = ["Assigned", "Growth", "MapFields", "StateFlow", "WriterConfig"]

#: The variables a state assigned (None: it has no Assign).
Assigned = dict[str, JSON] | None

#: ``(a, b, c)``: size(output) <= a * size(input) + b * size(result) + c, in bytes of
#: compact JSON; None when no bound is known (see :mod:`asl.flow.sizes`).
Growth = tuple[float, float, float] | None

#: A compiled field: bindings in, a JSON value out.
Evaluate = Callable[[Bindings], JSON]


@dataclass(frozen=True, slots=True)
class WriterConfig:
    """``ResultWriter``: where (``resource``, None: the state output only) and how."""

    resource: str | None
    output_type: str
    transformation: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MapFields:
    """A Distributed Map's compiled fields, each reading the state's effective input.

    An absent template (``reader_parameters``, ``batch_input``, ``writer_parameters``)
    evaluates to ``MISSING``; an absent number to None.
    """

    effective_input: Evaluate
    reader_resource: str | None
    reader_config: ReaderConfig | None
    reader_parameters: Evaluate
    max_items: Callable[[Bindings], int | None]
    batching: bool
    max_items_per_batch: Callable[[Bindings], int | None]
    max_bytes_per_batch: Callable[[Bindings], int | None]
    batch_input: Evaluate
    tolerated_count: Callable[[Bindings], int | None]
    tolerated_percentage: Callable[[Bindings], float | None]
    writer: WriterConfig | None
    writer_parameters: Evaluate


class StateFlow(Protocol):
    """The compiled data flow of one state. ``raw_input`` is the state's input;
    ``effective`` the input after InputPath (JSONPath) or the input itself (JSONata).
    Methods a state type does not use are never called for it."""

    #: Whether an expression of the state reads the context object (``$$`` /
    #: ``$states.context``): the runtime builds it only then.
    uses_context: bool
    #: Whether the state only passes its input on (no path, template or Assign).
    trivial: bool
    #: Bound of the output's size, and of one child's input (Map, Parallel).
    growth: Growth
    child_growth: Growth
    #: A Distributed Map's fields; None for every other state.
    map_fields: MapFields | None

    def prepare(self, raw_input: JSON, b: Bindings) -> JSON:
        """The input of the state's work (InputPath then Parameters, or Arguments)."""
        ...

    def pass_result(self, payload: JSON) -> JSON:
        """A Pass state's result, given what ``prepare`` made."""
        ...

    def finish(self, raw_input: JSON, result: JSON, b: Bindings) -> tuple[JSON, Assigned]:
        """The state's output and assigned variables, given its work's result."""
        ...

    def catch(
        self, index: int, raw_input: JSON, error_output: JSON, b: Bindings
    ) -> tuple[JSON, Assigned]:
        """The output and assigned variables of the Catcher at ``index``."""
        ...

    def succeed(self, raw_input: JSON, b: Bindings) -> JSON:
        """A Succeed state's output."""
        ...

    def choose(self, raw_input: JSON, b: Bindings) -> tuple[str, JSON, Assigned]:
        """A Choice's next state, output and assigned variables."""
        ...

    def wait(self, raw_input: JSON, b: Bindings, now: float) -> tuple[float, JSON, Assigned]:
        """A Wait's delay in seconds (``now`` is the Host's time), output and variables."""
        ...

    def fail(self, raw_input: JSON, b: Bindings) -> tuple[str | None, str | None]:
        """A Fail state's Error and Cause."""
        ...

    def timeouts(self, raw_input: JSON, b: Bindings) -> tuple[int | None, int | None]:
        """A Task's TimeoutSeconds and HeartbeatSeconds (None: unset)."""
        ...

    def items(self, raw_input: JSON, b: Bindings) -> tuple[JSON, list[JSON]]:
        """A Map's effective input and its items."""
        ...

    def item_input(self, effective: JSON, item: JSON, index: int, b: Bindings) -> JSON:
        """One Map iteration's input (``b`` carries the iteration's context)."""
        ...

    def max_concurrency(self, effective: JSON, b: Bindings) -> int:
        """A Map's MaxConcurrency (0: no limit)."""
        ...
