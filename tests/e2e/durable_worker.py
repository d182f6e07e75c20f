"""A process running a durable engine for tests/e2e/test_durable_kill.py (run as a script).

``start DB DIR``: start four executions on the real clock (one in a Wait, one waiting on a
task token, one in a retry backoff, one with its Task in flight), print ``READY`` once all
four are there, then wait to be killed. ``recover DB DIR``: recover them, answer the token
(written to DIR by the first process), and print every execution as JSON when all ended.
DIR also holds what the Tasks were asked, one line per call, so calls can be counted.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from asl.errors import StatesError
from integrations.base import FunctionIntegration, Registry, TaskRequest
from runtime.executions import Engine, Execution
from runtime.host import LocalHost

SQS = "arn:aws:states:::sqs:sendMessage"


def _task(kind: str, **fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": SQS, "Parameters": {"kind": kind}, "End": True, **fields}


MACHINES = {
    "wait": {
        "StartAt": "Nap",
        "States": {"Nap": {"Type": "Wait", "Seconds": 4, "Next": "Echo"}, "Echo": _task("echo")},
    },
    "token": {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": f"{SQS}.waitForTaskToken",
                "Parameters": {"kind": "token", "token.$": "$$.Task.Token"},
                "End": True,
            }
        },
    },
    "retry": {
        "StartAt": "Flaky",
        "States": {
            "Flaky": _task(
                "flaky", Retry=[{"ErrorEquals": ["Boom"], "IntervalSeconds": 3, "MaxAttempts": 2}]
            )
        },
    },
    "inflight": {"StartAt": "Slow", "States": {"Slow": _task("slow")}},
}


def _engine(db: str, folder: Path) -> Engine:
    async def send(request: TaskRequest) -> Any:
        kind = request.parameters["kind"]
        with (folder / f"{kind}.calls").open("a") as calls:
            calls.write(json.dumps(request.parameters) + "\n")
        count = len((folder / f"{kind}.calls").read_text().splitlines())
        if kind == "token":
            (folder / "token").write_text(request.parameters["token"])
            return {"sent": True}
        if kind == "flaky" and count == 1:
            raise StatesError("Boom", "the first call fails")
        if kind == "slow" and not (folder / "slow.fast").exists():
            await asyncio.sleep(600)
        return {"kind": kind, "call": count}

    registry = Registry()
    registry.register("sqs:", FunctionIntegration(send))
    return Engine(LocalHost(clock="real", invoker=registry), database=db)


def _there(executions: dict[str, Execution], folder: Path) -> bool:
    def last(name: str) -> str:
        return executions[name].history[-1].type

    return (
        last("wait") == "WaitStateEntered"
        and (folder / "token").exists()
        and last("retry") == "TaskFailed"
        and (folder / "slow.calls").exists()
    )


async def start(db: str, folder: Path) -> None:
    engine = _engine(db, folder)
    executions = {}
    for name, definition in MACHINES.items():
        machine = engine.create_state_machine(definition, name=name)
        executions[name] = await machine.start({"name": name}, name=name)
    while not _there(executions, folder):
        await asyncio.sleep(0.01)
    print("READY", flush=True)
    await asyncio.sleep(600)


async def recover(db: str, folder: Path) -> None:
    (folder / "slow.fast").write_text("")
    engine = _engine(db, folder)
    resumed = await engine.recover()
    host = engine.host
    assert isinstance(host, LocalHost)
    host.tokens.send_success((folder / "token").read_text(), {"approved": True})
    report = {}
    for execution in resumed:
        await execution.wait()
        report[execution.name] = {
            "status": execution.status,
            "output": execution.output,
            "fault": repr(execution.fault) if execution.fault else None,
            "events": execution.history_json()["events"],
        }
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    phase, database, directory = sys.argv[1:4]
    asyncio.run({"start": start, "recover": recover}[phase](database, Path(directory)))
