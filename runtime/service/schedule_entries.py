"""The schedules of ``asl serve --schedules FILE``: EventBridge Scheduler's CreateSchedule
members, one entry per schedule, read from a JSON or YAML file.

```yaml
Schedules:
  - Name: nightly-cleanup
    ScheduleExpression: cron(0 3 * * ? *)
    ScheduleExpressionTimezone: Europe/Paris     # IANA name; UTC when absent
    StartDate: 2025-01-01T00:00:00Z              # optional, as EndDate
    State: ENABLED                               # or DISABLED
    FlexibleTimeWindow: {Mode: "OFF"}            # the only mode served
    Target:
      Arn: arn:aws:states:us-east-1:123456789012:stateMachine:cleanup
      Input: '{"time": "<aws.scheduler.scheduled-time>"}'
      RetryPolicy: {MaximumEventAgeInSeconds: 3600}
```

``Target.Arn`` is a state machine's ARN, its bare name (the server's region and
account complete it), or a definition file (a path ending ``.json``, ``.yaml`` or
``.yml``, relative to the schedules file), whose machine is named after the file as
``asl run`` names it. ``Target.Input`` is JSON text, as EventBridge Scheduler takes it;
for convenience any other JSON value is the input itself. Every error names the file
and the entry.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from asl.jsontext import JSON, json_text, parse_json
from asl.loader import file_machine_name
from asl.timestamps import parse_timestamp
from integrations.aws.shapes import instant_text
from integrations.settings_file import read_settings
from runtime.api_limits import ValidationException
from runtime.service.schedule_expressions import (
    At,
    Expression,
    Rate,
    parse_expression,
    time_zone,
)

__all__ = ["Schedule", "ScheduleFileError", "Target", "read_schedules", "schedule_from_entry"]

#: The bounds of RetryPolicy.MaximumEventAgeInSeconds (API reference, RetryPolicy); the
#: upper one is AWS's default (recorded: GetSchedule of a schedule created without a
#: RetryPolicy, localstack tests/aws/services/scheduler/test_scheduler.snapshot.json).
MAX_EVENT_AGE = (60, 86400)
_NAME = re.compile(r"[0-9a-zA-Z_.-]{1,64}", re.ASCII)  # CreateSchedule's Name and GroupName
_DEFINITION_SUFFIXES = (".json", ".yaml", ".yml")
_KEYS = {
    "Name",
    "GroupName",
    "Description",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "StartDate",
    "EndDate",
    "State",
    "FlexibleTimeWindow",
    "Target",
}
_TARGET_KEYS = {"Arn", "Input", "RetryPolicy", "RoleArn"}


class ScheduleFileError(ValueError):
    """A schedules file or entry that cannot be served; the message names both."""


@dataclass(frozen=True, slots=True)
class Target:
    """What a schedule starts: a state machine and the input text of its executions."""

    #: The state machine's ARN.
    machine_arn: str
    #: The definition file the machine is made from, when the entry named one.
    definition: Path | None
    #: JSON text with context attributes still in it; None: the input is ``{}``.
    input_text: str | None

    def input(self, schedule_arn: str, scheduled: int, execution_id: str) -> JSON:
        """The input of one invocation: the text with the context attributes
        EventBridge Scheduler fills in (User Guide, "Adding context attributes") filled
        in; raises ``ValueError`` if that is not JSON."""
        if self.input_text is None:
            return {}
        values = {
            "<aws.scheduler.schedule-arn>": schedule_arn,
            "<aws.scheduler.scheduled-time>": instant_text(datetime.fromtimestamp(scheduled, UTC)),
            "<aws.scheduler.execution-id>": execution_id,
            "<aws.scheduler.attempt-number>": "1",
        }
        text = self.input_text
        for attribute, value in values.items():
            text = text.replace(attribute, value)
        return parse_json(text)


@dataclass(frozen=True, slots=True)
class Schedule:
    """One schedule: when it fires and what it starts."""

    name: str
    group: str
    expression_text: str
    expression: Expression
    timezone: str
    start: int | None
    end: int | None
    enabled: bool
    target: Target
    #: RetryPolicy.MaximumEventAgeInSeconds: how late a missed run may still start.
    max_event_age: int

    @property
    def zone(self) -> ZoneInfo:
        """The time zone its expression is read in."""
        return time_zone(self.timezone)

    @property
    def one_time(self) -> bool:
        """An ``at()`` schedule: it fires once, ever."""
        return isinstance(self.expression, At)

    def arn(self, region: str, account: str) -> str:
        """The schedule's ARN, as EventBridge Scheduler forms it."""
        return f"arn:aws:scheduler:{region}:{account}:schedule/{self.group}/{self.name}"

    def next_after(self, moment: int, created: int) -> int | None:
        """The first fire strictly after ``moment``, or None when it fires no more. A
        rate without StartDate counts from ``created``; StartDate and EndDate bound the
        recurring kinds, never ``at()`` (AWS: "ignores StartDate for one-time schedules")."""
        expression = self.expression
        fire: int | None
        if isinstance(expression, At):
            fire = expression.instant(self.zone)
            return fire if fire is not None and fire > moment else None
        start = self.start
        if isinstance(expression, Rate):
            fire = expression.next_after(moment, created if start is None else start)
        else:
            fire = expression.next_after(
                moment if start is None else max(moment, start - 1), self.zone
            )
        # EndDate: "the date before which the schedule can invoke its target"; a fire on
        # it exactly is still allowed ("invocations might stop on, or before, the EndDate").
        if fire is None or (self.end is not None and fire > self.end):
            return None
        return fire

    def signature(self) -> str:
        """What identifies the schedule's timing and target: when it changes, the
        schedule starts afresh (as after UpdateSchedule)."""
        return json_text(
            [
                self.expression_text,
                self.timezone,
                self.start,
                self.end,
                self.enabled,
                self.target.machine_arn,
            ]
        )


