"""Build the typed model from a validated definition document."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from asl import model as m
from asl.choice import parse_choices
from asl.flow import build_flow

_Doc = Mapping[str, Any]


def build_machine(document: _Doc) -> m.StateMachine:
    """The model of a definition that the validator accepted."""
    language: m.QueryLanguage = document.get("QueryLanguage", "JSONPath")
    return m.StateMachine(
        scope=_scope(document, language),
        comment=document.get("Comment"),
        version=document.get("Version"),
        timeout_seconds=document.get("TimeoutSeconds"),
        query_language=language,
    )


def _scope(doc: _Doc, language: m.QueryLanguage) -> m.Scope:
    states = _states(doc, language)
    return m.Scope(
        start_at=doc["StartAt"],
        states=states,
        data_only=_data_only(states),
        comment=doc.get("Comment"),
    )


def _states(doc: _Doc, language: m.QueryLanguage) -> dict[str, m.State]:
    return {name: _state(name, s, language) for name, s in doc["States"].items()}


_DATA_ONLY_TYPES = frozenset({"Pass", "Choice", "Succeed", "Fail"})


def _data_only(states: Mapping[str, m.State]) -> bool:
    """Whether every state only moves data (none can wait, run work or child scopes)."""
    return all(state.type in _DATA_ONLY_TYPES for state in states.values())


def _opt(doc: _Doc, key: str) -> Any:
    """A field whose absence is not a value: MISSING when absent."""
    return doc.get(key, m.MISSING)


def _common(name: str, doc: _Doc, machine_language: m.QueryLanguage) -> dict[str, Any]:
    # A state's own QueryLanguage applies to it alone: children of a Map or Parallel
    # take the machine's, not their parent state's [spec; moto#9141].
    return {
        "name": name,
        "type": doc["Type"],
        "query_language": doc.get("QueryLanguage", machine_language),
        "comment": doc.get("Comment"),
        "input_path": doc.get("InputPath", "$"),
        "output_path": doc.get("OutputPath", "$"),
        "assign": _opt(doc, "Assign"),
        "output": _opt(doc, "Output"),
        "next": doc.get("Next"),
        "end": doc.get("End", False),
        # Built from the finished state by _state: a state has no flow only until then.
        "flow": None,
    }


def _retriers(doc: _Doc) -> tuple[m.Retrier, ...]:
    out = []
    for r in doc.get("Retry", ()):
        fields: dict[str, Any] = {"error_equals": tuple(r["ErrorEquals"])}
        for key, attr in (
            ("IntervalSeconds", "interval_seconds"),
            ("MaxAttempts", "max_attempts"),
            ("MaxDelaySeconds", "max_delay_seconds"),
            ("JitterStrategy", "jitter_strategy"),
            ("Comment", "comment"),
        ):
            if key in r:
                fields[attr] = r[key]
        if "BackoffRate" in r:
            fields["backoff_rate"] = float(r["BackoffRate"])
        out.append(m.Retrier(**fields))
    return tuple(out)


def _catchers(doc: _Doc) -> tuple[m.Catcher, ...]:
    return tuple(
        m.Catcher(
            error_equals=tuple(c["ErrorEquals"]),
            next=c["Next"],
            result_path=c.get("ResultPath", "$"),
            output=_opt(c, "Output"),
            assign=_opt(c, "Assign"),
            comment=c.get("Comment"),
        )
        for c in doc.get("Catch", ())
    )


def _pass(c: dict[str, Any], d: _Doc, lang: m.QueryLanguage) -> m.State:
    return m.Pass(
        **c,
        result=_opt(d, "Result"),
        parameters=_opt(d, "Parameters"),
        result_path=d.get("ResultPath", "$"),
    )


def _task(c: dict[str, Any], d: _Doc, lang: m.QueryLanguage) -> m.State:
    return m.Task(
        **c,
        resource=d["Resource"],
        parameters=_opt(d, "Parameters"),
        arguments=_opt(d, "Arguments"),
        credentials=_opt(d, "Credentials"),
        result_selector=_opt(d, "ResultSelector"),
        result_path=d.get("ResultPath", "$"),
        timeout_seconds=d.get("TimeoutSeconds"),
        timeout_seconds_path=d.get("TimeoutSecondsPath"),
        heartbeat_seconds=d.get("HeartbeatSeconds"),
        heartbeat_seconds_path=d.get("HeartbeatSecondsPath"),
        retry=_retriers(d),
        catch=_catchers(d),
    )


def _choice(c: dict[str, Any], d: _Doc, lang: m.QueryLanguage) -> m.State:
    return m.Choice(**c, choices=parse_choices(d["Choices"]), default=d.get("Default"))


def _wait(c: dict[str, Any], d: _Doc, lang: m.QueryLanguage) -> m.State:
    return m.Wait(
        **c,
        seconds=d.get("Seconds"),
        timestamp=d.get("Timestamp"),
        seconds_path=d.get("SecondsPath"),
        timestamp_path=d.get("TimestampPath"),
    )


def _succeed(c: dict[str, Any], d: _Doc, lang: m.QueryLanguage) -> m.State:
    return m.Succeed(**c)


def _fail(c: dict[str, Any], d: _Doc, lang: m.QueryLanguage) -> m.State:
    return m.Fail(
        **c,
        error=d.get("Error"),
        error_path=d.get("ErrorPath"),
        cause=d.get("Cause"),
        cause_path=d.get("CausePath"),
    )


def _parallel(c: dict[str, Any], d: _Doc, lang: m.QueryLanguage) -> m.State:
    return m.Parallel(
        **c,
        branches=tuple(_scope(b, lang) for b in d["Branches"]),
        parameters=_opt(d, "Parameters"),
        arguments=_opt(d, "Arguments"),
        result_selector=_opt(d, "ResultSelector"),
        result_path=d.get("ResultPath", "$"),
        retry=_retriers(d),
        catch=_catchers(d),
    )


def _processor(d: _Doc, lang: m.QueryLanguage) -> m.ItemProcessor:
    proc = d.get("ItemProcessor", d.get("Iterator"))
    config = proc.get("ProcessorConfig", {})
    states = _states(proc, lang)
    return m.ItemProcessor(
        start_at=proc["StartAt"],
        states=states,
        data_only=_data_only(states),
        comment=proc.get("Comment"),
        processor_config=m.ProcessorConfig(
            mode=config.get("Mode", "INLINE"), execution_type=config.get("ExecutionType")
        ),
    )


def _reader(reader: _Doc | None) -> m.ItemReader | None:
    if reader is None:
        return None
    return m.ItemReader(
        resource=reader["Resource"],
        reader_config=reader.get("ReaderConfig", {}),
        parameters=_opt(reader, "Parameters"),
        arguments=_opt(reader, "Arguments"),
    )


def _batcher(batcher: _Doc | None) -> m.ItemBatcher | None:
    if batcher is None:
        return None
    return m.ItemBatcher(
        max_items_per_batch=batcher.get("MaxItemsPerBatch"),
        max_items_per_batch_path=batcher.get("MaxItemsPerBatchPath"),
        max_input_bytes_per_batch=batcher.get("MaxInputBytesPerBatch"),
        max_input_bytes_per_batch_path=batcher.get("MaxInputBytesPerBatchPath"),
        batch_input=_opt(batcher, "BatchInput"),
    )


def _writer(writer: _Doc | None) -> m.ResultWriter | None:
    if writer is None:
        return None
    return m.ResultWriter(
        resource=writer.get("Resource"),
        parameters=_opt(writer, "Parameters"),
        arguments=_opt(writer, "Arguments"),
        writer_config=_opt(writer, "WriterConfig"),
    )


def _map(c: dict[str, Any], d: _Doc, lang: m.QueryLanguage) -> m.State:
    return m.Map(
        **c,
        item_processor=_processor(d, lang),
        items_path=d.get("ItemsPath", "$"),
        items=_opt(d, "Items"),
        item_selector=_opt(d, "ItemSelector") if "ItemSelector" in d else _opt(d, "Parameters"),
        item_reader=_reader(d.get("ItemReader")),
        item_batcher=_batcher(d.get("ItemBatcher")),
        result_writer=_writer(d.get("ResultWriter")),
        max_concurrency=d.get("MaxConcurrency", 0),
        max_concurrency_path=d.get("MaxConcurrencyPath"),
        tolerated_failure_count=d.get("ToleratedFailureCount"),
        tolerated_failure_count_path=d.get("ToleratedFailureCountPath"),
        tolerated_failure_percentage=d.get("ToleratedFailurePercentage"),
        tolerated_failure_percentage_path=d.get("ToleratedFailurePercentagePath"),
        label=d.get("Label"),
        result_selector=_opt(d, "ResultSelector"),
        result_path=d.get("ResultPath", "$"),
        retry=_retriers(d),
        catch=_catchers(d),
    )


_BUILDERS: dict[str, Callable[[dict[str, Any], _Doc, m.QueryLanguage], m.State]] = {
    "Pass": _pass,
    "Task": _task,
    "Choice": _choice,
    "Wait": _wait,
    "Succeed": _succeed,
    "Fail": _fail,
    "Parallel": _parallel,
    "Map": _map,
}


def _state(name: str, doc: _Doc, machine_language: m.QueryLanguage) -> m.State:
    state = _BUILDERS[doc["Type"]](_common(name, doc, machine_language), doc, machine_language)
    return replace(state, flow=build_flow(state))
