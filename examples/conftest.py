"""Every example test runs in a fresh folder: the handlers write under ``out/`` relative
to the working folder, as they do under ``asl run``."""

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _in_a_fresh_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
