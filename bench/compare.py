"""Measure this engine and aws-local-stepfunctions side by side on the shared workloads.

Usage, with the project's venv (``make bench-peers`` runs it so)::

    .venv/bin/python bench/compare.py [NAME ...] [--runs N] [--workloads DIR] [--node NODE]

Runs each workload (all of manifest.json by default) N times (default 3) for each
engine, alternating ours and the peer's, every run a fresh process: ours is
``bench/workloads.py NAME``, the peer's ``node bench/peer/run.mjs NAME`` (the same
definition, input, warm-up, repetitions and concurrency; task_echo's Task answered by an
echoing local handler on both sides). Prints a Markdown table of the medians and the
ratio ours/peer. The measure is state transitions/s (higher is better), executions/s for
task_echo (higher is better) and wall seconds for map_10k and wait_many (lower is
better). The peer's package (bench/peer/package.json, pinned by package-lock.json) is
installed into bench/peer/node_modules with ``npm ci`` the first time; this needs Node.js
with npm and a reachable npm registry. Nothing but the standard library is used here.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEER = HERE / "peer"
PEER_PACKAGE = "aws-local-stepfunctions"
DEFAULT_DIR = HERE / "workloads"

# Which figure each workload is judged by: (field, label, higher is better).
WALL = ("wall_s", "wall seconds", False)
MEASURES = {
    "task_echo": ("exec_per_s", "executions/s", True),
    "map_10k": WALL,
    "wait_many": WALL,
}
TRANSITIONS = ("transitions_per_s", "transitions/s", True)

_LINE = re.compile(
    r"^(?P<name>\S+)\s+(?P<wall_s>[\d.]+) s\s+(?P<exec_per_s>[\d.]+) exec/s\s+"
    r"(?P<transitions_per_s>[\d.]+) transitions/s\s+peak RSS (?P<rss_mb>[\d.]+) MB\s*$"
)


@dataclass
class Runs:
    """The figures of one engine's runs of one workload, and why any failed."""

    figures: list[dict[str, float]]
    errors: list[str]


def _peer_installed() -> str | None:
    """The installed peer version, or None."""
    package = PEER / "node_modules" / PEER_PACKAGE / "package.json"
    if not package.exists():
        return None
    return str(json.loads(package.read_text())["version"])


def _install_peer() -> str:
    """Install the pinned peer unless that version is in bench/peer/node_modules already."""
    pinned = json.loads((PEER / "package.json").read_text())["dependencies"][PEER_PACKAGE]
    if _peer_installed() == pinned:
        return pinned
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("the peer needs Node.js and npm (Debian: apt-get install nodejs npm)")
    command = [npm, "ci" if (PEER / "package-lock.json").exists() else "install"]
    print(f"installing {PEER_PACKAGE} {pinned} into {PEER / 'node_modules'} ({command[1]})")
    subprocess.run([*command, "--no-audit", "--no-fund"], cwd=PEER, check=True)
    installed = _peer_installed()
    if installed != pinned:
        raise SystemExit(f"npm installed {PEER_PACKAGE} {installed}, not {pinned}")
    return pinned


def _run_once(command: list[str], name: str) -> dict[str, float] | str:
    """Run one fresh process; its figures, or the reason it gave none."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        m = _LINE.match(line)
        if m and m["name"] == name:
            return {k: float(v) for k, v in m.groupdict().items() if k != "name"}
    said = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
    return f"exit {done.returncode}: {said}"


def _measure(names: list[str], runs: int, folder: Path, node: str) -> dict[str, dict[str, Runs]]:
    commands = {
        "ours": [sys.executable, str(HERE / "workloads.py")],
        "peer": [node, str(PEER / "run.mjs")],
    }
    results: dict[str, dict[str, Runs]] = {}
    for name in names:
        results[name] = {engine: Runs([], []) for engine in commands}
        for i in range(runs):
            for engine, command in commands.items():
                outcome = _run_once([*command, name, "--workloads", str(folder)], name)
                if isinstance(outcome, str):
                    results[name][engine].errors.append(outcome)
                    shown = f"failed ({outcome})"
                else:
                    results[name][engine].figures.append(outcome)
                    shown = f"{outcome['wall_s']:.3f} s"
                print(f"  {name} run {i + 1}/{runs} {engine}: {shown}", file=sys.stderr)
    return results


def _median(runs: Runs, field: str) -> float | None:
    if not runs.figures:
        return None
    return statistics.median(f[field] for f in runs.figures)


def _number(value: float | None, field: str) -> str:
    if value is None:
        return "failed"
    return f"{value:.3f}" if field == "wall_s" else f"{value:,.0f}"


def _spread(runs: Runs, field: str) -> str:
    """The runs' range around their median, in percent of it."""
    values = [f[field] for f in runs.figures]
    middle = statistics.median(values) if values else 0
    if len(values) < 2 or not middle:
        return "-"
    return f"±{50 * (max(values) - min(values)) / middle:.0f}%"


def table(results: dict[str, dict[str, Runs]]) -> str:
    """The Markdown table of medians and ratios (spread: half the min-max range)."""
    rows = [
        "| workload | measure | better | ours | peer | ours/peer "
        "| spread ours / peer | peak RSS ours / peer (MB) |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    notes = []
    for name, by_engine in results.items():
        field, label, higher = MEASURES.get(name, TRANSITIONS)
        ours = _median(by_engine["ours"], field)
        peer = _median(by_engine["peer"], field)
        ratio = f"{ours / peer:.2f}" if ours is not None and peer else "-"
        rss = " / ".join(_number(_median(r, "rss_mb"), "rss_mb") for r in by_engine.values())
        spread = " / ".join(_spread(r, field) for r in by_engine.values())
        better = "higher" if higher else "lower"
        rows.append(
            f"| {name} | {label} | {better} | {_number(ours, field)} | {_number(peer, field)} "
            f"| {ratio} | {spread} | {rss} |"
        )
        for engine, runs in by_engine.items():
            for error in dict.fromkeys(runs.errors):
                count = runs.errors.count(error)
                notes.append(f"{name}, {engine}: {count} run(s) failed: {error}")
    return "\n".join(rows + (["", *notes] if notes else []))


def _version(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    """Install the peer if needed, measure both engines and print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("names", nargs="*", metavar="NAME")
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per engine")
    parser.add_argument("--workloads", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--node", default="node", help="the Node.js to run the peer with")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    manifest = json.loads((args.workloads / "manifest.json").read_text())
    names = args.names or list(manifest)
    unknown = [n for n in names if n not in manifest]
    if unknown:
        parser.error(f"not in {args.workloads / 'manifest.json'}: {', '.join(unknown)}")
    if shutil.which(args.node) is None:
        raise SystemExit(f"{args.node} not found: the peer needs Node.js")
    peer_version = _install_peer()
    python_version = sys.version.split()[0]
    node_version = _version([args.node, "--version"])
    results = _measure(names, args.runs, args.workloads.resolve(), args.node)
    print(
        f"Medians of {args.runs} fresh processes each, alternating; ours on Python "
        f"{python_version}, {PEER_PACKAGE} {peer_version} on Node.js {node_version}; "
        "spread is half the range of the runs, in percent of their median."
    )
    print()
    print(table(results))


if __name__ == "__main__":
    main()
