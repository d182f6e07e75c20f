"""Another build of the engine, for the versioning test: its interpreter answers a Lambda
Task inside the workflow instead of scheduling an activity, so it makes other commands
than this build and cannot replay an execution this build began. Run as a script, it is
that build's ``asl`` command."""

from __future__ import annotations

from typing import Any

from integrations.base import TaskRequest
from runtime.temporal.host import WorkflowHost

#: What its Lambda Tasks return, whatever their input.
ANSWER = {"build": "B"}


async def invoke_inline(self: WorkflowHost, request: TaskRequest) -> Any:
    """A Task's result made in the workflow, as ``lambda:invoke`` would return it."""
    return {"Payload": ANSWER}


if __name__ == "__main__":
    WorkflowHost.invoke = invoke_inline  # type: ignore[method-assign]
    from runtime.cli.app import main

    main()
