"""Every shell and Python block of README.md and the examples' READMEs runs as written, in a
copy of the repository after ``make demo``, as a new user would paste it, and prints what
the text says it prints.

A block may show several terminals, each begun by a ``# in another terminal`` comment. In
every terminal but the last, the commands run in turn and the last of them is left
running: a server (``asl serve``, Temporal's dev server, ``asl worker``) until it prints
the line saying it is ready, or an ``asl run`` until ``asl tasks`` lists the token it
waits for (``TOKEN`` in later commands is replaced by it). Then the last terminal's
commands run; when that comment also says ``the Python below``, the last terminal is the
next block, a Python one, run there rather than on its own. Then the servers are stopped
as a user stops them (Ctrl+C, SIGINT), the last started first, and each must exit 0; a
waiting run must end by itself and succeed. One block with servers runs at a time on this
machine, since each serves on its documented port. A command may say how it ends with a
trailing ``# exits N`` comment; every other command must exit 0. No command, server or
Python block may print a traceback. Every file a command names after ``-o``, ``--trace``,
``--history``, ``--map-runs``, ``--junit-xml`` or ``--asl-cov-report`` must be what the
option says (:mod:`tests.e2e.documented_files`).

What a block prints is read from the documents too: a Python ``print(...)  # TEXT`` line
must print TEXT, and the sentence after a block that says "It prints `TEXT`" (and "the
event types from `A` to `B`") must hold of its output. A Python block that defines
``test_`` functions is a test module: it is run with pytest, and its tests must pass.
The YAML schedules file of the README is served by ``asl serve --schedules``' own code,
with the definition its target names beside it.

Commands shown inline in the text (in backquotes, beginning ``.venv/bin/``, ``make``,
``/usr/bin/`` or ``asl`` with arguments) are each either run here or listed in
``INLINE_NOT_RUN`` with why: ``make demo`` makes the workspace; ``/usr/bin/time ...``
runs as pasted; ``asl tasks reject TOKEN ...`` answers a second waiting run of the block
before it (shown bare, it runs as ``.venv/bin/asl``); the two ``--map-runs`` commands run
with ``...`` and ``DEFINITION`` standing for a machine with a Distributed Map (no example
has one). Not run: the test suites (``make test``, ``.venv/bin/pytest -n 0 -x
tests/unit``, ``.venv/bin/pytest examples``: minutes each; the coverage block runs the
examples' tests), the benchmarks (``tests/e2e/test_bench_commands.py`` runs them short),
``make bench-peers`` (Node.js and npm packages), and forms with placeholders the text
does not fill.
"""

from __future__ import annotations

import ast
import fcntl
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import boto3
import pytest
import yaml
from botocore.config import Config

from runtime.service import ServiceSettings, serve_in_thread
from tests.e2e.documented_files import OPTIONS, check_written

# One workspace (`make demo` in a copy) for the module: its tests run on one xdist worker.
pytestmark = pytest.mark.xdist_group("documented")

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted(ROOT.glob("examples/*/README.md"))]
BOUND = 300.0  # seconds: every command here ends well before
#: Commands shown but not run here, and why.
NOT_RUN = {
    "make test": "it runs the suite this test is part of",
    "make demo": "the workspace fixture ran it in this folder (and checked it)",
}
#: Commands shown inline in the text that are not run here, by how they begin, and why.
INLINE_NOT_RUN = {
    "make test": "it runs the suite this test is part of",
    ".venv/bin/pytest -n 0 -x tests/unit": "the unit suite, minutes in one process",
    ".venv/bin/pytest examples": "every example on both backends, minutes (the coverage "
    "block runs the same tests)",
    ".venv/bin/python bench/": "a benchmark: tests/e2e/test_bench_commands.py runs them short",
    "make bench-peers": "needs Node.js and the peers' npm packages",
    ".venv/bin/temporal worker deployment set-current-version": "needs a dev server with "
    "a current worker deployment version (the versioning block's)",
    # forms with placeholders, each run by a block that fills them
    "asl serve --backend temporal": "a form (HOST:PORT); the blocks of its section run it",
    "asl serve --schedules FILE": "a form; the scheduled_cleanup example's block runs it",
    "asl worker --build-id ID": "a form; the versioning block runs it",
    "asl tasks approve TOKEN": "a form; the approval blocks run it with the waiting token",
}
#: Inline commands run as pasted.
INLINE_AS_PASTED = ("/usr/bin/time ",)
#: Inline commands run here in a setting of their own (see the tests named after them).
INLINE_RUN = ("make demo", "asl tasks reject TOKEN ", "asl run ... ", "asl render DEFINITION ")

