"""Draw the README's picture of workflow coverage (``docs/coverage/batch_map_retry.png``):

    PYTHONPATH=. python docs/coverage/heatmap.py

The batch import example runs once, as its test does, and its coverage is drawn as the
``--asl-cov-report`` report draws it, to PNG.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from runtime.testing import WorkflowEngine
from runtime.testing.coverage import SessionCoverage
from visualizer.layout import layout

HERE = Path(__file__).parent
EXAMPLE = HERE.parent.parent / "examples" / "batch_map_retry"


def main() -> None:
    """Run the example, count it, write the picture."""
    definition = EXAMPLE / "batch_map_retry.asl.json"
    batch = json.loads((EXAMPLE / "input.json").read_text())
    coverage = SessionCoverage()
    engine = WorkflowEngine()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)  # the handlers write under out/ here
        engine.functions(EXAMPLE / "functions.json")
        execution = engine.run(definition, batch, state_machine_name="batch_map_retry")
        engine.close()
    coverage.add("batch_map_retry", definition, execution.history_json())
    machine = coverage.machines["batch_map_retry"]
    (HERE / "batch_map_retry.png").write_bytes(layout(machine.heat_map(), "png"))


if __name__ == "__main__":
    main()
