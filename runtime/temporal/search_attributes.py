"""The search attributes the Temporal backend keeps on its workflows, by which Temporal's
visibility finds them: an execution's state machine and what it was started from (for
ListExecutions, whichever server started it), and its untaken activity tasks (for
GetActivityTask: :mod:`runtime.temporal.activity_tasks`).

They must exist on the namespace: the dev server registers them
(:mod:`runtime.temporal.dev_server`), and so do ``asl worker`` and ``asl serve --backend
temporal`` where they are missing (:func:`register_search_attributes`); a server that
refuses (no operator rights) needs ``temporal operator search-attribute create`` for each
(:func:`create_commands`).
"""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey

__all__ = [
    "PENDING_ACTIVITIES",
    "STARTED_FROM",
    "STATE_MACHINE",
    "create_commands",
    "dev_server_options",
    "quoted",
    "register_search_attributes",
]

#: The activity ARNs an execution has tasks of that no worker has taken yet.
PENDING_ACTIVITIES = SearchAttributeKey.for_keyword_list("AslPendingActivities")
#: The ARN of an execution's state machine (unqualified).
STATE_MACHINE = SearchAttributeKey.for_keyword("AslStateMachineArn")
#: The version and alias ARNs an execution was started from, if any.
STARTED_FROM = SearchAttributeKey.for_keyword_list("AslStartedFrom")

_KEYWORD_LIST = IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST
_TYPES = {
    PENDING_ACTIVITIES.name: _KEYWORD_LIST,
    STATE_MACHINE.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    STARTED_FROM.name: _KEYWORD_LIST,
}


def _type_name(kind: IndexedValueType.ValueType) -> str:
    return "KeywordList" if kind == _KEYWORD_LIST else "Keyword"


def dev_server_options() -> list[str]:
    """``temporal server start-dev``'s options that register every attribute."""
    options: list[str] = []
    for name, kind in _TYPES.items():
        options += ["--search-attribute", f"{name}={_type_name(kind)}"]
    return options


def create_commands() -> list[str]:
    """The ``temporal`` commands that register every attribute on a namespace."""
    return [
        f"temporal operator search-attribute create --name {name} --type {_type_name(kind)}"
        for name, kind in _TYPES.items()
    ]


async def register_search_attributes(client: Client) -> list[str]:
    """Register on the client's namespace the attributes missing there; their names.
    ``RPCError`` when the server refuses (no operator rights)."""
    namespace = client.namespace
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    missing = {name: kind for name, kind in _TYPES.items() if name not in listed.custom_attributes}
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    return list(missing)


def quoted(text: str) -> str:
    """A string literal of Temporal's visibility query language."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
