"""Rules about one state's own fields: names, transitions, exclusive fields, the query
language of each field, Task resources, Wait, Fail, Retry and Catch, Map settings."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any, TypeGuard

from asl.diagnostics import (
    INVALID_LABEL_NAME,
    INVALID_RESOURCE,
    INVALID_STATE_NAME,
    RESERVED_ERROR_NAME,
    SCHEMA_VALIDATION_FAILED,
)
from asl.errors import ALL, is_predefined
from asl.graph import Location
from asl.validate._base import (
    JSONATA,
    JSONPATH,
    Collector,
    Report,
    StateInfo,
    absent,
    field_list,
    get,
    state_rule,
)

_SCHEMA = SCHEMA_VALIDATION_FAILED
MAX_NAME_LENGTH = 80
MAX_LABEL_LENGTH = 40


def check_name(name: str, loc: Location, collector: Collector) -> None:
    """State names are 1 to 80 characters; AWS restricts no characters in them."""
    if not isinstance(name, str):  # only a dict given directly can have such keys
        collector.add("ERROR", INVALID_STATE_NAME, "Invalid State name: not a string", loc)
    elif len(name) > MAX_NAME_LENGTH:
        message = "Invalid State name: State exceeds the 80-character limit allowed by the service"
        collector.add("ERROR", INVALID_STATE_NAME, message, loc)
    elif not name:
        collector.add("ERROR", INVALID_STATE_NAME, "Invalid State name: State name is empty", loc)


def only_one(
    doc: Mapping[str, Any], names: Sequence[str], loc: Location, report: Report, required: bool
) -> None:
    """At most one of the fields (exactly one when ``required``), in AWS's words."""
    present = [name for name in names if name in doc]
    if len(present) > 1:
        report(f"There should only be one of the following fields: {field_list(names)}", loc)
    elif required and not present:
        listed = field_list(names)
        report(f"This object should have only one of the following fields: {listed}", loc)


# --- transitions -------------------------------------------------------------------------


@state_rule(_SCHEMA, "Task", "Pass", "Wait", "Parallel", "Map")
def next_or_end(state: StateInfo, report: Report) -> None:
    """A non-terminal state has ``Next`` or ``End: true``, not both."""
    has_next = "Next" in state.doc
    has_end = state.doc.get("End") is True
    if has_next and has_end:
        report("There should only be one of the following fields: [Next, End]", state.loc)
    elif not has_next and not has_end:
        report("This object should have only one of the following fields: [Next, End]", state.loc)


# --- query language of each field ----------------------------------------------------------

#: Fields only a JSONPath state may have, in the order AWS reports them.
JSONPATH_ONLY = (
    "InputPath",
    "OutputPath",
    "ResultPath",
    "Parameters",
    "ResultSelector",
    "ItemsPath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "SecondsPath",
    "TimestampPath",
    "ErrorPath",
    "CausePath",
    "MaxConcurrencyPath",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCountPath",
)
#: Fields only a JSONata state may have.
JSONATA_ONLY = ("Output", "Arguments", "Items")
_NESTED_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # object field -> (JSONPath-only, JSONata-only) fields inside it
    "ItemReader": (("Parameters",), ("Arguments",)),
    "ResultWriter": (("Parameters",), ("Arguments",)),
    "ItemBatcher": (("MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath"), ()),
}


def wrong_language_message(language: str, field: str) -> str:
    """AWS's message for a field of the other query language."""
    other = JSONPATH if language == JSONATA else JSONATA
    return (
        f"The QueryLanguage is set to '{language}', but field '{field}' "
        f"is only supported for the '{other}' QueryLanguage"
    )


def foreign_fields(language: str) -> tuple[str, ...]:
    """The state-level fields a state of this language may not have."""
    return JSONPATH_ONLY if language == JSONATA else JSONATA_ONLY


