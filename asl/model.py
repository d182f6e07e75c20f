"""The typed model of a state machine: frozen dataclasses for the whole language.

Field names are the ASL names in snake case (``ResultPath`` is ``result_path``). A field
AWS gives a default has it filled in; a field whose absence differs from every value
(``Result``, ``Parameters``, ``Output``...) is :data:`MISSING` when absent, so that
``"Result": null`` and ``"Result": 0`` stay results. For InputPath, OutputPath and
ResultPath, ``None`` is the explicit ``null`` and the default is ``"$"``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeAlias

from asl.jsontext import JSON

if TYPE_CHECKING:
    from asl.flow.protocol import StateFlow

QueryLanguage = Literal["JSONPath", "JSONata"]
StateType = Literal["Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"]
STATE_TYPES: tuple[StateType, ...] = (
    "Task",
    "Pass",
    "Choice",
    "Wait",
    "Succeed",
    "Fail",
    "Parallel",
    "Map",
)


class _Missing(enum.Enum):
    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


#: The value of an optional field that the definition does not set.
MISSING = _Missing.MISSING
Missing: TypeAlias = Literal[_Missing.MISSING]

#: Task TimeoutSeconds when the definition sets none: AWS's default, not the spec's 60.
DEFAULT_TASK_TIMEOUT_SECONDS = 99_999_999


@dataclass(frozen=True, slots=True, kw_only=True)
class Retrier:
    """One entry of ``Retry``, with AWS's defaults."""

    error_equals: tuple[str, ...]
    interval_seconds: int = 1
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: int | None = None
    jitter_strategy: Literal["FULL", "NONE"] = "NONE"
    comment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Catcher:
    """One entry of ``Catch``."""

    error_equals: tuple[str, ...]
    next: str
    result_path: str | None = "$"
    output: JSON | Missing = MISSING
    assign: Mapping[str, JSON] | Missing = MISSING
    comment: str | None = None


# --- Choice rules ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DataTest:
    """``{"Variable": ..., "<Operator>": value}``; a ``...Path`` operator's value is a path."""

    variable: str
    operator: str
    value: JSON


