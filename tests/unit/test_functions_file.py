"""The functions file of ``asl run --functions``: loading, resolving handlers, errors."""

from __future__ import annotations

import json
import os
import re
import sys
import textwrap
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from integrations.base import TaskRequest, parse_resource
from integrations.functions_file import FunctionsFileError, load_functions_file


@pytest.fixture(autouse=True)
def _restore_sys_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))


def module_name() -> str:
    """A fresh module name: sys.modules outlives each test."""
    return f"handlers_{uuid.uuid4().hex[:12]}"


HANDLERS = """
    import json

    def greet(event, context):
        return {"hello": event["name"], "stage": context.environment.get("STAGE")}

    async def agreet(event, context):
        return "async " + event["name"]

    class Service:
        @staticmethod
        def handle(event, context):
            return "static"

    NOT_CALLABLE = 3
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def request(name: str, value: Any) -> TaskRequest:
    arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    return TaskRequest(parse_resource(arn), value, "S", "e", "m", "us-east-1", "123456789012")


async def test_json_file_with_every_handler_form(tmp_path: Path) -> None:
    mod = module_name()
    write(tmp_path, f"{mod}.py", HANDLERS)
    write(tmp_path, "lib/more.py", "def shout(event, context):\n    return event.upper()\n")
    spec = {
        "functions": {
            "greet": {
                "handler": f"{mod}:greet",
                "timeout": 10,
                "memory": 256,
                "environment": {"STAGE": "dev"},
                "reserved_concurrency": 2,
            },
            "agreet": f"{mod}:agreet",
            "lambda_style": f"{mod}.greet",
            "static": f"{mod}:Service.handle",
            "shout": "lib/more.py:shout",
        }
    }
    file = write(tmp_path, "functions.json", json.dumps(spec))
    functions = load_functions_file(file)
    greet = functions.functions["greet"]
    assert (greet.timeout, greet.memory, greet.reserved_concurrency) == (10, 256, 2)
    assert dict(greet.environment) == {"STAGE": "dev"}
    assert functions.functions["agreet"].timeout == 3
    assert await functions.invoke(request("greet", {"name": "Ann"})) == {
        "hello": "Ann",
        "stage": "dev",
    }
    assert await functions.invoke(request("lambda_style", {"name": "Bo"})) == {
        "hello": "Bo",
        "stage": None,
    }
    assert await functions.invoke(request("agreet", {"name": "Cy"})) == "async Cy"
    assert await functions.invoke(request("static", {})) == "static"
    assert await functions.invoke(request("shout", "hey")) == "HEY"


async def test_yaml_file_and_sibling_imports(tmp_path: Path) -> None:
    helper = module_name()
    write(tmp_path, "src/" + helper + ".py", "PREFIX = 'hi '\n")
    write(
        tmp_path,
        "src/app.py",
        f"from {helper} import PREFIX\n\ndef handler(event, context):\n    return PREFIX + event\n",
    )
    file = write(tmp_path, "functions.yaml", "functions:\n  app: src/app.py:handler\n")
    functions = load_functions_file(str(file))
    assert await functions.invoke(request("app", "you")) == "hi you"


def _expect(file: Path, message: str) -> None:
    with pytest.raises(FunctionsFileError, match=re.escape(message)):
        load_functions_file(file)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "cannot be read"),
        ("[]", "must be an object with a 'functions' object"),
        ('{"functions": []}', "must be an object with a 'functions' object"),
        ('{"functions": {}, "extra": 1}', "unknown top-level field(s) ['extra']"),
        ('{"functions": {"f": 3}}', "function 'f': must be a handler text or an object"),
        ('{"functions": {"f": {"timeout": 3}}}', "function 'f': needs a 'handler' text"),
        (
            '{"functions": {"f": {"handler": "m:f", "memroy": 1}}}',
            "function 'f': unknown field(s) ['memroy']",
        ),
        ('{"functions": {"f": "nohandler"}}', "handler 'nohandler': write it as 'module:function'"),
        ('{"functions": {"f": "m:"}}', "handler 'm:': write it as"),
        (
            '{"functions": {"f": "missing_module_xyz:f"}}',
            "handler 'missing_module_xyz:f': cannot import missing_module_xyz: "
            "ModuleNotFoundError: No module named 'missing_module_xyz'",
        ),
        ('{"functions": {"f": "nothere.py:f"}}', "handler 'nothere.py:f': no file "),
    ],
)
def test_file_errors_name_the_file_and_entry(tmp_path: Path, text: str, message: str) -> None:
    file = write(tmp_path, "functions.json", text)
    _expect(file, f"{file}: ")
    _expect(file, message)


def test_missing_file(tmp_path: Path) -> None:
    _expect(tmp_path / "none.yaml", "none.yaml: cannot be read")


def test_handler_errors(tmp_path: Path) -> None:
    mod = module_name()
    write(tmp_path, f"{mod}.py", HANDLERS)
    write(tmp_path, "broken.py", "raise RuntimeError('boom at import')\n")
    write(tmp_path, "exits.py", "import sys\nsys.exit(2)\n")
    write(tmp_path, "typo.py", "def f(event, context)\n    return event\n")
    cases = {
        f"{mod}:nope": f"function 'f': handler '{mod}:nope': {mod} has no 'nope'",
        f"{mod}:NOT_CALLABLE": "'NOT_CALLABLE' is not callable",
        "broken.py:f": "cannot import " + str(tmp_path / "broken.py") + ": RuntimeError: boom",
        "exits.py:f": "SystemExit: 2",
        "typo.py:f": f"SyntaxError: expected ':' ({tmp_path / 'typo.py'}, line 1, column 22)",
    }
    for handler, message in cases.items():
        file = write(tmp_path, "functions.json", json.dumps({"functions": {"f": handler}}))
        _expect(file, message)


def test_a_local_module_file_wins_over_a_module_of_the_same_name(tmp_path: Path) -> None:
    write(tmp_path, "json.py", "def loads(event, context):\n    return 'local'\n")
    file = write(tmp_path, "functions.json", '{"functions": {"f": "json:loads"}}')
    handler = load_functions_file(file).functions["f"].handler
    assert handler({}, None) == "local"


def test_two_folders_may_each_have_a_functions_module(tmp_path: Path) -> None:
    handlers = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        write(folder, "functions.py", f"def h(event, context):\n    return '{name}'\n")
        file = write(folder, "functions.json", '{"functions": {"f": "functions:h"}}')
        handlers.append(load_functions_file(file).functions["f"].handler)
    assert [h({}, None) for h in handlers] == ["a", "b"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"timeout": 1000}, "function 'f': timeout of function f must be a whole number"),
        ({"memory": 64}, "function 'f': memory of function f"),
        ({"environment": {"AWS_REGION": "x"}}, "AWS_REGION is reserved by Lambda"),
        (
            {"isolation": "loop"},
            "function 'f': isolation of function f must be 'thread', 'process' or 'inline', "
            "not 'loop'",
        ),
    ],
)
def test_bad_values(tmp_path: Path, settings: dict[str, Any], message: str) -> None:
    mod = module_name()
    write(tmp_path, f"{mod}.py", HANDLERS)
    entry = {"handler": f"{mod}:greet", **settings}
    file = write(tmp_path, "functions.json", json.dumps({"functions": {"f": entry}}))
    _expect(file, message)


def test_bad_function_name(tmp_path: Path) -> None:
    mod = module_name()
    write(tmp_path, f"{mod}.py", HANDLERS)
    file = write(tmp_path, "f.json", json.dumps({"functions": {"bad name": f"{mod}:greet"}}))
    _expect(file, "function 'bad name': 'bad name' is not a Lambda function name")


async def test_isolation_process_runs_handlers_in_worker_processes(tmp_path: Path) -> None:
    write(tmp_path, "pid.py", "import os\n\ndef handler(event, context):\n    return os.getpid()\n")
    file = write(
        tmp_path,
        "functions.json",
        '{"isolation": "process", "functions": {"a": "pid:handler", '
        '"b": {"handler": "pid:handler", "isolation": "thread"}}}',
    )
    functions = load_functions_file(file)
    try:
        pids = []
        for name in ("a", "b"):
            request = TaskRequest(
                resource=parse_resource(f"arn:aws:lambda:us-east-1:123456789012:function:{name}"),
                parameters={},
                state_name="S",
                execution_arn="arn:aws:states:us-east-1:123456789012:execution:m:e",
                state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:m",
                region="us-east-1",
                account="123456789012",
            )
            pids.append(await functions.invoke(request))
    finally:
        await functions.aclose()
    assert pids[0] != os.getpid()
    assert pids[1] == os.getpid()


async def test_isolation_inline_runs_sync_handlers_on_the_callers_thread(tmp_path: Path) -> None:
    write(
        tmp_path,
        "where.py",
        "import threading\n\ndef handler(event, context):\n"
        "    return threading.current_thread().name\n",
    )
    file = write(
        tmp_path,
        "functions.yaml",
        "isolation: inline\nfunctions:\n  a: where:handler\n"
        "  b: {handler: where:handler, isolation: thread}\n",
    )
    functions = load_functions_file(file)
    assert [f.isolation for f in functions.functions.values()] == ["inline", "thread"]
    try:
        names = [await functions.invoke(request(name, {})) for name in ("a", "b")]
    finally:
        await functions.aclose()
    assert names[0] == threading.current_thread().name
    assert names[1].startswith("lambda-")


@pytest.mark.parametrize("value", ["fork", ["inline"], 1])
def test_a_file_wide_isolation_must_be_one_of_three(tmp_path: Path, value: Any) -> None:
    file = write(tmp_path, "functions.json", json.dumps({"isolation": value, "functions": {}}))
    _expect(
        file,
        f"{file}: isolation must be 'thread', 'process' or 'inline', not {value!r}",
    )