_FENCE = re.compile(r"^( *)```(sh|python|yaml)\n(.*?)^\1```", re.MULTILINE | re.DOTALL)
_ANY_FENCE = re.compile(r"^( *)```.*?^\1```", re.MULTILINE | re.DOTALL)
_EXITS = re.compile(r"#\s*exits (\d+)")
_WRITES = re.compile(rf"(?:^|\s)({'|'.join(map(re.escape, OPTIONS))})\s+(\S+)")
_TERMINAL = re.compile(r"#.*\banother terminal\b")
_PYTHON_BELOW = re.compile(r"\bthe Python below\b")
_PRINTED_COMMENT = re.compile(r"^\s*print\(.*\)\s*#\s*(.+?)\s*$", re.MULTILINE)
_IT_PRINTS = re.compile(r"\bIt prints (.*?)\.(?:\s|$)", re.DOTALL)
_EVENT_TYPES = re.compile(r"\bfrom `(\w+)` to `(\w+)`")
_INLINE = re.compile(r"(?<!`)`([^`]+)`(?!`)")
_COMMAND_START = re.compile(r"(\.venv/bin/|make |/usr/bin/)")
_TEST_FUNCTION = re.compile(r"^def (test_\w+)\(", re.MULTILINE)
_PASSED = re.compile(r"\b(\d+) passed\b")
#: Commands left running in a terminal, and the line each prints once it is ready.
_SERVERS = {
    re.compile(r"\basl serve\b"): "Step Functions API on",
    re.compile(r"\btemporal server start-dev\b"): "Temporal Server:",
    re.compile(r"\basl worker\b"): "serving task queue",
}


@dataclass(frozen=True)
class Block:
    """One fenced block of a document."""

    document: Path
    line: int
    language: str
    text: str
    #: The Python block that is this block's last terminal (``the Python below``).
    then: str | None = None
    #: The text after the block, up to the next block or heading: what it says it prints.
    after: str = ""

    def __str__(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line}"


def _blocks() -> list[Block]:
    found: list[Block] = []
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            indent = len(match.group(1))
            body = "".join(line[indent:] for line in match.group(3).splitlines(keepends=True))
            line = text.count("\n", 0, match.start()) + 1
            after = re.split(r"^ *```|^#", text[match.end() :], maxsplit=1, flags=re.MULTILINE)[0]
            block = Block(document, line, match.group(2), body, after=after)
            if block.language == "python" and found and _continued(found[-1], document):
                found[-1] = replace(found[-1], then=body, after=after)
            else:
                found.append(block)
    return found


def _continued(block: Block, document: Path) -> bool:
    """Whether ``block`` ends in a terminal that the next (Python) block is."""
    last = _commands(block.text)[-1]
    return (
        block.language == "sh"
        and block.document == document
        and bool(_TERMINAL.search(last) and _PYTHON_BELOW.search(last))
    )