def read_schedules(path: str | os.PathLike[str], *, region: str, account: str) -> list[Schedule]:
    """The schedules of a schedules file (``{"Schedules": [entry, ...]}``); raises
    :class:`ScheduleFileError` (and ``SettingsFileError`` for a file that cannot be read)."""
    file = Path(path)
    document = read_settings(file)
    if not isinstance(document, Mapping) or set(document) != {"Schedules"}:
        raise ScheduleFileError(f'{file}: expected an object with one key, "Schedules"')
    entries = document["Schedules"]
    if not isinstance(entries, list):
        raise ScheduleFileError(f'{file}: "Schedules" must be a list of schedules')
    schedules: list[Schedule] = []
    seen: set[tuple[str, str]] = set()
    for index, entry in enumerate(entries):
        label = f"schedule {index + 1}"
        if isinstance(entry, Mapping) and isinstance(entry.get("Name"), str):
            label += f" ({entry['Name']!r})"
        try:
            schedule = schedule_from_entry(
                entry, region=region, account=account, folder=file.parent
            )
        except (ScheduleFileError, ValidationException) as exc:
            raise ScheduleFileError(f"{file}: {label}: {exc}") from None
        if (schedule.group, schedule.name) in seen:
            raise ScheduleFileError(f"{file}: {label}: another schedule has that name")
        seen.add((schedule.group, schedule.name))
        schedules.append(schedule)
    return schedules


def schedule_from_entry(
    entry: Any, *, region: str, account: str, folder: Path | None = None
) -> Schedule:
    """One entry's schedule; raises ``ValidationException`` for what AWS's CreateSchedule
    refuses (an expression, in AWS's words) and :class:`ScheduleFileError` otherwise."""
    if not isinstance(entry, Mapping):
        raise ScheduleFileError("a schedule must be an object")
    _check_keys(entry, _KEYS, "")
    name = _name(entry, "Name", None)
    text = _text(entry, "ScheduleExpression", None)
    timezone = _text(entry, "ScheduleExpressionTimezone", "UTC")
    expression = parse_expression(text)
    zone = time_zone(timezone)
    if isinstance(expression, At) and expression.instant(zone) is None:
        raise ScheduleFileError(f"{text} names a time that {timezone}'s clocks skip")
    start, end = _date(entry, "StartDate"), _date(entry, "EndDate")
    if start is not None and end is not None and end <= start:
        raise ScheduleFileError("EndDate must come after StartDate")
    state = entry.get("State", "ENABLED")
    if state not in ("ENABLED", "DISABLED"):
        raise ScheduleFileError(f"State must be ENABLED or DISABLED, not {state!r}")
    _check_window(entry.get("FlexibleTimeWindow", {"Mode": "OFF"}))
    target = entry.get("Target")
    if not isinstance(target, Mapping):
        raise ScheduleFileError("Target must be an object with the state machine's Arn")
    _check_keys(target, _TARGET_KEYS, "Target.")
    return Schedule(
        name=name,
        group=_name(entry, "GroupName", "default"),
        expression_text=text,
        expression=expression,
        timezone=timezone,
        start=start,
        end=end,
        enabled=state == "ENABLED",
        target=_target(target, region, account, folder),
        max_event_age=_max_event_age(target.get("RetryPolicy", {})),
    )


