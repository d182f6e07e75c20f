"""The schedules file of ``asl serve --schedules``: what an entry may say, and errors that
name the file and the entry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from integrations.settings_file import SettingsFileError
from runtime.service.schedule_entries import ScheduleFileError, read_schedules

DEFINITION = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}


def write(tmp_path: Path, document: Any, name: str = "schedules.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def entry(**fields: Any) -> dict[str, Any]:
    return {
        "Name": "nightly",
        "ScheduleExpression": "rate(1 day)",
        "Target": {"Arn": "m"},
        **fields,
    }


def refused(tmp_path: Path, *entries: Any) -> str:
    path = write(tmp_path, {"Schedules": list(entries)})
    with pytest.raises(ScheduleFileError) as info:
        read_schedules(path, region="eu-west-1", account="111122223333")
    assert str(info.value).startswith(f"{path}: ")
    return str(info.value)


def test_a_yaml_file_with_every_field(tmp_path: Path) -> None:
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "cleanup.asl.json").write_text(json.dumps(DEFINITION))
    path = tmp_path / "schedules.yaml"
    path.write_text(
        """
Schedules:
  - Name: nightly-cleanup
    GroupName: jobs
    Description: every night at three, Paris time
    ScheduleExpression: cron(0 3 * * ? *)
    ScheduleExpressionTimezone: Europe/Paris
    StartDate: 2025-01-01T00:00:00Z
    EndDate: "2026-01-01T00:00:00+01:00"
    State: ENABLED
    FlexibleTimeWindow: {Mode: "OFF"}
    Target:
      Arn: flows/cleanup.asl.json
      RoleArn: arn:aws:iam::111122223333:role/scheduler
      Input: {"time": "<aws.scheduler.scheduled-time>", "n": "<aws.scheduler.attempt-number>"}
      RetryPolicy: {MaximumEventAgeInSeconds: 600, MaximumRetryAttempts: 3}
  - Name: by-arn
    ScheduleExpression: rate(5 minutes)
    State: DISABLED
    Target: {Arn: "arn:aws:states:eu-west-1:111122223333:stateMachine:orders"}
