"""What an expression may read when it is evaluated.

ASL expressions (paths, payload templates, intrinsic calls, Choice rules, JSONata) are
compiled once into callables that take a :class:`Bindings`. The module stays pure: the
randomness that ``States.MathRandom``, ``States.UUID``, ``$random`` and ``$uuid`` need
comes from an :class:`Entropy` the caller injects (the runtime passes its Host's).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar, Protocol


class Entropy(Protocol):
    """A source of random numbers and UUIDs."""

    def random(self) -> float:
        """A float uniformly drawn from [0, 1)."""
        ...

    def uuid4(self) -> str:
        """A random (version 4) UUID as text."""
        ...


# The bits of a version 4 UUID kept from its random ones (a positive mask: and-ing with a
# negative one costs more), and its version (4) and variant (RFC 4122) bits.
_UUID4_KEEP = (1 << 128) - 1 & ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def uuid4_text(bits: int) -> str:
    """The version 4 UUID made of 128 random ``bits`` (its version and variant bits set),
    as ``str(uuid.UUID(int=bits, version=4))`` gives it, formatted directly."""
    # aaaa-aaaa-bbbb-cccc-dddd-eeee-eeee-eeee: fewer slices than the plain hex needs
    text = (bits & _UUID4_KEEP | _UUID4_SET).to_bytes(16).hex("-", 2)
    return text[:4] + text[5:29] + text[30:34] + text[35:]


class SystemEntropy:
    """Entropy from Python's ``random`` module, seedable for deterministic tests."""

    __slots__ = ("_random", "_seed")

    def __init__(self, seed: int | None = None) -> None:
        self._seed = seed
        # Seeded at the first draw: seeding costs more than running a Pass state, and most
        # sources (one per durable execution) are never drawn from.
        self._random: random.Random | None = None

    def _source(self) -> random.Random:
        if self._random is None:
            self._random = random.Random(self._seed)
        return self._random

    def random(self) -> float:
        """A float uniformly drawn from [0, 1)."""
        return self._source().random()

    def uuid4(self) -> str:
        """A version 4 UUID drawn from this source (as ``uuid.UUID(int=..., version=4)``
        would give it, formatted directly: one is made for every execution)."""
        source = self._random or self._source()
        return uuid4_text(source.getrandbits(128))


EMPTY: Mapping[str, Any] = MappingProxyType({})
DEFAULT_ENTROPY = SystemEntropy()


class Bindings:
    """The values an expression reads.

    ``input`` is ``$`` (JSONPath) or ``$states.input`` (JSONata); ``context`` is ``$$`` /
    ``$states.context``; ``variables`` are the workflow variables in scope. JSONata's
    ``$states.result`` and ``$states.errorOutput`` are present only where AWS allows them.

    Treated as immutable: derive new bindings (:meth:`with_input`), never assign. (A plain
    slotted class rather than a frozen dataclass: one is made for every evaluation, and a
    frozen dataclass's ``__init__`` is several times slower.)
    """

    #: Whether the evaluation runs on the event loop (see :class:`LoopBindings`).
    on_event_loop: ClassVar[bool] = False

    __slots__ = (
        "context",
        "entropy",
        "error_output",
        "has_error_output",
        "has_result",
        "input",
        "result",
        "variables",
    )

    def __init__(
        self,
        input: Any = None,
        context: Any = None,
        variables: Mapping[str, Any] = EMPTY,
        result: Any = None,
        error_output: Any = None,
        has_result: bool = False,
        has_error_output: bool = False,
        entropy: Entropy = DEFAULT_ENTROPY,
    ) -> None:
        self.input = input
        self.context = context
        self.variables = variables
        self.result = result
        self.error_output = error_output
        self.has_result = has_result
        self.has_error_output = has_error_output
        self.entropy = entropy

    def __repr__(self) -> str:
        return (
            f"Bindings(input={self.input!r}, context={self.context!r}, "
            f"variables={self.variables!r})"
        )

    def with_entropy(self, entropy: Entropy) -> Bindings:
        """The same bindings drawing from another source of randomness."""
        derived = copy.copy(self)
        derived.entropy = entropy
        return derived

    def with_input(self, value: Any) -> Bindings:
        """The same bindings reading another ``$``."""
        return type(self)(
            value,
            self.context,
            self.variables,
            self.result,
            self.error_output,
            self.has_result,
            self.has_error_output,
            self.entropy,
        )


class LoopBindings(Bindings):
    """Bindings of an evaluation on the event loop (an execution's states): a JSONata
    evaluation that runs long stops there with ``Overrun``, to be run again on a worker
    thread (see :mod:`asl.limits`). Derived bindings keep the class."""

    __slots__ = ()
    on_event_loop = True
