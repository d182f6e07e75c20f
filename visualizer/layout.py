"""Running graphviz's ``dot`` on DOT text: the only place the visualizer starts a process."""

from __future__ import annotations

import shutil
import subprocess

__all__ = ["LAYOUT_FORMATS", "RenderError", "layout"]

#: Output formats ``dot`` produces for us.
LAYOUT_FORMATS = ("svg", "png", "pdf")
#: Resolution of PNG output: sharp enough to read a 100-state machine when zoomed.
PNG_DPI = 110


class RenderError(ValueError):
    """A picture could not be made: unknown format, ``dot`` missing or failing, bad history."""


def layout(dot_text: str, fmt: str) -> bytes:
    """Lay out DOT text with ``dot`` and return the picture in ``fmt`` (svg, png, pdf)."""
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
    done = subprocess.run(command, input=dot_text.encode(), capture_output=True, check=False)
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        raise RenderError(f"dot failed (exit status {done.returncode}): {message}")
    return done.stdout