"""
    )
    nightly, by_arn = read_schedules(path, region="eu-west-1", account="111122223333")
    assert nightly.arn("eu-west-1", "111122223333") == (
        "arn:aws:scheduler:eu-west-1:111122223333:schedule/jobs/nightly-cleanup"
    )
    assert (nightly.start, nightly.end) == (1_735_689_600, 1_767_222_000)
    assert nightly.max_event_age == 600
    assert nightly.enabled and not by_arn.enabled
    target = nightly.target
    assert target.machine_arn == "arn:aws:states:eu-west-1:111122223333:stateMachine:cleanup"
    assert target.definition == tmp_path / "flows" / "cleanup.asl.json"
    assert target.input("arn", 1_735_700_400, "id") == {"time": "2025-01-01T03:00:00Z", "n": "1"}
    assert by_arn.target.machine_arn.endswith(":stateMachine:orders")
    assert by_arn.target.definition is None
    assert by_arn.target.input("arn", 0, "id") == {}


def test_a_name_is_completed_to_an_arn_and_input_text_is_kept_as_text(tmp_path: Path) -> None:
    text = '{"arn": "<aws.scheduler.schedule-arn>", "id": "<aws.scheduler.execution-id>"}'
    path = write(tmp_path, {"Schedules": [entry(Target={"Arn": "orders", "Input": text})]})
    (schedule,) = read_schedules(path, region="eu-west-1", account="111122223333")
    assert (
        schedule.target.machine_arn == "arn:aws:states:eu-west-1:111122223333:stateMachine:orders"
    )
    assert schedule.target.input_text == text
    assert schedule.target.input("arn:x", 0, "d32c5kddcf5bb8c3") == {
        "arn": "arn:x",
        "id": "d32c5kddcf5bb8c3",
    }


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], 'expected an object with one key, "Schedules"'),
        ({"Schedules": {}}, '"Schedules" must be a list of schedules'),
        ({"Schedules": [], "Extra": 1}, 'expected an object with one key, "Schedules"'),
    ],
)
def test_the_shape_of_the_file(tmp_path: Path, document: Any, message: str) -> None:
    path = write(tmp_path, document)
    with pytest.raises(ScheduleFileError, match=f"^{path}: {message}$"):
        read_schedules(path, region="us-east-1", account="123456789012")


def test_a_file_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(SettingsFileError, match=r"missing\.json: cannot be read"):
        read_schedules(tmp_path / "missing.json", region="us-east-1", account="123456789012")
    path = tmp_path / "broken.yaml"
    path.write_text("Schedules: [")
    with pytest.raises(SettingsFileError, match=r"broken\.yaml: cannot be read"):
        read_schedules(path, region="us-east-1", account="123456789012")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"ScheduleExpression": "cron(0 1 * * * *)"},
            "ValidationException: Invalid Schedule Expression cron(0 1 * * * *).",
        ),
        (
            {"ScheduleExpressionTimezone": "Mars/Olympus"},
            "ValidationException: Invalid ScheduleExpressionTimezone Mars/Olympus.",
        ),
        (
            {
                "ScheduleExpression": "at(2025-03-09T02:30:00)",
                "ScheduleExpressionTimezone": "America/New_York",
            },
            "at(2025-03-09T02:30:00) names a time that America/New_York's clocks skip",
        ),
        ({"ScheduleExpression": ""}, "ScheduleExpression must be a non-empty string"),
        ({"Name": "night ly"}, "Name 'night ly' must be 1 to 64 letters, digits, '.', '-' or '_'"),
        ({"Name": "n" * 65}, "must be 1 to 64 letters"),
        ({"Scheduel": "typo"}, "unknown field Scheduel (known: Description, EndDate,"),
        ({"State": "PAUSED"}, "State must be ENABLED or DISABLED, not 'PAUSED'"),
        (
            {"FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}},
            'FlexibleTimeWindow must be {"Mode": "OFF"}: schedules here fire at their time, '
            "flexible windows are not served",
        ),
        ({"StartDate": "2025-01-01"}, "StartDate must be a date and time with its zone"),
        ({"EndDate": "tomorrow"}, "EndDate must be a date and time with its zone"),
        (
            {"StartDate": "2025-02-01T00:00:00Z", "EndDate": "2025-01-01T00:00:00Z"},
            "EndDate must come after StartDate",
        ),
        ({"Target": "m"}, "Target must be an object with the state machine's Arn"),
        ({"Target": {}}, "Target.Arn must be a non-empty string"),
        ({"Target": {"Arn": "m", "Inputs": "{}"}}, "unknown field Target.Inputs"),
        (
            {"Target": {"Arn": "no such machine"}},
            "must be a state machine's ARN, its name or a definition file",
        ),
        (
            {"Target": {"Arn": "arn:aws:lambda:us-east-1:123456789012:function:f"}},
            "Target.Arn 'arn:aws:lambda:us-east-1:123456789012:function:f' is not a state "
            "machine ARN",
        ),
        ({"Target": {"Arn": "missing.asl.json"}}, "Target.Arn: no definition file"),
        ({"Target": {"Arn": "m", "Input": "{not json"}}, "Target.Input is not JSON text"),
        (
            {"Target": {"Arn": "m", "Input": '{"t": <aws.scheduler.scheduled-time>}'}},
            "Target.Input is not JSON text",
        ),
        (
            {"Target": {"Arn": "m", "RetryPolicy": {"MaximumEventAgeInSeconds": 59}}},
            "MaximumEventAgeInSeconds must be an integer from 60 to 86400",
        ),
    ],
)
def test_an_entry_error_names_the_file_and_the_entry(
    tmp_path: Path, fields: dict[str, Any], message: str
) -> None:
    text = refused(tmp_path, entry(), entry(**{"Name": "second", **fields}))
    assert "schedule 2" in text
    assert message in text


def test_an_entry_is_named_by_its_place_and_its_name(tmp_path: Path) -> None:
    text = refused(tmp_path, entry(State="OFF"))
    assert ": schedule 1 ('nightly'): State must be" in text
    assert refused(tmp_path, "rate(1 day)").endswith(": schedule 1: a schedule must be an object")


def test_two_schedules_of_one_name_in_one_group(tmp_path: Path) -> None:
    text = refused(tmp_path, entry(), entry())
    assert text.endswith("schedule 2 ('nightly'): another schedule has that name")
    path = write(tmp_path, {"Schedules": [entry(), entry(GroupName="other")]})
    assert len(read_schedules(path, region="us-east-1", account="123456789012")) == 2
