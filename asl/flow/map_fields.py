"""The compiled fields of a Distributed Map: ItemReader (Parameters/Arguments, ReaderConfig
and its MaxItems), ItemBatcher, the tolerated failure thresholds and ResultWriter.

Each field may be static, a ``...Path`` (JSONPath) or a ``{% %}`` expression (JSONata);
all of them read the state's effective input (after InputPath in JSONPath, the state
input in JSONata). Causes are AWS's where recorded (localstack test_base_scenarios,
recorded against AWS): a ``...Path`` whose value is not a number gives
``The <Field>Path field refers to value "<v>" which is not a valid integer|float: <path>``;
a negative ToleratedFailureCount gives ``ToleratedFailureCount cannot be negative.``; a
percentage outside 0..100 gives ``ToleratedFailurePercentage must be between 0 and 100.``
All are ``States.Runtime`` (the runtime adds the state prefix).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asl import model as m
from asl.bindings import Bindings
from asl.dataflow import compile_input_path, compile_parameters, compile_path_field
from asl.errors import RUNTIME, StatesError
from asl.item_readers import ReaderConfig, reader_config
from asl.jsonata import compile_expression, compile_jsonata_template, is_expression
from asl.jsontext import json_text

__all__ = ["MAX_BATCH_BYTES", "MapFields", "WriterConfig", "compile_map_fields"]

Eval = Callable[[Bindings], Any]
Number = Callable[[Bindings], Any]
#: MaxInputBytesPerBatch may not exceed AWS's payload limit, 256 KiB.
MAX_BATCH_BYTES = 262_144


def _none(b: Bindings) -> None:
    return None


def _missing(b: Bindings) -> Any:
    return m.MISSING


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else json_text(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number_field(name: str, static: Any, path: str | None, *, integer: bool = True) -> Number:
    """A numeric field: static, ``<name>Path`` or a JSONata expression; None when unset."""
    kind = "integer" if integer else "float"
    valid = _is_int if integer else _is_number
    if path is not None:
        select = compile_path_field(path, f"{name}Path")

        def read(b: Bindings) -> Any:
            value = select(b)
            if not valid(value):
                raise StatesError(
                    RUNTIME,
                    f'The {name}Path field refers to value "{_plain(value)}" which is not a '
                    f"valid {kind}: {path}",
                )
            return value

        return read
    if is_expression(static):
        evaluate = compile_expression(static, name, "integer" if integer else "number")
        return lambda b: int(evaluate(b)) if integer else evaluate(b)
    if static is None or static is m.MISSING:
        return _none
    return lambda b: static


def _checked(read: Number, check: Callable[[Any], None]) -> Number:
    def evaluate(b: Bindings) -> Any:
        value = read(b)
        if value is not None:
            check(value)
        return value

    return evaluate


def _count_check(value: Any) -> None:
    if value < 0:
        raise StatesError(RUNTIME, "ToleratedFailureCount cannot be negative.")


def _percentage_check(value: Any) -> None:
    if not 0 <= value <= 100:
        raise StatesError(RUNTIME, "ToleratedFailurePercentage must be between 0 and 100.")


def _positive(name: str) -> Callable[[Any], None]:
    # Not recorded against AWS: the wording is ours.
    def check(value: Any) -> None:
        if value < 1:
            raise StatesError(RUNTIME, f"{name} must be a positive integer.")

    return check


def _bytes_check(value: Any) -> None:
    _positive("MaxInputBytesPerBatch")(value)
    if value > MAX_BATCH_BYTES:
        # Not recorded against AWS: the wording is ours.
        raise StatesError(
            RUNTIME, f"MaxInputBytesPerBatch must be at most {MAX_BATCH_BYTES} bytes."
        )


def _template(value: Any, field: str, language: m.QueryLanguage) -> Eval:
    if value is m.MISSING:
        return _missing
    if language == "JSONata":
        return compile_jsonata_template(value, field)
    return compile_parameters(value, field)


@dataclass(frozen=True, slots=True)
class WriterConfig:
    """``ResultWriter``: where (``resource``, None: the state output only) and how."""

    resource: str | None
    output_type: str
    transformation: str


def _writer(writer: m.ResultWriter | None) -> WriterConfig | None:
    if writer is None:
        return None
    config = writer.writer_config if isinstance(writer.writer_config, dict) else {}
    # AWS: NONE is the default when exporting to S3, COMPACT when not [aws:resultwriter].
    default = "NONE" if writer.resource is not None else "COMPACT"
    return WriterConfig(
        writer.resource,
        str(config.get("OutputType", "JSON")),
        str(config.get("Transformation", default)),
    )


class MapFields:
    """A Distributed Map's compiled fields (see the module docstring)."""

    def __init__(self, state: m.Map) -> None:
        language = state.query_language
        self.effective_input: Eval = (
            compile_input_path(state.input_path) if language == "JSONPath" else _input
        )
        self._reader(state.item_reader, language)
        self._batcher(state.item_batcher, language)
        self.tolerated_count = _checked(
            _number_field(
                "ToleratedFailureCount",
                state.tolerated_failure_count,
                state.tolerated_failure_count_path,
            ),
            _count_check,
        )
        self.tolerated_percentage = _checked(
            _number_field(
                "ToleratedFailurePercentage",
                state.tolerated_failure_percentage,
                state.tolerated_failure_percentage_path,
                integer=False,
            ),
            _percentage_check,
        )
        self.writer = _writer(state.result_writer)
        writer = state.result_writer
        self.writer_parameters = (
            _missing
            if writer is None
            else _template(
                writer.arguments if language == "JSONata" else writer.parameters,
                "Arguments" if language == "JSONata" else "Parameters",
                language,
            )
        )

    def _reader(self, reader: m.ItemReader | None, language: m.QueryLanguage) -> None:
        self.reader_resource = None if reader is None else reader.resource
        self.reader_config: ReaderConfig | None = (
            None if reader is None else reader_config(reader.reader_config)
        )
        if reader is None:
            self.reader_parameters: Eval = _missing
            self.max_items: Number = _none
            return
        field = "Arguments" if language == "JSONata" else "Parameters"
        template = reader.arguments if language == "JSONata" else reader.parameters
        self.reader_parameters = _template(template, field, language)
        config = reader.reader_config
        self.max_items = _number_field(
            "MaxItems", config.get("MaxItems"), config.get("MaxItemsPath")
        )

    def _batcher(self, batcher: m.ItemBatcher | None, language: m.QueryLanguage) -> None:
        self.batching = batcher is not None
        if batcher is None:
            self.max_items_per_batch: Number = _none
            self.max_bytes_per_batch: Number = _none
            self.batch_input: Eval = _missing
            return
        self.max_items_per_batch = _checked(
            _number_field(
                "MaxItemsPerBatch", batcher.max_items_per_batch, batcher.max_items_per_batch_path
            ),
            _positive("MaxItemsPerBatch"),
        )
        self.max_bytes_per_batch = _checked(
            _number_field(
                "MaxInputBytesPerBatch",
                batcher.max_input_bytes_per_batch,
                batcher.max_input_bytes_per_batch_path,
            ),
            _bytes_check,
        )
        self.batch_input = _template(batcher.batch_input, "BatchInput", language)


def _input(b: Bindings) -> Any:
    return b.input


def compile_map_fields(state: m.State) -> MapFields | None:
    """The compiled fields of a Distributed Map (None for any other state)."""
    if not isinstance(state, m.Map) or state.item_processor.processor_config.mode != "DISTRIBUTED":
        return None
    return MapFields(state)
