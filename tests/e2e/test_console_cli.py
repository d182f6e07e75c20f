"""``asl serve`` announces its web console; beyond loopback the console asks for the token
it printed (``$ASL_CONSOLE_TOKEN`` or a new one), and the API asks for none."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.e2e.test_serve_cli import BOUND, ROOT
from tests.serving import announced_port


@contextmanager
def _serving(
    tmp_path: Path, *options: str, token: str | None = None
) -> Iterator[tuple[int, list[str]]]:
    """`asl serve` on a port of the system's choice: that port and the two lines it printed."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    environment.pop("ASL_CONSOLE_TOKEN", None)
    if token is not None:
        environment["ASL_CONSOLE_TOKEN"] = token
    server = subprocess.Popen(
        [sys.executable, "-m", "runtime.cli", "serve", "--db", ":memory:", "--port", "0", *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment, cwd=tmp_path,
    )  # fmt: skip
    assert server.stdout is not None
    try:
        lines = [server.stdout.readline(), server.stdout.readline()]
        yield announced_port(lines[0]), lines
    finally:
        server.terminate()
        server.wait(BOUND)


def test_on_loopback_the_console_asks_for_no_token(tmp_path: Path) -> None:
    with _serving(tmp_path) as (port, lines):
        assert lines[1] == f"asl serve: web console on http://127.0.0.1:{port}/console/\n"
        answer = requests.get(f"http://127.0.0.1:{port}/console/", timeout=BOUND)
        assert answer.status_code == 200 and "State machines" in answer.text


def test_beyond_loopback_the_console_asks_for_the_printed_token(tmp_path: Path) -> None:
    with _serving(tmp_path, "--host", "0.0.0.0") as (port, lines):
        prefix = f"asl serve: web console on http://0.0.0.0:{port}/console/?token="
        assert lines[1].startswith(prefix), lines
        token = lines[1].removeprefix(prefix).strip()
        assert len(token) >= 20
        base = f"http://127.0.0.1:{port}"
        assert requests.get(f"{base}/console/", timeout=BOUND).status_code == 401
        session = requests.Session()
        opened = session.get(f"{base}/console/", params={"token": token}, timeout=BOUND)
        assert opened.status_code == 200 and opened.url == f"{base}/console/"
        api = requests.post(
            base, data="{}", headers={"X-Amz-Target": "AWSStepFunctions.ListActivities"},
            timeout=BOUND,
        )  # fmt: skip
        assert api.json() == {"activities": []}


def test_the_token_can_be_chosen(tmp_path: Path) -> None:
    with _serving(tmp_path, "--host", "0.0.0.0", token="chosen") as (_, lines):
        assert lines[1].endswith("/console/?token=chosen\n")
