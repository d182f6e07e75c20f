"""Running graphviz's ``dot`` on DOT text: the only place the visualizer starts a process."""

from __future__ import annotations

import resource
import shutil
import subprocess

__all__ = ["LAYOUT_FORMATS", "RenderError", "layout"]

#: Output formats ``dot`` produces for us.
LAYOUT_FORMATS = ("svg", "png", "pdf")
#: Resolution of PNG output: sharp enough to read a 100-state machine when zoomed.
PNG_DPI = 110
#: How long ``dot`` may take, and how much memory it may map: a 500-state machine takes
#: a fraction of a second and tens of MB, while some tangled graphs of thousands of states
#: would take minutes and gigabytes.
LAYOUT_SECONDS = 60.0
LAYOUT_MEMORY_BYTES = 2 * 1024**3
_TOO_BIG = (
    "draw it as .dot or .mmd (no layout needed), or a part of it (a branch's states in a "
    "definition of their own)"
)


class RenderError(ValueError):
    """A picture could not be made: unknown format, ``dot`` missing or failing, bad history."""


def layout(
    dot_text: str,
    fmt: str,
    *,
    seconds: float = LAYOUT_SECONDS,
    memory_bytes: int = LAYOUT_MEMORY_BYTES,
) -> bytes:
    """Lay out DOT text with ``dot`` and return the picture in ``fmt`` (svg, png, pdf).

    ``dot`` runs at most ``seconds`` with at most ``memory_bytes`` of address space; past
    either, :class:`RenderError` says so and what to do instead."""
    if fmt not in LAYOUT_FORMATS:
        raise RenderError(f"dot cannot produce {fmt!r}; it produces {', '.join(LAYOUT_FORMATS)}")
    program = shutil.which("dot")
    if program is None:
        raise RenderError(
            "graphviz's 'dot' program was not found on PATH; install graphviz "
            "(Debian/Ubuntu: apt-get install graphviz) to draw svg, png, pdf or html"
        )
    command = [program, f"-T{fmt}"]
    if fmt == "png":
        command.append(f"-Gdpi={PNG_DPI}")
    try:
        done = subprocess.run(
            command,
            input=dot_text.encode(),
            capture_output=True,
            check=False,
            timeout=seconds,
            preexec_fn=lambda: _limit_memory(memory_bytes),
        )
    except subprocess.TimeoutExpired:
        raise RenderError(
            f"dot could not lay the graph out within {seconds:g} s; {_TOO_BIG}"
        ) from None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        if done.returncode < 0 or "memory" in message.lower() or "alloc" in message.lower():
            raise RenderError(
                f"dot ran out of its {memory_bytes // 1024**2} MB to lay the graph out "
                f"({message.splitlines()[-1] if message else f'signal {-done.returncode}'}); "
                f"{_TOO_BIG}"
            )
        raise RenderError(f"dot failed (exit status {done.returncode}): {message}")
    return done.stdout


def _limit_memory(limit: int) -> None:
    """In the child before ``dot`` starts: cap its address space (never above a hard
    limit the process already has, which it may not raise)."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
