"""Reading the local set-up files (functions, mocks, connections, resources): JSON or YAML."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from asl.jsontext import parse_json

__all__ = ["SettingsFileError", "read_settings"]


class SettingsFileError(ValueError):
    """A set-up file that is missing, unreadable or not JSON/YAML; the message names it."""


def read_settings(path: str | os.PathLike[str]) -> Any:
    """The document in a ``.json`` file, or a YAML one (any other name; YAML reads JSON too).

    An empty YAML file is None.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
        if file.suffix.lower() == ".json":
            return parse_json(text)
        return yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise SettingsFileError(f"{file}: cannot be read: {exc}") from exc
