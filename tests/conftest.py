"""Settings every test shares.

Property tests explore new random examples on every local run (that is how they find
bugs); on CI (``CI`` set) they replay one fixed sequence, so a submission's result does
not depend on the luck of the draw.

The suite runs on pytest-xdist workers (pyproject's ``addopts``: ``-n auto --dist
loadgroup``), beside other runs of it on the same machine, so every test keeps to itself:
a server listens on a port the system chose (port 0; :mod:`tests.serving`), files go
under ``tmp_path``, a wait is a bounded poll (:func:`tests.polling.until`), a time bound
on work holds its CPU time (:func:`tests.timing.within`), and no test relies on another
having run before it. A module whose tests share a module-scoped fixture that starts
something (a server, a browser, a workspace) marks itself
``pytestmark = pytest.mark.xdist_group("<name>")``, so that its tests run on one worker.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
