"""The HTML report in a real browser: headless Chromium renders it, runs its script, logs
nothing to the console; clicking an event shows its details, clicking a state selects it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from visualizer import html_report

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
)
#: Clicks the first event row and the first state of the picture, then records what the
#: page's own script did in attributes of <body>, which --dump-dom shows.
_CLICKS = """<script>
(function () {
  var row = document.querySelector("tr.event");
  row.click();
  document.body.dataset.detailsShown = String(!row.nextElementSibling.hidden);
  var node = document.querySelector(".svg g.node[id^='state-']");
  node.dispatchEvent(new MouseEvent("click", {bubbles: true}));
  document.body.dataset.selectedState = node.id;
  document.body.dataset.selectedCount = String(document.querySelectorAll(".selected").length);
})();
</script>
</body>"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "Chromium is not installed, so the HTML report cannot be checked in a browser: "
        "install it (Debian: apt-get install chromium; `make test` does it)"
    )


def _open(page: Path, tmp_path: Path) -> tuple[str, str]:
    proc = subprocess.run(
        [
            _chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, proc.stderr


def _console(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


CASES = {
    "map_failure": ("map_failure", "map_failure"),
    "caught": ("caught", "caught"),
    "parallel_running": ("parallel", "parallel_running"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_report_renders_in_chromium_without_console_errors(case: str, tmp_path: Path) -> None:
    definition, history_name = CASES[case]
    history = json.loads((GOLDEN / "histories" / f"{history_name}.json").read_text())
    page = tmp_path / "report.html"
    page.write_text(
        html_report(GOLDEN / "definitions" / f"{definition}.asl.json", history), encoding="utf-8"
    )
    dom, stderr = _open(page, tmp_path)
    assert _console(stderr) == []
    assert 'data-ready="true"' in dom
    assert re.search(r"<svg[^>]*>", dom)
    assert dom.count('<tr class="event') == len(history["events"])
    assert '<div class="timeline">' in dom
    assert "Execution " in dom


def test_report_reacts_to_clicks(tmp_path: Path) -> None:
    history = json.loads((GOLDEN / "histories" / "map_failure.json").read_text())
    text = html_report(GOLDEN / "definitions" / "map_failure.asl.json", history)
    page = tmp_path / "clicks.html"
    page.write_text(text.replace("</body>", _CLICKS), encoding="utf-8")
    dom, stderr = _open(page, tmp_path)
    assert _console(stderr) == []
    assert 'data-details-shown="true"' in dom
    assert 'data-selected-state="state-0"' in dom
    selected = re.search(r'data-selected-count="(\d+)"', dom)
    assert selected is not None and int(selected.group(1)) > 1


def test_a_broken_script_would_be_caught(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>undefinedFunction();</script></body></html>")
    _, stderr = _open(page, tmp_path)
    assert any("undefinedFunction" in line for line in _console(stderr))


#: Records in <body> the most lines any event's Time cell (``+0.000 s``) takes.
_TIME_LINES = """<script>
(function () {
  var most = 0;
  document.querySelectorAll("tr.event td:nth-child(2)").forEach(function (cell) {
    var range = document.createRange();
    range.selectNodeContents(cell);
    most = Math.max(most, range.getClientRects().length);
  });
  document.body.dataset.timeLines = String(most);
})();
</script>
</body>"""


def test_an_events_time_stays_on_one_line(tmp_path: Path) -> None:
    # In a window the width of a laptop's half screen the long summaries squeezed the
    # Time column until "+0.000 s" broke before its unit.
    history = json.loads((GOLDEN / "histories" / "caught.json").read_text())
    text = html_report(GOLDEN / "definitions" / "caught.asl.json", history)
    page = tmp_path / "times.html"
    page.write_text(text.replace("</body>", _TIME_LINES), encoding="utf-8")
    dom, stderr = _open(page, tmp_path)
    assert _console(stderr) == []
    assert 'data-time-lines="1"' in dom