def _commands(text: str) -> list[str]:
    """Logical lines (continuations joined), blank lines dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [line.strip() for line in joined.splitlines() if line.strip()]


def _inline_commands() -> list[tuple[Path, str]]:
    """The commands shown in backquotes in the documents' text (outside blocks): those
    beginning as a pasted command does, and ``asl`` with three or more arguments (a mere
    ``asl serve`` or ``asl run --trace`` names a command or an option)."""
    found: list[tuple[Path, str]] = []
    for document in DOCUMENTS:
        prose = _ANY_FENCE.sub("", document.read_text(encoding="utf-8"))
        for match in _INLINE.finditer(prose):
            span = " ".join(match.group(1).split())
            words = span.split()
            if _COMMAND_START.match(span) or (
                words[0] == "asl" and len(words) >= 4 and not words[1].endswith(":")
            ):
                found.append((document, span))
    return found


def _inline_starting(*starts: str) -> list[str]:
    """The distinct inline commands beginning with one of ``starts``."""
    return list(dict.fromkeys(c for _, c in _inline_commands() if c.startswith(starts)))


def _expectations(block: Block) -> tuple[list[str], list[tuple[str, str]]]:
    """What the block's output must hold: texts, and (first, last) of a printed list of
    event types."""
    python = block.then if block.then is not None else block.text
    texts = _PRINTED_COMMENT.findall(python) if block.language == "python" or block.then else []
    lists: list[tuple[str, str]] = []
    for sentence in _IT_PRINTS.findall(block.after):
        texts.append(re.findall(r"`([^`]+)`", sentence)[0])
        lists.extend(_EVENT_TYPES.findall(sentence))
    return texts, lists


def _check_printed(block: Block, output: str) -> None:
    texts, lists = _expectations(block)
    for text in texts:
        assert text in output, f"{block} should print {text!r}; it printed:\n{output}"
    printed = _printed_lists(output)
    for first, last in lists:
        assert any(p and (p[0], p[-1]) == (first, last) for p in printed), (
            f"{block} should print the event types from {first} to {last}; it printed:\n{output}"
        )


def _printed_lists(output: str) -> list[list[object]]:
    """The lines of ``output`` that are a printed Python list."""
    found: list[list[object]] = []
    for line in output.splitlines():
        try:
            value = ast.literal_eval(line)
        except (ValueError, SyntaxError):
            continue
        if isinstance(value, list):
            found.append(value)
    return found


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's files (as a clone would have them) with the project's virtualenv,
    after ``make demo``; the copy's own code is what runs (``PYTHONPATH``)."""
    copy = tmp_path_factory.mktemp("clone")
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)  # mtimes kept: make sees the venv up to date
    (copy / ".venv").symlink_to(ROOT / ".venv")
    # make must not reinstall into the shared virtualenv from the copy
    fresh = _shell("make --question .venv/.installed", copy)
    assert fresh.returncode == 0, "the virtualenv is older than pyproject.toml: run make test"
    demo = _shell("make demo", copy)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    _assert_no_traceback("make demo", demo.stderr)
    return copy


def _env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASL_", "PYTEST"))}
    env["PYTHONPATH"] = str(folder)
    return env


def _shell(command: str, folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command], cwd=folder, env=_env(folder),
        capture_output=True, text=True, timeout=BOUND,
    )  # fmt: skip


def _assert_no_traceback(command: str, output: str) -> None:
    assert "Traceback (most recent call last)" not in output, f"{command}\n{output}"


def _check_files(command: str, folder: Path) -> None:
    """Every file the command names after an option of :data:`OPTIONS` is what it says."""
    for option, path in _WRITES.findall(command.split("#")[0]):
        check_written(option, folder / shlex.split(path)[0])


def _run(command: str, folder: Path) -> str:
    """Run one command of a block; its standard output."""
    for shown, why in NOT_RUN.items():
        if command.split("#")[0].strip() == shown:
            print(f"not run here: {shown} ({why})")
            return ""
    assert not command.split("#")[0].rstrip().endswith("&"), f"cannot run {command!r} here"
    exits = _EXITS.search(command)
    result = _shell(command, folder)
    expected = int(exits.group(1)) if exits else 0
    assert result.returncode == expected, (
        f"{command}\nexit {result.returncode}\n{result.stdout}\n{result.stderr}"
    )
    _assert_no_traceback(command, result.stdout + result.stderr)
    if expected == 0:
        _check_files(command, folder)
    return result.stdout


def _waiting_token(folder: Path, waiting: _Terminal) -> str:
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        listed = _shell(".venv/bin/asl tasks --format json", folder)
        assert listed.returncode == 0, listed.stderr
        tasks = json.loads(listed.stdout)
        if tasks:
            return str(tasks[0]["taskToken"])
        assert waiting.process.poll() is None, waiting.output()
        time.sleep(0.2)
    raise AssertionError("asl tasks never listed a waiting token")


