"""Reading a file someone names: never more than a bound, and text only as UTF-8.

Every file the tools read (definitions, inputs, set-up files, histories) comes through
here, so a file without end (``/dev/zero``, a FIFO, a runaway log) is refused after its
bound instead of read until memory runs out, and a file that is not UTF-8 is one clear
error naming it instead of a traceback.
"""

from __future__ import annotations

import os

__all__ = ["FileTooLarge", "TextFileError", "read_file_bytes", "read_text_file"]

MIB = 1024 * 1024


class TextFileError(OSError):
    """A file that cannot be read: missing, not a file, larger than its bound, or (read
    as text) not UTF-8. ``str()`` is ``cannot read PATH: REASON``; ``reason`` is the second part."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"cannot read {path}: {reason}")
        self.path = path
        self.reason = reason


class FileTooLarge(TextFileError):
    """A file larger than its bound (``max_bytes``)."""

    def __init__(self, path: str | os.PathLike[str], max_bytes: int) -> None:
        super().__init__(path, f"it is larger than {_amount(max_bytes)}")
        self.max_bytes = max_bytes


def read_file_bytes(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The bytes of a file of at most ``max_bytes`` bytes; only ``max_bytes + 1`` are
    ever read. Raises :class:`FileTooLarge` for a larger file and :class:`TextFileError`
    for any other reason it cannot be read."""
    try:
        with open(path, "rb") as file:
            data = file.read(max_bytes + 1)
    except OSError as exc:
        raise TextFileError(path, str(exc)) from exc
    if len(data) > max_bytes:
        raise FileTooLarge(path, max_bytes)
    return data


def read_text_file(path: str | os.PathLike[str], max_bytes: int) -> str:
    """The UTF-8 text of a file of at most ``max_bytes`` bytes, as :func:`read_file_bytes`
    reads it; :class:`TextFileError` for bytes that are not UTF-8."""
    data = read_file_bytes(path, max_bytes)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = f"byte 0x{data[exc.start]:02x} at offset {exc.start}"
        raise TextFileError(path, f"it is not UTF-8 text ({where})") from None


def _amount(size: int) -> str:
    """``4 MiB (4194304 bytes)``, or ``1000 bytes`` for a size of no whole MiB."""
    if size % MIB == 0:
        return f"{size // MIB} MiB ({size} bytes)"
    return f"{size} bytes"
