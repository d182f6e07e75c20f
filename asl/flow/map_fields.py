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

import re
from collections.abc import Callable
from typing import Any

from asl import model as m
from asl.bindings import Bindings
from asl.dataflow import compile_input_path, compile_parameters, compile_path_field
from asl.errors import RUNTIME, StatesError
from asl.flow.protocol import MapFields, WriterConfig
from asl.item_readers import reader_config
from asl.jsonata import compile_expression, compile_jsonata_template, is_expression
from asl.jsontext import json_text

__all__ = [
    "MAX_BATCH_BYTES",
    "MapFields",
    "WriterConfig",
    "compile_map_fields",
    "not_a_number",
    "path_number",
]

Eval = Callable[[Bindings], Any]
Number = Callable[[Bindings], Any]
#: MaxInputBytesPerBatch may not exceed AWS's payload limit, 256 KiB.
MAX_BATCH_BYTES = 262_144
# Text a ``...Path`` number may be spelled in (Java's integer and decimal forms).
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


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


def path_number(value: Any, *, integer: bool = True) -> int | float | None:
    """The number a ``...Path`` field refers to: a JSON number of the field's kind, or text
    spelling one (AWS reads a variable holding ``"1"`` as 1: localstack
    test_assign_reference_variables, recorded against AWS); None for anything else."""
    if isinstance(value, str):
        if _INTEGER_TEXT.fullmatch(value):
            return int(value)
        if not integer and _DECIMAL_TEXT.fullmatch(value):
            return float(value)
        return None
    valid = _is_int if integer else _is_number
    return value if valid(value) else None


def not_a_number(name: str, value: Any, path: str, *, integer: bool = True) -> StatesError:
    """AWS's error for a ``<name>Path`` whose value is not a number."""
    kind = "integer" if integer else "float"
    return StatesError(
        RUNTIME,
        f'The {name}Path field refers to value "{_plain(value)}" which is not a valid {kind}: '
        f"{path}",
    )


def _number_field(name: str, static: Any, path: str | None, *, integer: bool = True) -> Number:
    """A numeric field: static, ``<name>Path`` or a JSONata expression; None when unset."""
    if path is not None:
        select = compile_path_field(path, f"{name}Path")

        def read(b: Bindings) -> Any:
            value = select(b)
            number = path_number(value, integer=integer)
            if number is None:
                raise not_a_number(name, value, path, integer=integer)
            return number

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


def _checked_field(
    name: str, static: Any, path: str | None, check: Callable[[Any], None], *, integer: bool = True
) -> Number:
    return _checked(_number_field(name, static, path, integer=integer), check)


def _parameters(part: m.ItemReader | m.ResultWriter, language: m.QueryLanguage) -> Eval:
    """ItemReader's or ResultWriter's Parameters (JSONPath) or Arguments (JSONata)."""
    if language == "JSONata":
        return _template(part.arguments, "Arguments", language)
    return _template(part.parameters, "Parameters", language)


def _batch_limits(batcher: m.ItemBatcher | None) -> tuple[Number, Number]:
    """MaxItemsPerBatch and MaxInputBytesPerBatch."""
    if batcher is None:
        return _none, _none
    items = _checked_field(
        "MaxItemsPerBatch",
        batcher.max_items_per_batch,
        batcher.max_items_per_batch_path,
        _positive("MaxItemsPerBatch"),
    )
    size = _checked_field(
        "MaxInputBytesPerBatch",
        batcher.max_input_bytes_per_batch,
        batcher.max_input_bytes_per_batch_path,
        _bytes_check,
    )
    return items, size


def _tolerance(state: m.Map) -> tuple[Number, Number]:
    """ToleratedFailureCount and ToleratedFailurePercentage."""
    count = _checked_field(
        "ToleratedFailureCount",
        state.tolerated_failure_count,
        state.tolerated_failure_count_path,
        _count_check,
    )
    percentage = _checked_field(
        "ToleratedFailurePercentage",
        state.tolerated_failure_percentage,
        state.tolerated_failure_percentage_path,
        _percentage_check,
        integer=False,
    )
    return count, percentage


def _max_items(reader: m.ItemReader | None) -> Number:
    if reader is None:
        return _none
    config = reader.reader_config
    return _number_field("MaxItems", config.get("MaxItems"), config.get("MaxItemsPath"))


def _input(b: Bindings) -> Any:
    return b.input


def compile_map_fields(state: m.State) -> MapFields | None:
    """The compiled fields of a Distributed Map (None for any other state)."""
    if not isinstance(state, m.Map) or state.item_processor.processor_config.mode != "DISTRIBUTED":
        return None
    language = state.query_language
    reader, batcher, writer = state.item_reader, state.item_batcher, state.result_writer
    items_per_batch, bytes_per_batch = _batch_limits(batcher)
    tolerated_count, tolerated_percentage = _tolerance(state)
    return MapFields(
        effective_input=compile_input_path(state.input_path) if language == "JSONPath" else _input,
        reader_resource=None if reader is None else reader.resource,
        reader_config=None if reader is None else reader_config(reader.reader_config),
        reader_parameters=_missing if reader is None else _parameters(reader, language),
        max_items=_max_items(reader),
        batching=batcher is not None,
        max_items_per_batch=items_per_batch,
        max_bytes_per_batch=bytes_per_batch,
        batch_input=(
            _missing if batcher is None else _template(batcher.batch_input, "BatchInput", language)
        ),
        tolerated_count=tolerated_count,
        tolerated_percentage=tolerated_percentage,
        writer=_writer(writer),
        writer_parameters=_missing if writer is None else _parameters(writer, language),
    )
