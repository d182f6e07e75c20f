"""Handler modules written by a test and imported under a fresh name (a worker process
imports them again by that name)."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from pathlib import Path
from types import ModuleType


def import_file(path: Path) -> ModuleType:
    """Import the Python file at ``path`` as a module of a unique name."""
    name = f"{path.stem}_{uuid.uuid4().hex[:12]}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
