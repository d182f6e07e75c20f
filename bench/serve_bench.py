"""Measure ``asl serve`` (and moto server beside it) through the Step Functions API.

Usage, with the project's venv::

    .venv/bin/python bench/serve_bench.py [--servers asl moto] [--clients boto3 light]
        [--seconds S] [--requests N] [--runs N] [--concurrency N] [--client-processes N]
        [--poll-seconds S] [--profile DIR] [--db PATH | --db :memory:]

Each server runs as a process of its own on a free loopback port, started here and
stopped after each run: ``asl serve --port P --db FILE`` (real clock, the embedded SQLite
store on: by default a fresh database file in a temporary folder for each server run;
``--db PATH`` names the file instead, ``--db :memory:`` keeps everything in memory) and
``python -m moto.server -p P`` with its state-machine interpreter switched on (moto's
``execute_state_machine`` setting; without it moto's executions stay RUNNING forever).
On each server one machine of 5 Pass states in a chain (each adding a small Result at its
own ResultPath) is created, then two measures are taken, one after the other:

- ``start``: StartExecution requests/s (the executions run meanwhile on the server);
- ``e2e``: completed executions/s, each a StartExecution, then DescribeExecution until
  the execution is no longer RUNNING. The client polls as a sensible one does: its first
  Describe after ``--poll-seconds`` (an execution just started is still running), then
  again after twice as long each time, up to a second, never in a tight loop; moto and
  asl are measured by the same client.

Two kinds of client: ``boto3``, N threads each with its own boto3 client
(``Config(inject_host_prefix=False)``, as users run it; on a small machine these clients
take much of the CPU), in a process of their own or spread over ``--client-processes``
(Python runs one thread at a time per process); and ``light``, N asyncio tasks in this
process posting AWS JSON 1.0 with aiohttp (unsigned: ``asl serve`` reads no
``Authorization``). A measure stops after ``--seconds`` (default 10) or ``--requests``
executions, whichever comes first. The server's RSS is read after each measure
(``VmRSS`` in /proc/PID/status: a server that keeps something per finished execution
shows it growing from one to the next) and its peak (``VmHWM``) after both. Each line
also gives the CPU seconds per wall second used by the server process and by the clients
(1.00 is one core), and the server's and the clients' CPU milliseconds per execution,
figures less swayed by other load on the machine than the rates (a boto3 client spends
more per call than asl serve does: on one machine the clients bound the rates). Every
(server, client) pair gets ``--runs`` fresh servers, pairs alternating within a run; the
table gives the median of the runs and their spread (half the range, in percent of the
median). The load average is printed before and after: the machine may be shared.
``--profile DIR`` runs each ``asl serve`` under cProfile (timed by the process's CPU
time, not the wall clock), writing
``DIR/asl-CLIENT-RUN.prof`` (read with ``python -m pstats``). Figures are printed, never
asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[1]
ROLE = "arn:aws:iam::123456789012:role/service-role/bench"
MACHINE = "bench5"
#: Five Pass states in a chain, each writing a small result beside the input.
DEFINITION = {
    "Comment": "5 Pass states",
    "StartAt": "P1",
    "States": {
        f"P{i}": {
            "Type": "Pass",
            "Result": {"step": i},
            "ResultPath": f"$.p{i}",
            **({"End": True} if i == 5 else {"Next": f"P{i + 1}"}),
        }
        for i in range(1, 6)
    },
}
INPUT = json.dumps({"order": 1})
_READY_SECONDS = 60.0
_LONGEST_POLL_SECONDS = 1.0
_UNSIGNED = (
    "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/states/aws4_request, "
    "SignedHeaders=host, Signature=0"
)


@dataclass
class Budget:
    """How many more executions a measure may start: ``requests`` in all, until
    ``seconds`` have passed since ``begin()``. Shared by the threads of one measure."""

    requests: int | None
    seconds: float | None
    _taken: int = 0
    _deadline: float = float("inf")
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def begin(self) -> None:
        """Start the clock."""
        if self.seconds is not None:
            self._deadline = time.perf_counter() + self.seconds

    def take(self) -> bool:
        """Whether one more execution may start (and count it)."""
        with self._lock:
            if self.requests is not None and self._taken >= self.requests:
                return False
            if time.perf_counter() >= self._deadline:
                return False
            self._taken += 1
            return True


@dataclass
class Tally:
    """What a measure's workers did: executions started or completed, calls and failures."""

    done: int = 0
    calls: int = 0
    failures: list[str] = field(default_factory=list)

    def settle(self, status: str | None) -> None:
        """Count an execution: started (status None: not waited for), or ended with
        ``status``, which only SUCCEEDED counts as done."""
        if status in (None, "SUCCEEDED"):
            self.done += 1
        else:
            self.failures.append(f"execution {status}")

    def fail(self, exc: Exception) -> None:
        """Count a call that failed."""
        self.failures.append(f"{type(exc).__name__}: {exc}")

    def add(self, other: Tally) -> None:
        """Fold another worker's tally into this one."""
        self.done += other.done
        self.calls += other.calls
        self.failures += other.failures


