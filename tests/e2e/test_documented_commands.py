"""Every shell and Python block of README.md and the examples' READMEs runs as written, in a
copy of the repository after ``make demo``, as a new user would paste it.

A block may show two terminals: the commands before a ``# in another terminal`` comment
run first, the last of them left running (an ``asl run`` waiting for its task token);
the rest run once ``asl tasks`` lists the waiting token, with ``TOKEN`` replaced by it,
and the waiting run must then succeed. When the command left running is an ``asl serve``,
the rest run once it has announced its endpoint, then it is stopped as the user stops
it (Ctrl+C, SIGINT) and must exit 0; one such block runs at a time on this machine, since
each serves on its documented port. A command may say how it ends with a trailing
``# exits N`` comment; every other command must exit 0, and every file it is told to
write (``-o FILE``, ``--trace FILE``) must exist afterwards.
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
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
_SERVE = re.compile(r"\basl serve\b")


@dataclass(frozen=True)
class Block:
    """One fenced block of a document."""

    document: Path
    line: int
    language: str
    text: str

    def __str__(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line}"


def _blocks() -> list[Block]:
    found = []
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            indent = len(match.group(1))
            body = "".join(line[indent:] for line in match.group(3).splitlines(keepends=True))
            line = text.count("\n", 0, match.start()) + 1
            found.append(Block(document, line, match.group(2), body))
    return found


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


def _waiting_token(folder: Path, waiting: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        listed = _shell(".venv/bin/asl tasks --format json", folder)
        assert listed.returncode == 0, listed.stderr
        tasks = json.loads(listed.stdout)
        if tasks:
            return str(tasks[0]["taskToken"])
        assert waiting.poll() is None, waiting.communicate()
        time.sleep(0.2)
    raise AssertionError("asl tasks never listed a waiting token")


def _serve_two_terminals(first: list[str], second: list[str], folder: Path) -> None:
    for command in first[:-1]:
        _run(command, folder)
    with _port_lock():
        server = subprocess.Popen(
            ["bash", "-c", first[-1]], cwd=folder, env=_env(folder), start_new_session=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert server.stdout is not None
            announced = server.stdout.readline()
            assert "Step Functions API on" in announced, server.communicate(timeout=BOUND)
            for command in second:
                _run(command, folder)
            os.killpg(server.pid, signal.SIGINT)
            out, err = server.communicate(timeout=BOUND)
        finally:
            server.kill()
    assert server.returncode == 0, f"{first[-1]}\n{out}\n{err}"


@contextmanager
def _port_lock() -> Iterator[None]:
    """Held while a documented server runs: two runs of this suite at once would meet on
    its port."""
    with open(Path(tempfile.gettempdir()) / "asl-documented-serve.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _run_two_terminals(first: list[str], second: list[str], folder: Path) -> None:
    if _SERVE.search(first[-1]):
        _serve_two_terminals(first, second, folder)
        return
    for command in first[:-1]:
        _run(command, folder)
    waiting = subprocess.Popen(
        ["bash", "-c", first[-1]], cwd=folder, env=_env(folder),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        token = _waiting_token(folder, waiting)
        for command in second:
            _run(command.replace("TOKEN", token), folder)
        out, err = waiting.communicate(timeout=BOUND)
    finally:
        waiting.kill()
    assert waiting.returncode == 0, f"{first[-1]}\n{out}\n{err}"
    for written in _WRITES.findall(first[-1]):
        assert (folder / written).is_file(), f"{first[-1]} did not write {written}"


BLOCKS = _blocks()


def test_the_documents_have_blocks_to_run() -> None:
    assert sum(block.document == ROOT / "README.md" for block in BLOCKS) >= 5
    documents = {block.document for block in BLOCKS}
    assert documents == set(DOCUMENTS), "every example README shows how to run it"


@pytest.mark.parametrize("block", BLOCKS, ids=str)
def test_the_block_runs_as_written(block: Block, workspace: Path) -> None:
    if block.language == "python":
        result = subprocess.run(
            [str(workspace / ".venv/bin/python"), "-c", block.text], cwd=workspace,
            env=_env(workspace), capture_output=True, text=True, timeout=BOUND,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return
    commands = _commands(block.text)
    marker = next((i for i, c in enumerate(commands) if "another terminal" in c), None)
    if marker is None:
        for command in commands:
            if not command.startswith("#"):
                _run(command, workspace)
        return
    first = [c for c in commands[:marker] if not c.startswith("#")]
    second = [c for c in commands[marker + 1 :] if not c.startswith("#")]
    _run_two_terminals(first, second, workspace)