@dataclass(frozen=True, slots=True, kw_only=True)
class And:
    """All of the rules hold."""

    rules: tuple[Condition, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Or:
    """Any of the rules holds."""

    rules: tuple[Condition, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Not:
    """The rule does not hold."""

    rule: Condition


@dataclass(frozen=True, slots=True, kw_only=True)
class JsonataCondition:
    """A JSONata rule: ``{"Condition": "{% ... %}"}`` (or a literal boolean)."""

    condition: str | bool


Condition: TypeAlias = DataTest | And | Or | Not | JsonataCondition


@dataclass(frozen=True, slots=True, kw_only=True)
class ChoiceRule:
    """A top-level entry of ``Choices``: a condition and where it leads."""

    condition: Condition
    next: str
    assign: Mapping[str, JSON] | Missing = MISSING
    output: JSON | Missing = MISSING
    comment: str | None = None


# --- States ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class State:
    """Fields every state has. ``query_language`` is the effective one (state or machine)."""

    name: str
    type: StateType
    query_language: QueryLanguage = "JSONPath"
    comment: str | None = None
    input_path: str | None = "$"
    output_path: str | None = "$"
    assign: Mapping[str, JSON] | Missing = MISSING
    output: JSON | Missing = MISSING
    next: str | None = None
    end: bool = False
    #: The state's compiled data flow (see :mod:`asl.flow`), built by :mod:`asl.compile`.
    flow: StateFlow = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Pass(State):
    """``Type: Pass``."""

    result: JSON | Missing = MISSING
    parameters: JSON | Missing = MISSING
    result_path: str | None = "$"


@dataclass(frozen=True, slots=True, kw_only=True)
class Task(State):
    """``Type: Task``. Seconds fields hold an int, or a JSONata ``{% %}`` string."""

    resource: str
    parameters: JSON | Missing = MISSING
    arguments: JSON | Missing = MISSING
    credentials: JSON | Missing = MISSING
    result_selector: JSON | Missing = MISSING
    result_path: str | None = "$"
    timeout_seconds: int | str | None = None
    timeout_seconds_path: str | None = None
    heartbeat_seconds: int | str | None = None
    heartbeat_seconds_path: str | None = None
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice(State):
    """``Type: Choice``."""

    choices: tuple[ChoiceRule, ...] = ()
    default: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Wait(State):
    """``Type: Wait``: exactly one of the four timing fields is set."""

    seconds: int | str | None = None
    timestamp: str | None = None
    seconds_path: str | None = None
    timestamp_path: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Succeed(State):
    """``Type: Succeed``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Fail(State):
    """``Type: Fail``."""

    error: str | None = None
    error_path: str | None = None
    cause: str | None = None
    cause_path: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    """A set of states with a start: the machine, a Parallel branch or a Map processor.

    ``data_only`` says every state is a Pass, Choice, Succeed or Fail: the scope only
    moves data and can never wait (computed by :mod:`asl.compile`).
    """

    start_at: str
    states: Mapping[str, State]
    data_only: bool
    comment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Parallel(State):
    """``Type: Parallel``."""

    branches: tuple[Scope, ...] = ()
    parameters: JSON | Missing = MISSING
    arguments: JSON | Missing = MISSING
    result_selector: JSON | Missing = MISSING
    result_path: str | None = "$"
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessorConfig:
    """``ItemProcessor.ProcessorConfig``."""

    mode: Literal["INLINE", "DISTRIBUTED"] = "INLINE"
    execution_type: Literal["STANDARD", "EXPRESS"] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemProcessor(Scope):
    """``ItemProcessor`` (or the legacy ``Iterator``) of a Map state."""

    processor_config: ProcessorConfig = field(default_factory=ProcessorConfig)


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemReader:
    """``ItemReader`` of a distributed Map."""

    resource: str
    reader_config: Mapping[str, JSON] = field(default_factory=dict)
    parameters: JSON | Missing = MISSING
    arguments: JSON | Missing = MISSING


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemBatcher:
    """``ItemBatcher``: children get ``{"Items": [...], "BatchInput": ...}``."""

    max_items_per_batch: int | str | None = None
    max_items_per_batch_path: str | None = None
    max_input_bytes_per_batch: int | str | None = None
    max_input_bytes_per_batch_path: str | None = None
    batch_input: JSON | Missing = MISSING


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultWriter:
    """``ResultWriter`` of a distributed Map."""

    resource: str | None = None
    parameters: JSON | Missing = MISSING
    arguments: JSON | Missing = MISSING
    writer_config: Mapping[str, JSON] | Missing = MISSING


@dataclass(frozen=True, slots=True, kw_only=True)
class Map(State):
    """``Type: Map``, inline or distributed."""

    item_processor: ItemProcessor
    items_path: str = "$"
    items: JSON | Missing = MISSING
    item_selector: JSON | Missing = MISSING
    item_reader: ItemReader | None = None
    item_batcher: ItemBatcher | None = None
    result_writer: ResultWriter | None = None
    max_concurrency: int | str = 0
    max_concurrency_path: str | None = None
    tolerated_failure_count: int | str | None = None
    tolerated_failure_count_path: str | None = None
    tolerated_failure_percentage: float | str | None = None
    tolerated_failure_percentage_path: str | None = None
    label: str | None = None
    result_selector: JSON | Missing = MISSING
    result_path: str | None = "$"
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class StateMachine:
    """A whole definition: its top-level scope and machine-wide settings."""

    scope: Scope
    comment: str | None = None
    version: str | None = None
    timeout_seconds: int | None = None
    query_language: QueryLanguage = "JSONPath"

    @property
    def start_at(self) -> str:
        """``StartAt`` of the top-level scope."""
        return self.scope.start_at

    @property
    def states(self) -> Mapping[str, State]:
        """The top-level states by name."""
        return self.scope.states
