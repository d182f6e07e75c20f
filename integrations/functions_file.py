"""The functions file of ``asl run --functions FILE``: local Lambda functions by name.

JSON or YAML::

    functions:
      greet: handlers:greet                  # shorthand: just the handler
      charge:
        handler: billing/charge.py:handler   # a file path works too
        timeout: 10                          # seconds, 1-900 (default 3)
        memory: 256                          # MB, 128-10240 (default 128)
        environment: {CURRENCY: EUR}         # at most 4 KB, as Lambda enforces
        reserved_concurrency: 2              # null = unlimited
        isolation: process                   # thread (default), process or inline

A top-level ``isolation`` is every function's unless its entry gives its own. ``thread``
runs a sync handler on a thread of the engine's process, ``process`` in a worker process
(crashes, hangs and memory hogs cannot take the engine down), ``inline`` in place on the
event loop's thread: the fastest, for handlers that compute and return, since one that
blocks stalls every execution meanwhile and one that never returns hangs the engine
(``integrations.lambda_inline``). An async handler runs in place with ``thread`` or
``inline`` alike.

A handler is ``module:function``, ``path/to/file.py:function`` or Lambda's own
``module.function``, resolved relative to the functions file's folder. That folder is put
on ``sys.path`` so a handler module can import its neighbours.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from integrations.lambda_refs import check_isolation
from integrations.lambdas import Executor, LocalFunctions
from integrations.settings_file import SettingsFileError, read_settings

__all__ = ["FunctionsFileError", "load_functions_file"]

_SETTINGS = ("handler", "timeout", "memory", "environment", "reserved_concurrency", "isolation")


class FunctionsFileError(ValueError):
    """A functions file that cannot be read, or an entry that cannot be used."""


def load_functions_file(
    path: str | os.PathLike[str], executor: Executor | None = None
) -> LocalFunctions:
    """Read a functions file and register every function it lists."""
    file = Path(path)
    functions = LocalFunctions(executor)
    entries, isolation = _entries(file)
    for name, entry in entries.items():
        settings = _settings(file, name, entry)
        if isolation is not None:
            settings.setdefault("isolation", isolation)
        handler = _resolve(file, name, settings.pop("handler"))
        try:
            functions.register(name, handler, **settings)
        except ValueError as exc:
            raise FunctionsFileError(f"{file}: function '{name}': {exc}") from exc
    return functions


def _entries(file: Path) -> tuple[Mapping[str, Any], Any]:
    """The function entries, and the file-wide ``isolation`` (None when not given)."""
    try:
        document = read_settings(file)
    except SettingsFileError as exc:
        raise FunctionsFileError(str(exc)) from None
    if not isinstance(document, Mapping) or not isinstance(document.get("functions"), Mapping):
        raise FunctionsFileError(f"{file}: must be an object with a 'functions' object")
    unknown = sorted(set(document) - {"functions", "isolation"})
    if unknown:
        raise FunctionsFileError(f"{file}: unknown top-level field(s) {unknown}")
    functions: Mapping[str, Any] = document["functions"]
    isolation = document.get("isolation")
    if isolation is not None:
        try:
            check_isolation(isolation, "isolation")
        except ValueError as exc:
            raise FunctionsFileError(f"{file}: {exc}") from None
    return functions, isolation


def _settings(file: Path, name: Any, entry: Any) -> dict[str, Any]:
    where = f"{file}: function '{name}'"
    if not isinstance(name, str):
        raise FunctionsFileError(f"{where}: a function name must be text")
    if isinstance(entry, str):
        return {"handler": entry}
    if not isinstance(entry, Mapping):
        raise FunctionsFileError(f"{where}: must be a handler text or an object")
    unknown = sorted(set(entry) - set(_SETTINGS))
    if unknown:
        raise FunctionsFileError(f"{where}: unknown field(s) {unknown}; allowed: {list(_SETTINGS)}")
    if not isinstance(entry.get("handler"), str):
        raise FunctionsFileError(f"{where}: needs a 'handler' text like 'module:function'")
    return dict(entry)


def _resolve(file: Path, name: str, spec: str) -> Any:
    """The callable a handler spec names."""
    where = f"{file}: function '{name}': handler '{spec}'"
    if ":" in spec:
        module_part, _, attribute = spec.rpartition(":")
    else:
        module_part, _, attribute = spec.rpartition(".")
    if not module_part or not attribute:
        raise FunctionsFileError(f"{where}: write it as 'module:function' or 'file.py:function'")
    folder = file.resolve().parent
    local_file = folder.joinpath(*module_part.split(".")).with_suffix(".py")
    if module_part.endswith(".py") or "/" in module_part or os.sep in module_part:
        module = _import_path(folder / module_part, where)
    elif local_file.is_file():
        # A module file next to the functions file is imported by path, under a name of
        # its own: two folders may each have a functions.py.
        module = _import_path(local_file, where)
    else:
        module = _import_module(folder, module_part, where)
    target: Any = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise FunctionsFileError(f"{where}: {module_part} has no '{attribute}'") from None
    if not callable(target):
        raise FunctionsFileError(f"{where}: '{attribute}' is not callable")
    return target


def _add_to_path(folder: Path) -> None:
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


def _import_module(folder: Path, module_name: str, where: str) -> ModuleType:
    _add_to_path(folder)
    try:
        module = importlib.import_module(module_name)
    except (Exception, SystemExit) as exc:
        raise FunctionsFileError(f"{where}: cannot import {module_name}: {_why(exc)}") from exc
    # Another module of the same name imported earlier would silently win: refuse it.
    local = folder.joinpath(*module_name.split("."))
    candidates = {local.with_suffix(".py").resolve(), (local / "__init__.py").resolve()}
    loaded = getattr(module, "__file__", None)
    if any(c.exists() for c in candidates) and (
        loaded is None or Path(loaded).resolve() not in candidates
    ):
        raise FunctionsFileError(
            f"{where}: the module name {module_name} is already taken by {loaded}; "
            "name the file instead (path/to/file.py:function)"
        )
    return module


def _import_path(path: Path, where: str) -> ModuleType:
    path = path.resolve()
    if not path.is_file():
        raise FunctionsFileError(f"{where}: no file {path}")
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    module_name = f"_asl_functions_{path.stem}_{digest}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    _add_to_path(path.parent)
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise FunctionsFileError(f"{where}: {path} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        del sys.modules[module_name]
        raise FunctionsFileError(f"{where}: cannot import {path}: {_why(exc)}") from exc
    return module


def _why(exc: BaseException) -> str:
    """Why a module did not import, as a person reads it: a syntax error with its file,
    line and column; anything else as ``Type: message``."""
    if isinstance(exc, SyntaxError):
        where = f"{exc.filename}, line {exc.lineno}" if exc.filename else f"line {exc.lineno}"
        column = f", column {exc.offset}" if exc.offset else ""
        return f"SyntaxError: {exc.msg} ({where}{column})"
    return f"{type(exc).__name__}: {exc}"
