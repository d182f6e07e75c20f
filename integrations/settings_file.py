"""Reading the local set-up files (functions, mocks, connections, resources, substitutions):
JSON or YAML, each at most :data:`SETTINGS_FILE_MAX_BYTES`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from asl.jsontext import parse_json
from asl.textfile import MIB, TextFileError, read_text_file
from asl.yamltext import read_yaml

__all__ = ["SETTINGS_FILE_MAX_BYTES", "SettingsFileError", "read_settings"]

#: The largest set-up file read, and the most its YAML aliases may expand it to (in
#: characters of JSON text). Our own bound (AWS reads none of these files): room for a
#: MockConfigFile of a dozen responses as large as a Task result may be (256 KiB), while
#: a runaway file, or a pure-Python YAML parse of one, stays well within memory.
SETTINGS_FILE_MAX_BYTES = 4 * MIB


class SettingsFileError(ValueError):
    """A set-up file that is missing, unreadable, too large or not JSON/YAML; the message
    names it."""


def read_settings(path: str | os.PathLike[str]) -> Any:
    """The document in a ``.json`` file, or a YAML one (any other name; YAML reads JSON too).

    An empty YAML file is None.
    """
    file = Path(path)
    try:
        text = read_text_file(file, SETTINGS_FILE_MAX_BYTES)
        if file.suffix.lower() == ".json":
            return parse_json(text)
        return read_yaml(text, SETTINGS_FILE_MAX_BYTES)
    except TextFileError as exc:
        raise SettingsFileError(f"{file}: cannot be read: {exc.reason}") from None
    except (ValueError, yaml.YAMLError) as exc:
        raise SettingsFileError(f"{file}: cannot be read: {exc}") from exc
    except RecursionError:
        raise SettingsFileError(f"{file}: cannot be read: it is nested too deeply") from None
