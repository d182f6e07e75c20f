"""Every shell and Python block of README.md and the examples' READMEs runs as written, in a
copy of the repository after ``make demo``, as a new user would paste it.

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
trailing ``# exits N`` comment; every other command must exit 0, and every file it is told
to write (``-o FILE``, ``--trace FILE``) must exist afterwards.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
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

import pytest

# One workspace (`make demo` in a copy) for the module: its tests run on one xdist worker.
pytestmark = pytest.mark.xdist_group("documented")

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted(ROOT.glob("examples/*/README.md"))]
BOUND = 300.0  # seconds: every command here ends well before
#: Commands shown but not run here, and why.
NOT_RUN = {"make test": "it runs the suite this test is part of"}

_FENCE = re.compile(r"^( *)```(sh|python)\n(.*?)^\1```", re.MULTILINE | re.DOTALL)
_EXITS = re.compile(r"#\s*exits (\d+)")
_WRITES = re.compile(r"(?:^|\s)(?:-o|--trace)\s+(\S+)")
_TERMINAL = re.compile(r"#.*\banother terminal\b")
_PYTHON_BELOW = re.compile(r"\bthe Python below\b")
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
            block = Block(document, line, match.group(2), body)
            if block.language == "python" and found and _continued(found[-1], document):
                found[-1] = replace(found[-1], then=body)
            else:
                found.append(block)
    return found


def _continued(block: Block, document: Path) -> bool:
    """Whether ``block`` ends in a terminal that the next (Python) block is."""
    last = _commands(block.text)[-1]
    return block.document == document and bool(
        _TERMINAL.search(last) and _PYTHON_BELOW.search(last)
    )


def _commands(text: str) -> list[str]:
    """Logical lines (continuations joined), blank lines dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [line.strip() for line in joined.splitlines() if line.strip()]


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


def _run(command: str, folder: Path) -> None:
    for shown, why in NOT_RUN.items():
        if command.split("#")[0].strip() == shown:
            print(f"not run here: {shown} ({why})")
            return
    assert not command.split("#")[0].rstrip().endswith("&"), f"cannot run {command!r} here"
    exits = _EXITS.search(command)
    result = _shell(command, folder)
    expected = int(exits.group(1)) if exits else 0
    assert result.returncode == expected, (
        f"{command}\nexit {result.returncode}\n{result.stdout}\n{result.stderr}"
    )
    for written in _WRITES.findall(command.split("#")[0]):
        assert (folder / written).is_file(), f"{command} did not write {written}"


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

    def end(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._reader.join(timeout=BOUND)


def _ready_line(command: str) -> str | None:
    return next((line for found, line in _SERVERS.items() if found.search(command)), None)


def _run_terminals(terminals: list[list[str]], python: str | None, folder: Path) -> None:
    servers: list[_Terminal] = []
    waiting: list[_Terminal] = []
    token: str | None = None

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
            _run(substituted(command), folder)
        if python is not None:
            _run_python(python, folder)
        for terminal in reversed(servers):
            assert terminal.interrupt() == 0, terminal.output()
        for terminal in waiting:
            assert terminal.process.wait(timeout=BOUND) == 0, terminal.output()
            for written in _WRITES.findall(terminal.command):
                assert (folder / written).is_file(), f"{terminal.command} did not write {written}"


def _run_python(text: str, folder: Path) -> None:
    result = subprocess.run(
        [str(folder / ".venv/bin/python"), "-c", text], cwd=folder,
        env=_env(folder), capture_output=True, text=True, timeout=BOUND,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


BLOCKS = _blocks()


def test_the_documents_have_blocks_to_run() -> None:
    assert sum(block.document == ROOT / "README.md" for block in BLOCKS) >= 5
    documents = {block.document for block in BLOCKS}
    assert documents == set(DOCUMENTS), "every example README shows how to run it"


@pytest.mark.parametrize("block", BLOCKS, ids=str)
def test_the_block_runs_as_written(block: Block, workspace: Path) -> None:
    if block.language == "python":
        _run_python(block.text, workspace)
        return
    terminals: list[list[str]] = [[]]
    for command in _commands(block.text):
        if _TERMINAL.search(command):
            terminals.append([])
        elif not command.startswith("#"):
            terminals[-1].append(command)
    if len(terminals) == 1:
        for command in terminals[0]:
            _run(command, workspace)
        return
    _run_terminals(terminals, block.then, workspace)
