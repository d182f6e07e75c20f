"""Tests of the thumbnail pipeline with the asl pytest plugin: the Lambda runs for real
(it writes the thumbnail), S3 and DynamoDB are mocked by the MockConfigFile."""

import json
from pathlib import Path

import pytest

from runtime.testing import WorkflowEngine, assert_path, assert_retries, assert_succeeded

HERE = Path(__file__).parent
MACHINE = HERE / "thumbnail_pipeline.asl.json"
UPLOAD = json.loads((HERE / "input.json").read_text())
PATH = [
    "Read upload event",
    "Make thumbnail",
    "Store metadata",
    "Report thumbnail",
    "Thumbnail ready",
]
THUMBNAIL = {
    "path": "out/thumbnails/sunset-128.png",
    "width": 128,
    "height": 96,
    "bytes": 1686,
    "contentType": "image/png",
}


@pytest.fixture
def engine(asl_engine: WorkflowEngine) -> WorkflowEngine:
    asl_engine.functions(HERE / "functions.json")
    asl_engine.mock_config(HERE / "mock_config.json")
    return asl_engine


def test_an_upload_gets_a_thumbnail(engine: WorkflowEngine, tmp_path: Path) -> None:
    execution = engine.run(MACHINE, UPLOAD, test_case="HappyPath")
    assert_succeeded(
        execution, {"image": "s3://photo-uploads/images/sunset.png", "thumbnail": THUMBNAIL}
    )
    assert_path(execution, PATH)
    assert (tmp_path / "out/thumbnails/sunset-128.png").stat().st_size == THUMBNAIL["bytes"]


def test_a_throttled_table_is_retried(engine: WorkflowEngine) -> None:
    execution = engine.run(MACHINE, UPLOAD, test_case="ThrottledThenStored")
    assert_succeeded(execution)
    assert_path(execution, PATH)
    assert_retries(execution, "Store metadata", 2)