@contextmanager
def _port_lock() -> Iterator[None]:
    """Held while a documented server runs: two runs of this suite at once would meet on
    its port."""
    with open(Path(tempfile.gettempdir()) / "asl-documented-serve.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


class _Terminal:
    """A command left running, its output read as it comes (so it never blocks on a full
    pipe) and kept for the failure message."""

    def __init__(self, command: str, folder: Path) -> None:
        self.command = command
        self.process = subprocess.Popen(
            ["bash", "-c", command], cwd=folder, env=_env(folder), start_new_session=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def output(self) -> str:
        return f"{self.command}\nexit {self.process.poll()}\n{''.join(self.lines)}"

    def wait_for(self, ready: str) -> None:
        """Until it prints a line holding ``ready``."""
        deadline = time.monotonic() + BOUND
        while not any(ready in line for line in self.lines):
            assert self.process.poll() is None or self._reader.is_alive(), self.output()
            assert time.monotonic() < deadline, f"never ready\n{self.output()}"
            time.sleep(0.1)

    def interrupt(self) -> int:
        """Ctrl+C, as a user stops it; its exit status."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=BOUND)

    def finish(self, status: int, folder: Path) -> None:
        """Wait for it to end by itself with ``status``, printing no traceback, having
        written what it was told to (when it succeeded)."""
        assert self.process.wait(timeout=BOUND) == status, self.output()
        self._reader.join(timeout=BOUND)
        _assert_no_traceback(self.command, self.output())
        if status == 0:
            _check_files(self.command, folder)

    def end(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._reader.join(timeout=BOUND)


def _ready_line(command: str) -> str | None:
    return next((line for found, line in _SERVERS.items() if found.search(command)), None)


def _terminals(text: str) -> list[list[str]]:
    """A shell block's commands, by terminal."""
    terminals: list[list[str]] = [[]]
    for command in _commands(text):
        if _TERMINAL.search(command):
            terminals.append([])
        elif not command.startswith("#"):
            terminals[-1].append(command)
    return terminals


def _run_terminals(
    terminals: list[list[str]], python: str | None, folder: Path, *, waiting_exit: int = 0
) -> tuple[str, str]:
    """Run the terminals of a block (see the module's docstring); what the last terminal
    printed, and what the waiting runs did (they must end with ``waiting_exit``)."""
    servers: list[_Terminal] = []
    waiting: list[_Terminal] = []
    token: str | None = None
    printed: list[str] = []

    def substituted(command: str) -> str:
        return command if token is None else command.replace("TOKEN", token)

    with ExitStack() as stack:
        if any(_ready_line(commands[-1]) for commands in terminals[:-1]):
            stack.enter_context(_port_lock())
        for commands in terminals[:-1]:
            for command in commands[:-1]:
                _run(substituted(command), folder)
            terminal = _Terminal(substituted(commands[-1]), folder)
            stack.callback(terminal.end)
            ready = _ready_line(commands[-1])
            if ready is None:
                token = _waiting_token(folder, terminal)
                waiting.append(terminal)
            else:
                terminal.wait_for(ready)
                servers.append(terminal)
        for command in terminals[-1]:
            printed.append(_run(substituted(command), folder))
        if python is not None:
            printed.append(_run_python(python, folder))
        for terminal in reversed(servers):
            assert terminal.interrupt() == 0, terminal.output()
            _assert_no_traceback(terminal.command, terminal.output())
        for terminal in waiting:
            terminal.finish(waiting_exit, folder)
    return "".join(printed), "".join(terminal.output() for terminal in waiting)


def _run_python(text: str, folder: Path) -> str:
    """Run a Python block; its standard output."""
    result = subprocess.run(
        [str(folder / ".venv/bin/python"), "-c", text], cwd=folder,
        env=_env(folder), capture_output=True, text=True, timeout=BOUND,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    _assert_no_traceback("python", result.stderr)
    return result.stdout


def _run_test_module(block: Block, folder: Path) -> str:
    """A block of test functions, saved as a test module in the workspace's root (its
    paths are from there) and run with pytest; every test must pass."""
    module = folder / f"test_readme_line_{block.line}.py"
    module.write_text(block.text, encoding="utf-8")
    # -n 0: a few tests are quicker without xdist's workers
    result = _shell(f".venv/bin/pytest -n 0 -p no:cacheprovider {module.name}", folder)
    tests = _TEST_FUNCTION.findall(block.text)
    report = f"{block}\n{result.stdout}\n{result.stderr}"
    assert result.returncode == 0, report
    passed = _PASSED.search(result.stdout)
    assert passed is not None and int(passed.group(1)) == len(tests) > 0, report
    return result.stdout


_ALL_BLOCKS = _blocks()
BLOCKS = [block for block in _ALL_BLOCKS if block.language != "yaml"]
#: The schedules files shown (YAML blocks of CreateSchedule's members).
SCHEDULES = [b for b in _ALL_BLOCKS if b.language == "yaml" and "Schedules:" in b.text]


def test_the_documents_have_blocks_to_run() -> None:
    assert sum(block.document == ROOT / "README.md" for block in BLOCKS) >= 5
    documents = {block.document for block in BLOCKS}
    assert documents == set(DOCUMENTS), "every example README shows how to run it"
    # what the README says is printed is found, so these checks cannot lapse in silence
    expected = [_expectations(block) for block in BLOCKS]
    assert sum(len(texts) for texts, _ in expected) >= 3
    assert sum(len(lists) for _, lists in expected) >= 2
    assert any(_TEST_FUNCTION.search(block.text) for block in BLOCKS)
    assert SCHEDULES, "the README's schedules file is gone: update this test"


@pytest.mark.parametrize("block", BLOCKS, ids=str)
def test_the_block_runs_as_written(block: Block, workspace: Path) -> None:
    if block.language == "python" and _TEST_FUNCTION.search(block.text):
        output = _run_test_module(block, workspace)
    elif block.language == "python":
        output = _run_python(block.text, workspace)
    else:
        terminals = _terminals(block.text)
        if len(terminals) == 1:
            output = "".join(_run(command, workspace) for command in terminals[0])
        else:
            output, _ = _run_terminals(terminals, block.then, workspace)
    _check_printed(block, output)


def test_every_inline_command_is_run_or_excused() -> None:
    commands = _inline_commands()
    assert len(commands) >= 5
    known = (*INLINE_NOT_RUN, *INLINE_AS_PASTED, *INLINE_RUN)
    unknown = [f"{d.relative_to(ROOT)}: {c}" for d, c in commands if not c.startswith(known)]
    assert not unknown, f"run these here, or say in INLINE_NOT_RUN why not: {unknown}"


@pytest.mark.parametrize("command", _inline_starting(*INLINE_AS_PASTED))
def test_the_inline_command_runs_as_pasted(command: str, workspace: Path) -> None:
    _run(command, workspace)


@pytest.mark.parametrize("command", _inline_starting("asl tasks reject TOKEN "))
def test_the_inline_reject_answers_no(command: str, workspace: Path) -> None:
    """A second run of the block before the command, answered by it (as ``.venv/bin/asl``,
    the blocks' spelling): the run ends FAILED (exit 1) with the error given."""
    document = next(d for d, c in _inline_commands() if c == command)
    text = document.read_text(encoding="utf-8")
    shown = re.search(r"\s+".join(map(re.escape, command.split())), text)
    assert shown is not None
    line = text.count("\n", 0, shown.start()) + 1
    block = max(
        (b for b in BLOCKS if b.document == document and b.line < line and "TOKEN" in b.text),
        key=lambda b: b.line,
    )
    terminals = _terminals(block.text)
    _, waited = _run_terminals(
        [*terminals[:-1], [f".venv/bin/{command}"]], None, workspace, waiting_exit=1
    )
    words = shlex.split(command)
    assert words[words.index("--error") + 1] in waited, waited


#: A machine with a Distributed Map, for the ``--map-runs`` commands' ``...`` and
#: ``DEFINITION`` (no example has one).
DISTRIBUTED = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Double",
                "States": {"Double": {"Type": "Pass", "End": True}},
            },
            "End": True,
        }
    },
}


