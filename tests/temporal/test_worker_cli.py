"""``asl worker`` as a new user meets it: its help, a one-line error for a missing or bad
address, a server that does not answer or lacks the namespace (never a traceback, never
the Temporal SDK's abort at exit), and a clean exit on Ctrl+C."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import pytest

from runtime.temporal.versioning import Build
from runtime.temporal.workers import WorkerSettings
from tests.serving import cli_env, one_line
from tests.temporal.backend import Backend

#: With every other test on Temporal on one xdist worker: one dev server for them all.
pytestmark = pytest.mark.xdist_group("temporal")

BOUND = 60.0  # seconds: every command here ends well before


def _worker(*options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", "worker", *options],
        capture_output=True, text=True, env=cli_env(), timeout=BOUND,
    )  # fmt: skip


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: nothing listens there


def test_help_says_what_it_prints_once_ready_and_how_it_exits() -> None:
    result = _worker("--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.replace("│", " ").split())
    assert "serving task queue QUEUE" in text
    assert "1 when the server does not answer" in text


def test_help_says_how_to_roll_out_a_new_build() -> None:
    text = " ".join(_worker("--help").stdout.replace("│", " ").split())
    assert "--build-id" in text and "--make-current" in text and "--deployment" in text
    assert "describe-version" in text


def test_make_current_without_a_build_id_is_a_usage_error() -> None:
    result = _worker("--temporal-address", "127.0.0.1:7233", "--make-current")
    assert result.returncode == 2
    assert one_line(result.stderr) == "asl worker: --deployment and --make-current need --build-id"


def test_worker_processes_are_given_the_build() -> None:
    settings = WorkerSettings(
        "127.0.0.1:7233", "default", "queue", build=Build("fleet", "B"), current=True
    )
    options = settings.arguments()
    assert options[options.index("--deployment") :] == [
        "--deployment", "fleet", "--build-id", "B", "--make-current",
    ]  # fmt: skip


def test_without_an_address_it_is_a_usage_error() -> None:
    result = _worker()
    assert result.returncode == 2
    assert "Missing option '--temporal-address'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("localhost", "'localhost' is not HOST:PORT (such as 127.0.0.1:7233)"),
        ("http://127.0.0.1:7233", "'http://127.0.0.1:7233' is not HOST:PORT"),
        ("127.0.0.1:99999", "'127.0.0.1:99999': the port is not in 1..65535"),
    ],
)
def test_an_address_that_is_not_host_port_is_a_usage_error(address: str, why: str) -> None:
    result = _worker("--temporal-address", address)
    assert result.returncode == 2
    assert one_line(result.stderr).startswith(f"asl worker: --temporal-address {why}")


def test_a_server_that_does_not_answer_is_named_inone_line() -> None:
    address = f"127.0.0.1:{_closed_port()}"
    result = _worker("--temporal-address", address)
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert line == f"asl worker: cannot connect to Temporal at {address}: Connection refused"


def test_a_namespace_the_server_lacks_is_named_inone_line(temporal: Backend) -> None:
    result = _worker("--temporal-address", temporal.address, "--namespace", "no-such-one")
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert line == f"asl worker: Temporal at {temporal.address} has no namespace 'no-such-one'"
    assert result.stdout == ""  # never announced as polling


def test_ctrl_c_stops_it_cleanly(temporal: Backend) -> None:
    worker = subprocess.Popen(
        [sys.executable, "-m", "runtime.cli", "worker", "--temporal-address", temporal.address,
         "--task-queue", "ctrl-c"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(),
    )  # fmt: skip
    try:
        assert worker.stdout is not None
        ready = worker.stdout.readline()
        assert "serving task queue ctrl-c on " + temporal.address in ready, ready
        worker.send_signal(signal.SIGINT)
        _, stderr = worker.communicate(timeout=BOUND)
    finally:
        worker.kill()
    assert worker.returncode == 0, stderr
    assert stderr == ""
