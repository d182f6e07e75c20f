"""The README's benchmark commands run as written, from the repository's root (their
figures are printed, never asserted: speed is measured, not tested)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _bench(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_workloads_run_through_the_public_api() -> None:
    out = _bench("bench/workloads.py", "task_echo", "choice_loop")
    assert [line.split()[0] for line in out.splitlines()] == ["task_echo", "choice_loop"]
    assert "exec/s" in out


def test_the_diagnostic_variants_run() -> None:
    out = _bench("bench/workloads.py", "task_echo", "--async-handler", "--no-gc")
    assert out.split()[0] == "task_echo"
    out = _bench("bench/workloads.py", "task_echo", "--inline", "--cpu")
    assert out.split()[0] == "task_echo"
    *_, label, cpu, unit = out.split()
    assert (label, unit) == ("CPU", "us/exec") and float(cpu) > 0


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("bench/validate_bench.py", "asl.load"),
        ("bench/render_bench.py", "total:"),
        ("bench/expressions_bench.py", "compiled Choice"),
        ("bench/handoff_bench.py", "reused handler thread"),
    ],
)
def test_micro_benchmarks_run(script: str, expected: str) -> None:
    assert expected in _bench(script)


def test_the_map_children_benchmark_reads_every_child() -> None:
    out = _bench("bench/map_children_bench.py", "--children", "12", "--page", "5")
    assert out.startswith("12 children of an ended Map Run")
    for read in ("ListExecutions page", "DescribeExecution", "GetExecutionHistory"):
        assert read in out


def test_the_validate_benchmark_loads_filter_paths() -> None:
    out = _bench("bench/validate_bench.py", "--filter-paths", "20", "--runs", "1")
    assert out.startswith("20 states,")
    assert "asl.load" in out


def test_the_serve_benchmark_runs_every_server_and_client() -> None:
    out = _bench(
        "bench/serve_bench.py", "--requests", "4", "--runs", "1", "--concurrency", "2",
        "--client-processes", "2", "--clients", "boto3", "light",
    )  # fmt: skip
    lines = [line.split() for line in out.splitlines() if " done " in line]
    assert [line[:3] for line in lines] == [
        [server, client, measure]
        for server in ("asl", "moto")
        for client in ("boto3", "light")
        for measure in ("start", "e2e")
    ]
    # Every execution asked for started (start) or succeeded (e2e), none failed.
    assert [line[5] for line in lines] == ["4"] * len(lines)
    rows = [row for row in out.splitlines() if row.startswith(("| asl", "| moto"))]
    assert len(rows) == len(lines)
    assert all(row.endswith("| 0 |") for row in rows)


def test_the_temporal_benchmark_runs_both_workloads() -> None:
    """A few executions and a Distributed Map of a few items, on one worker process."""
    out = _bench("bench/temporal_bench.py", "--executions", "4", "--items", "30", "--workers", "1")
    rows = [line.split("|")[1].strip() for line in out.splitlines() if line.startswith("| ")]
    assert rows == [
        "backend (4 executions of a 5-state machine)", "---", "local backend (1 process)",
        "Temporal, 1 worker process(es)", "backend (a Distributed Map of 30 items)", "---",
        "local backend (1 process)", "Temporal, 1 worker process(es)",
    ]  # fmt: skip


def test_the_temporal_benchmark_batches_the_distributed_map() -> None:
    """``--batch``: each child execution takes that many items; the table says how many ran."""
    out = _bench(
        "bench/temporal_bench.py", "--items", "30", "--batch", "7", "--workers", "1",
        "--skip-executions",
    )  # fmt: skip
    rows = [
        [cell.strip() for cell in line.split("|")[1:5]]
        for line in out.splitlines()
        if line.startswith(("| local", "| Temporal"))
    ]
    assert [[label, items, children] for label, _, items, children in rows] == [
        ["local backend (1 process)", "30", "5"],
        ["Temporal, 1 worker process(es)", "30", "5"],
    ]
