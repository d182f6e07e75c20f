"""Settings every test shares.

Property tests explore new random examples on every local run (that is how they find
bugs); on CI (``CI`` set) they replay one fixed sequence, so a submission's result does
not depend on the luck of the draw.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