def test_the_map_runs_commands_write_and_draw_the_children(workspace: Path) -> None:
    """``asl run ... --history H.json --map-runs M.json`` writes the children's histories,
    and ``asl render DEFINITION --history H.json --map-runs M.json -o trace.svg`` draws
    them (each file checked for what it is)."""
    (workspace / "distributed.asl.json").write_text(json.dumps(DISTRIBUTED), encoding="utf-8")
    [run] = _inline_starting("asl run ... ")
    [render] = _inline_starting("asl render DEFINITION ")
    assert "--map-runs" in run and "--map-runs" in render
    _run(".venv/bin/" + run.replace("...", "distributed.asl.json --input '[1, 2, 3]'"), workspace)
    _run(".venv/bin/" + render.replace("DEFINITION", "distributed.asl.json"), workspace)


def test_the_schedules_file_is_served(tmp_path: Path) -> None:
    """The README's schedules file, its target definition (the cleanup example's) beside
    it, read and served by ``asl serve --schedules``' code: the definition-file target
    becomes a state machine named after the file."""
    [block] = SCHEDULES
    schedules = tmp_path / "schedules.yaml"
    schedules.write_text(block.text, encoding="utf-8")
    [entry] = yaml.safe_load(block.text)["Schedules"]
    target = tmp_path / entry["Target"]["Arn"]
    shutil.copy(ROOT / "examples/scheduled_cleanup/scheduled_cleanup.asl.json", target)
    with serve_in_thread(ServiceSettings(schedules=schedules)) as server:
        sfn = boto3.client(
            "stepfunctions", endpoint_url=server.url, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
            config=Config(inject_host_prefix=False),
        )  # fmt: skip
        names = [m["name"] for m in sfn.list_state_machines()["stateMachines"]]
    assert names == [target.name.split(".")[0]]