def _check_keys(entry: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
    unknown = sorted(str(key) for key in entry if key not in allowed)
    if unknown:
        raise ScheduleFileError(
            f"unknown field {', '.join(prefix + key for key in unknown)} "
            f"(known: {', '.join(sorted(allowed))})"
        )


def _text(entry: Mapping[str, Any], key: str, default: str | None, prefix: str = "") -> str:
    value = entry.get(key, default)
    if not isinstance(value, str) or not value:
        raise ScheduleFileError(f"{prefix}{key} must be a non-empty string")
    return value


def _name(entry: Mapping[str, Any], key: str, default: str | None) -> str:
    value = _text(entry, key, default)
    if not _NAME.fullmatch(value):
        raise ScheduleFileError(f"{key} {value!r} must be 1 to 64 letters, digits, '.', '-' or '_'")
    return value


def _date(entry: Mapping[str, Any], key: str) -> int | None:
    """StartDate/EndDate: a timestamp with a zone, or a YAML date-time (UTC when naive)."""
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    elif isinstance(value, str) and (parsed := parse_timestamp(value)) is not None:
        moment = parsed
    else:
        raise ScheduleFileError(
            f"{key} must be a date and time with its zone, such as 2025-01-01T00:00:00Z"
        )
    return int(moment.timestamp())


def _check_window(window: Any) -> None:
    if not isinstance(window, Mapping) or window.get("Mode") != "OFF":
        raise ScheduleFileError(
            'FlexibleTimeWindow must be {"Mode": "OFF"}: schedules here fire at their '
            "time, flexible windows are not served"
        )
    _check_keys(window, {"Mode"}, "FlexibleTimeWindow.")


def _target(target: Mapping[str, Any], region: str, account: str, folder: Path | None) -> Target:
    arn = _text(target, "Arn", None, "Target.")
    definition: Path | None = None
    if arn.lower().endswith(_DEFINITION_SUFFIXES):
        definition = (folder or Path.cwd()) / arn
        if not definition.is_file():
            raise ScheduleFileError(f"Target.Arn: no definition file {definition}")
        arn = file_machine_name(definition) or ""
    if not arn.startswith("arn:"):
        if not re.fullmatch(r"[0-9A-Za-z_-]{1,80}", arn, re.ASCII):
            raise ScheduleFileError(
                "Target.Arn must be a state machine's ARN, its name or a definition file"
            )
        arn = f"arn:aws:states:{region}:{account}:stateMachine:{arn}"
    elif not re.fullmatch(
        r"arn:aws[-a-z]*:states:[-a-z0-9]+:\d{12}:stateMachine:[^:]+(:[^:]+)?", arn
    ):
        raise ScheduleFileError(f"Target.Arn {arn!r} is not a state machine ARN")
    return Target(machine_arn=arn, definition=definition, input_text=_input_text(target))


def _input_text(target: Mapping[str, Any]) -> str | None:
    if "Input" not in target:
        return None
    value = target["Input"]
    try:
        text = value if isinstance(value, str) else json_text(value)
        # Filled in with sample values, as AWS's documentation shows them.
        Target("", None, text).input("arn:aws:scheduler:::schedule/a/b", 0, "d32c5kddcf5bb8c3")
    except (TypeError, ValueError) as exc:
        raise ScheduleFileError(f"Target.Input is not JSON text: {exc}") from None
    return text


def _max_event_age(policy: Any) -> int:
    if not isinstance(policy, Mapping):
        raise ScheduleFileError("Target.RetryPolicy must be an object")
    _check_keys(policy, {"MaximumEventAgeInSeconds", "MaximumRetryAttempts"}, "Target.RetryPolicy.")
    low, high = MAX_EVENT_AGE
    age = policy.get("MaximumEventAgeInSeconds", high)
    if type(age) is not int or not low <= age <= high:
        raise ScheduleFileError(
            f"Target.RetryPolicy.MaximumEventAgeInSeconds must be an integer from {low} to {high}"
        )
    return age