@state_rule(_SCHEMA)
def fields_of_the_other_language(state: StateInfo, report: Report) -> None:
    """A field of the other query language is reported at the state (or the object holding it)."""
    if state.downgraded:  # AWS reports the downgrade alone
        return
    for name in foreign_fields(state.language):
        if name in state.doc:
            report(wrong_language_message(state.language, name), state.loc)
    for holder, (path_only, ata_only) in _NESTED_FIELDS.items():
        inner = state.doc.get(holder)
        if isinstance(inner, Mapping):
            for name in path_only if state.language == JSONATA else ata_only:
                if name in inner:
                    report(wrong_language_message(state.language, name), state.at(holder, name))
    for key in ("Catch",):
        catchers = state.doc.get(key)
        for i, catcher in enumerate(catchers if isinstance(catchers, list) else ()):
            name = "ResultPath" if state.language == JSONATA else "Output"
            if isinstance(catcher, Mapping) and name in catcher:
                report(wrong_language_message(state.language, name), state.at(key, i))


# --- Task ----------------------------------------------------------------------------------

_ARN = re.compile(r"arn:[^:\s]+:[^:\s]+:[^:\s]*:[^:\s]*:\S+")
_ACTIVITY = re.compile(r"arn:[^:]+:states:[^:]*:[^:]*:activity:.+")


@state_rule(INVALID_RESOURCE, "Task")
def resource_is_an_arn(state: StateInfo, report: Report) -> None:
    """A Task's Resource is an ARN."""
    resource = state.doc.get("Resource")
    if isinstance(resource, str) and not _ARN.fullmatch(resource):
        report(
            f"The resource provided {resource} is not recognized. The value is not a valid "
            "resource ARN, or the resource is not available in this region.",
            state.at("Resource"),
        )


@state_rule(_SCHEMA, "Task")
def express_integrations(state: StateInfo, report: Report) -> None:
    """Express machines have no ``.waitForTaskToken``, ``.sync`` or activity tasks."""
    resource = state.doc.get("Resource")
    if state.machine_type != "EXPRESS" or not isinstance(resource, str):
        return
    where = state.at("Resource")
    if resource.endswith(".waitForTaskToken"):
        # AWS's message ends with a space.
        report(
            "Express state machine does not support '.waitForTaskToken' service integration ", where
        )
    elif re.search(r"\.sync(:\d+)?$", resource):
        report("Express state machine does not support '.sync' service integration", where)
    elif _ACTIVITY.fullmatch(resource):
        report("Express state machine does not support Activity ARNs", where)


@state_rule(_SCHEMA, "Task")
def task_timeouts(state: StateInfo, report: Report) -> None:
    """TimeoutSeconds and HeartbeatSeconds: one form each, heartbeat below timeout."""
    doc = state.doc
    only_one(doc, ("TimeoutSeconds", "TimeoutSecondsPath"), state.loc, report, required=False)
    only_one(doc, ("HeartbeatSeconds", "HeartbeatSecondsPath"), state.loc, report, required=False)
    timeout, heartbeat = doc.get("TimeoutSeconds"), doc.get("HeartbeatSeconds")
    if isinstance(timeout, int) and isinstance(heartbeat, int) and heartbeat >= timeout:
        report("HeartbeatSeconds must be smaller than TimeoutSeconds", state.at("HeartbeatSeconds"))


# --- Wait and Fail -------------------------------------------------------------------------

_WAIT_FIELDS = ("SecondsPath", "Seconds", "TimestampPath", "Timestamp")
# RFC 3339 date-time: uppercase T and Z, or a numeric offset.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?"
    r"(Z|[+-]([01]\d|2[0-3]):[0-5]\d)",
    re.ASCII,
)


def _local_is_timestamp(text: str) -> bool:
    match = _RFC3339.fullmatch(text)
    if match is None:
        return False
    try:
        date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:  # no such day
        return False
    return True