@dataclass(frozen=True)
class Server:
    """A server process under test and its endpoint."""

    kind: str
    process: subprocess.Popen[bytes]
    url: str

    def cpu_seconds(self) -> float:
        """The CPU time the process has used so far (user and system)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self, field: str = "VmRSS") -> float:
        """The process's resident set size now (``VmHWM``: its peak so far), in MB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(x for x in status.splitlines() if x.startswith(f"{field}:"))
        return int(line.split()[1]) / 1024


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


#: ``asl serve`` under cProfile timed by the process's CPU time: on a shared machine a wall
#: clock charges its functions with the time others ran (``epoll``, ``send`` waking a client).
_PROFILED = """
import cProfile, runpy, sys, time
out, sys.argv = sys.argv[1], ["asl", *sys.argv[2:]]
profile = cProfile.Profile(time.process_time)
try:
    profile.runcall(runpy.run_module, "runtime.cli", run_name="__main__")
except SystemExit:
    pass
finally:
    profile.dump_stats(out)
"""


def _command(kind: str, port: int, profile: Path | None, db: str | None) -> list[str]:
    if kind == "moto":
        return [sys.executable, "-m", "moto.server", "-p", str(port)]
    run = ["-m", "runtime.cli"] if profile is None else ["-c", _PROFILED, str(profile)]
    store = [] if db == ":memory:" or db is None else ["--db", db]
    return [sys.executable, *run, "serve", "--port", str(port), *store]


@contextmanager
def _database(kind: str, db: str | None) -> Iterator[str | None]:
    """The database file ``asl serve`` gets: ``db`` as given, or (None) a fresh one in a
    temporary folder removed on leaving."""
    if kind != "asl" or db is not None:
        yield db
        return
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as folder:
        yield str(Path(folder) / "bench.db")


@contextmanager
def _server(kind: str, profile: Path | None, db: str | None) -> Iterator[Server]:
    """A fresh server process, stopped (SIGTERM) on leaving."""
    port = _free_port()
    # This checkout's code, before any installed copy of the package.
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    with _database(kind, db) as database, tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            _command(kind, port, profile, database),
            cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=errors,
        )  # fmt: skip
        server = Server(kind, process, f"http://127.0.0.1:{port}")
        try:
            _wait_until_listening(server, port, errors)
            yield server
        finally:
            process.terminate()
            process.wait(timeout=30)


def _wait_until_listening(server: Server, port: int, errors: Any) -> None:
    deadline = time.monotonic() + _READY_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            errors.seek(0)
            raise SystemExit(f"{server.kind} server ended: {errors.read().decode()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{server.kind} server did not listen within {_READY_SECONDS} s")


def _boto3_client(url: str) -> Any:
    session = boto3.session.Session()
    return session.client(
        "stepfunctions",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(inject_host_prefix=False),
    )


def _prepare(server: Server) -> str:
    """Create the benchmark's machine (first switching moto's interpreter on); its ARN."""
    if server.kind == "moto":
        request = urllib.request.Request(
            f"{server.url}/moto-api/config",
            data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=30).close()
    client = _boto3_client(server.url)
    created = client.create_state_machine(
        name=MACHINE, definition=json.dumps(DEFINITION), roleArn=ROLE
    )
    return str(created["stateMachineArn"])