_is_timestamp: Callable[[str], bool]
try:  # asl.timestamps is the one reading of timestamps; this module predates it
    from asl.timestamps import is_timestamp as _is_timestamp
except ImportError:  # pragma: no cover - until asl.timestamps lands
    _is_timestamp = _local_is_timestamp


def is_timestamp(text: str) -> bool:
    """Whether the text is an RFC 3339 timestamp as AWS accepts it."""
    return _is_timestamp(text)


@state_rule(_SCHEMA, "Wait")
def wait_has_one_duration(state: StateInfo, report: Report) -> None:
    """Exactly one of Seconds, SecondsPath, Timestamp, TimestampPath; timestamps are RFC 3339."""
    only_one(state.doc, _WAIT_FIELDS, state.loc, report, required=True)
    timestamp = state.doc.get("Timestamp")
    if not isinstance(timestamp, str) or _is_expression(timestamp, state):
        return
    if not is_timestamp(timestamp):
        report("String does not match RFC3339 timestamp", state.at("Timestamp"))


def _is_expression(text: str, state: StateInfo) -> bool:
    return state.language == JSONATA and text.startswith("{%") and text.endswith("%}")


@state_rule(_SCHEMA, "Fail")
def fail_error_and_cause(state: StateInfo, report: Report) -> None:
    """Error or ErrorPath, Cause or CausePath."""
    only_one(state.doc, ("Error", "ErrorPath"), state.loc, report, required=False)
    only_one(state.doc, ("Cause", "CausePath"), state.loc, report, required=False)


# --- Retry and Catch -----------------------------------------------------------------------


@state_rule(_SCHEMA, "Task", "Parallel", "Map")
def error_names(state: StateInfo, report: Report) -> None:
    """States.ALL alone and last."""
    for key, kind, i, names in _error_equals(state):
        where = (*state.at(key, i), "ErrorEquals")
        if ALL in names and len(names) > 1:
            report(f"'{ALL}' must be the only element of 'ErrorEquals'", where)
        if ALL in names and i != len(state.doc[key]) - 1:
            report(f"A {kind} with '{ALL}' must be the last one", where)


# AWS reserves the ``States.`` prefix (concepts-error-handling: custom error names may not
# start with it), yet accepts definitions that throw and catch made-up ``States.`` names:
# aws-samples/step-functions-workflows-collection quorum-with-parallel-pattern deploys one
# that fails with ``States.QuorumMet`` and catches it. So a warning, not an error.
@state_rule(RESERVED_ERROR_NAME, "Task", "Parallel", "Map", severity="WARNING")
def reserved_error_names(state: StateInfo, report: Report) -> None:
    """No made-up ``States.`` names in ErrorEquals."""
    for key, _, i, names in _error_equals(state):
        for j, name in enumerate(names):
            if _made_up(name):
                report(_reserved(name), (*state.at(key, i), "ErrorEquals", j))


@state_rule(RESERVED_ERROR_NAME, "Fail", severity="WARNING")
def reserved_fail_error(state: StateInfo, report: Report) -> None:
    """A Fail state throws no made-up ``States.`` name."""
    name = state.doc.get("Error")
    if _made_up(name):
        report(_reserved(name), state.at("Error"))


def _error_equals(state: StateInfo) -> Iterator[tuple[str, str, int, list[Any]]]:
    """(field, kind, index, names) of every Retrier's and Catcher's ErrorEquals list."""
    for key, kind in (("Retry", "Retrier"), ("Catch", "Catcher")):
        entries = state.doc.get(key)
        for i, entry in enumerate(entries if isinstance(entries, list) else ()):
            names = entry.get("ErrorEquals") if isinstance(entry, Mapping) else None
            if isinstance(names, list):
                yield key, kind, i, names


def _made_up(name: Any) -> TypeGuard[str]:
    return isinstance(name, str) and name.startswith("States.") and not is_predefined(name)


def _reserved(name: str) -> str:
    return (
        f"The error name '{name}' is not a predefined error name; "
        "names starting with 'States.' are reserved"
    )