def _name() -> str:
    # Named by the client: moto 5.2.6's interpreter names every unnamed execution "None",
    # so its second one would be ExecutionAlreadyExists.
    return str(uuid.uuid4())


def _boto3_worker(client: Any, arn: str, measure: str, budget: Budget, poll: float) -> Tally:
    tally = Tally()
    while budget.take():
        try:
            started = client.start_execution(stateMachineArn=arn, name=_name(), input=INPUT)
            tally.calls += 1
            waited = measure == "e2e"
            tally.settle(
                _boto3_wait(client, started["executionArn"], poll, tally) if waited else None
            )
        except Exception as exc:  # a failed call is counted and reported, not fatal
            tally.fail(exc)
    return tally


def _poll_delays(first: float) -> Iterator[float]:
    """How long a client waits before each DescribeExecution: ``first``, then twice as
    long each time, up to a second."""
    delay = first
    while True:
        yield delay
        delay = min(2 * delay, _LONGEST_POLL_SECONDS)


def _boto3_wait(client: Any, execution_arn: str, poll: float, tally: Tally) -> str:
    for delay in _poll_delays(poll):
        time.sleep(delay)
        status = str(client.describe_execution(executionArn=execution_arn)["status"])
        tally.calls += 1
        if status != "RUNNING":
            return status
    raise AssertionError("unreachable: the delays never end")


def _measure_boto3(
    clients: list[Any], arn: str, measure: str, budget: Budget, poll: float
) -> Tally:
    tally = Tally()
    with ThreadPoolExecutor(len(clients)) as pool:
        budget.begin()
        work = [pool.submit(_boto3_worker, c, arn, measure, budget, poll) for c in clients]
        for done in work:
            tally.add(done.result())
    return tally


Call = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


def _light_call(session: aiohttp.ClientSession, server: Server) -> Call:
    common = {"Content-Type": "application/x-amz-json-1.0"}
    if server.kind == "moto":
        # moto routes a request to a service by the credential scope of its signature
        # (never checked); asl serve reads X-Amz-Target only.
        common["Authorization"] = _UNSIGNED
    url = server.url

    async def call(operation: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {**common, "X-Amz-Target": f"AWSStepFunctions.{operation}"}
        async with session.post(url + "/", data=json.dumps(body), headers=headers) as response:
            answer: dict[str, Any] = await response.json(content_type=None)
            if response.status != 200:
                raise RuntimeError(f"{operation}: {response.status} {answer}")
            return answer

    return call


async def _light_worker(call: Call, arn: str, measure: str, budget: Budget, poll: float) -> Tally:
    tally = Tally()
    while budget.take():
        try:
            body = {"stateMachineArn": arn, "name": _name(), "input": INPUT}
            started = await call("StartExecution", body)
            tally.calls += 1
            waited = measure == "e2e"
            tally.settle(
                await _light_wait(call, started["executionArn"], poll, tally) if waited else None
            )
        except Exception as exc:  # a failed call is counted and reported, not fatal
            tally.fail(exc)
    return tally


async def _light_wait(call: Call, execution_arn: str, poll: float, tally: Tally) -> str:
    for delay in _poll_delays(poll):
        await asyncio.sleep(delay)
        described = await call("DescribeExecution", {"executionArn": execution_arn})
        tally.calls += 1
        if described["status"] != "RUNNING":
            return str(described["status"])
    raise AssertionError("unreachable: the delays never end")


async def _measure_light(
    server: Server, concurrency: int, arn: str, measure: str, budget: Budget, poll: float
) -> Tally:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        call = _light_call(session, server)
        budget.begin()
        tallies = await asyncio.gather(
            *(_light_worker(call, arn, measure, budget, poll) for _ in range(concurrency))
        )
    tally = Tally()
    for each in tallies:
        tally.add(each)
    return tally


#: One measure by a kind of client: (arn, measure) in; the tally and the clients' CPU seconds out.
Measure = Callable[[str, str], tuple[Tally, float]]


def _shares(total: int | None, parts: int) -> list[int | None]:
    """``total`` split in ``parts`` near-equal shares (None: no bound, for each)."""
    if total is None:
        return [None] * parts
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _client_process(connection: Connection, url: str, count: int) -> None:
    """A process of boto3 client threads: measures what ``connection`` asks until None."""
    clients = [_boto3_client(url) for _ in range(count)]
    connection.send("ready")
    while (job := connection.recv()) is not None:
        arn, measure, requests, seconds, poll = job
        before = _cpu()
        tally = _measure_boto3(clients, arn, measure, Budget(requests, seconds), poll)
        connection.send((tally, _cpu() - before))


@contextmanager
def _boto3_fleet(url: str, args: argparse.Namespace) -> Iterator[Measure]:
    """``--concurrency`` boto3 clients on threads, spread over ``--client-processes``
    processes started (and their clients made) before any measure."""
    spawn = get_context("spawn")
    links = []
    for count in _shares(args.concurrency, args.client_processes):
        ours, theirs = spawn.Pipe()
        process = spawn.Process(target=_client_process, args=(theirs, url, count), daemon=True)
        process.start()
        links.append((ours, process))
    for connection, _ in links:
        connection.recv()

    def measure(arn: str, kind: str) -> tuple[Tally, float]:
        requests = _shares(args.requests, len(links))
        for (connection, _), share in zip(links, requests, strict=True):
            connection.send((arn, kind, share, args.seconds, args.poll_seconds))
        tally, cpu = Tally(), 0.0
        for connection, _ in links:
            part, part_cpu = connection.recv()
            tally.add(part)
            cpu += part_cpu
        return tally, cpu

    try:
        yield measure
    finally:
        for connection, process in links:
            connection.send(None)
            process.join(timeout=30)


@contextmanager
def _light_clients(server: Server, args: argparse.Namespace) -> Iterator[Measure]:
    """``--concurrency`` asyncio tasks in this process."""

    def measure(arn: str, kind: str) -> tuple[Tally, float]:
        before = _cpu()
        budget = Budget(args.requests, args.seconds)
        tally = asyncio.run(
            _measure_light(server, args.concurrency, arn, kind, budget, args.poll_seconds)
        )
        return tally, _cpu() - before

    yield measure


def _one_run(kind: str, client: str, args: argparse.Namespace, run: int) -> list[dict[str, Any]]:
    """Both measures on a fresh server; one figure each."""
    profile = None
    if args.profile is not None and kind == "asl":
        args.profile.mkdir(parents=True, exist_ok=True)
        profile = args.profile / f"asl-{client}-{run}.prof"
    figures = []
    with _server(kind, profile, args.db) as server:
        arn = _prepare(server)
        fleet = (
            _boto3_fleet(server.url, args) if client == "boto3" else _light_clients(server, args)
        )
        with fleet as measure_once:
            for measure in ("start", "e2e"):
                began, server_cpu = time.perf_counter(), server.cpu_seconds()
                tally, client_cpu = measure_once(arn, measure)
                wall = time.perf_counter() - began
                figure = _figure(kind, client, measure, tally, wall)
                server_cpu = server.cpu_seconds() - server_cpu
                figure["server_cpu"] = server_cpu / wall
                figure["client_cpu"] = client_cpu / wall
                figure["server_ms"] = 1000 * server_cpu / tally.done if tally.done else 0.0
                figure["client_ms"] = 1000 * client_cpu / tally.done if tally.done else 0.0
                figure["rss_after_mb"] = server.rss_mb()
                figures.append(figure)
        rss = server.rss_mb("VmHWM")
    for figure in figures:
        figure["rss_mb"] = rss
        _print_figure(figure)
    return figures


def _cpu() -> float:
    """The CPU time this process (the clients) has used so far."""
    times = os.times()
    return times.user + times.system


def _figure(kind: str, client: str, measure: str, tally: Tally, wall: float) -> dict[str, Any]:
    return {
        "server": kind,
        "client": client,
        "measure": measure,
        "per_s": tally.done / wall,
        "done": tally.done,
        "calls_per_exec": tally.calls / tally.done if tally.done else 0.0,
        "failures": tally.failures,
    }


def _print_figure(figure: dict[str, Any]) -> None:
    unit = "StartExecution/s" if figure["measure"] == "start" else "executions/s"
    failures = figure["failures"]
    print(
        f"{figure['server']:5} {figure['client']:6} {figure['measure']:6}"
        f"{figure['per_s']:9.1f} {unit:17} {figure['done']:7} done"
        f"  {figure['calls_per_exec']:4.2f} calls/exec  CPU server {figure['server_cpu']:.2f}"
        f" clients {figure['client_cpu']:.2f} ({figure['server_ms']:.2f} ms server CPU/exec,"
        f" {figure['client_ms']:.2f} ms clients)"
        f"  RSS after {figure['rss_after_mb']:.1f} MB, peak {figure['rss_mb']:.1f} MB"
        + (f"  {len(failures)} failed, e.g. {failures[0]}" if failures else ""),
        flush=True,
    )


def _spread(values: list[float]) -> str:
    middle = statistics.median(values)
    return f"±{50 * (max(values) - min(values)) / middle:.0f}%" if middle else "-"


def table(figures: list[dict[str, Any]]) -> str:
    """A Markdown table of the medians (and spreads) of the runs' figures."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for figure in figures:
        key = (figure["server"], figure["client"], figure["measure"])
        groups.setdefault(key, []).append(figure)
    rows = [
        "| server | client | measure | median | spread | server CPU ms/exec "
        "| client CPU ms/exec | peak RSS MB | failed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (kind, client, measure), runs in groups.items():
        rates = [r["per_s"] for r in runs]
        unit = "StartExecution/s" if measure == "start" else "executions/s"
        server_ms = statistics.median(r["server_ms"] for r in runs)
        client_ms = statistics.median(r["client_ms"] for r in runs)
        rss = statistics.median(r["rss_mb"] for r in runs)
        failed = sum(len(r["failures"]) for r in runs)
        rows.append(
            f"| {kind} | {client} | {measure} | {statistics.median(rates):,.0f} {unit} "
            f"| {_spread(rates)} | {server_ms:.2f} | {client_ms:.2f} | {rss:.0f} | {failed} |"
        )
    return "\n".join(rows)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--servers", nargs="+", choices=["asl", "moto"], default=["asl", "moto"])
    parser.add_argument("--clients", nargs="+", choices=["boto3", "light"], default=None,
                        help="default: boto3 and light on asl, boto3 on moto")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=None, help="per measure (default 10)")
    parser.add_argument("--requests", type=int, default=None, help="executions per measure")
    parser.add_argument("--runs", type=int, default=3, help="fresh servers per pair")
    parser.add_argument("--concurrency", type=int, default=50, help="clients (threads, tasks)")
    parser.add_argument("--client-processes", type=int, default=1,
                        help="processes the boto3 client threads are spread over")  # fmt: skip
    parser.add_argument("--poll-seconds", type=float, default=0.005,
                        help="the wait before the first DescribeExecution, doubled after "
                        "each (at most 1 s)")  # fmt: skip
    parser.add_argument("--profile", type=Path, default=None, metavar="DIR")
    parser.add_argument("--db", default=None, metavar="PATH",
                        help="asl serve's database (default: a fresh temporary file per "
                        "server run; :memory: for none)")  # fmt: skip
    args = parser.parse_args()
    if args.seconds is None and args.requests is None:
        args.seconds = 10.0
    if min(args.runs, args.concurrency, args.client_processes, args.requests or 1) < 1:
        parser.error("--runs, --concurrency, --client-processes and --requests: at least 1")
    if args.client_processes > args.concurrency:
        parser.error("--client-processes may not exceed --concurrency")
    return args


def _pairs(args: argparse.Namespace) -> list[tuple[str, str]]:
    if args.clients is not None:
        return [(s, c) for s in args.servers for c in args.clients]
    defaults = {"asl": ["boto3", "light"], "moto": ["boto3"]}
    return [(s, c) for s in args.servers for c in defaults[s]]


def main() -> None:
    """Measure every (server, client) pair ``--runs`` times and print the table."""
    args = _arguments()
    bound = f"{args.seconds} s" if args.requests is None else f"{args.requests} executions"
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"each measure: {bound}, {args.concurrency} clients; {len(DEFINITION['States'])} Pass")
    print(f"asl serve store: {args.db or 'a fresh temporary SQLite file per run'}")
    figures = []
    for run in range(1, args.runs + 1):
        for kind, client in _pairs(args):
            figures += _one_run(kind, client, args, run)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print()
    print(table(figures))


if __name__ == "__main__":
    main()