# --- Map -----------------------------------------------------------------------------------


@state_rule(_SCHEMA, "Map")
def map_fields(state: StateInfo, report: Report) -> None:
    """One processor, one item template, one form of each threshold."""
    doc, loc = state.doc, state.loc
    only_one(doc, ("ItemProcessor", "Iterator"), loc, report, required=True)
    only_one(doc, ("ItemSelector", "Parameters"), loc, report, required=False)
    for name in ("MaxConcurrency", "ToleratedFailurePercentage", "ToleratedFailureCount"):
        only_one(doc, (name, f"{name}Path"), loc, report, required=False)
    batcher = doc.get("ItemBatcher")
    if isinstance(batcher, Mapping):
        for name in ("MaxItemsPerBatch", "MaxInputBytesPerBatch"):
            only_one(batcher, (name, f"{name}Path"), state.at("ItemBatcher"), report, False)


@state_rule(_SCHEMA, "Map")
def processor_config(state: StateInfo, report: Report) -> None:
    """DISTRIBUTED needs an ExecutionType, INLINE has none; no distributed Map in EXPRESS."""
    for key in ("ItemProcessor", "Iterator"):
        processor = state.doc.get(key)
        config = processor.get("ProcessorConfig") if isinstance(processor, Mapping) else None
        if not isinstance(config, Mapping):
            continue
        where = state.at(key, "ProcessorConfig")
        mode = config.get("Mode", "INLINE")
        if mode == "DISTRIBUTED" and "ExecutionType" not in config:
            report("These fields are required: [ExecutionType]", where)
        if mode == "INLINE" and "ExecutionType" in config:
            report("Field 'ExecutionType' is not supported", where)
        if mode == "DISTRIBUTED" and state.machine_type == "EXPRESS":
            report(
                "The field 'Mode' with value 'DISTRIBUTED' is not supported inside "
                "'EXPRESS' state machines",
                (*where, "Mode"),
            )


@state_rule(_SCHEMA, "Map")
def item_reader_and_writer(state: StateInfo, report: Report) -> None:
    """CSV reader headers, and what a ResultWriter needs."""
    reader = state.doc.get("ItemReader")
    config = reader.get("ReaderConfig") if isinstance(reader, Mapping) else None
    if isinstance(config, Mapping):
        where = state.at("ItemReader", "ReaderConfig")
        if config.get("InputType") == "CSV" and "CSVHeaderLocation" not in config:
            report("The field 'CSVHeaderLocation' is required", where)
        if config.get("InputType") == "JSON" and "CSVHeaderLocation" in config:
            report("Field 'CSVHeaderLocation' is not supported", where)
        if config.get("CSVHeaderLocation") == "GIVEN" and "CSVHeaders" not in config:
            report("These fields are required: [CSVHeaders]", where)
    writer = state.doc.get("ResultWriter")
    if isinstance(writer, Mapping):
        where = state.at("ResultWriter")
        arguments = "Arguments" if state.language == JSONATA else "Parameters"
        if "Resource" in writer and arguments not in writer:
            report(f"These fields are required: [{arguments}]", where)
        if "Resource" not in writer and "WriterConfig" not in writer:
            report("These fields are required: [Resource]", where)


_LABEL_FORBIDDEN = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")


@state_rule(INVALID_LABEL_NAME, "Map")
def label_name(state: StateInfo, report: Report) -> None:
    """A Label is at most 40 characters, none of them special."""
    label = get(state.doc, "Label")
    if absent(label) or not isinstance(label, str):
        return
    where = state.at("Label")
    if len(label) > MAX_LABEL_LENGTH:
        report(
            "Invalid Label name: Label exceeds the 40-character limit allowed by the service", where
        )
    elif not label or _LABEL_FORBIDDEN.search(label):
        report(f"Invalid Label name: '{label}' contains characters that are not allowed", where)
