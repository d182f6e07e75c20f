"""asl.item_readers: parsing an ItemReader's object into items, with AWS's causes."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asl.errors import ITEM_READER_FAILED, StatesError
from asl.item_readers import (
    MAX_ITEMS_LIMIT,
    body_text,
    inventory_files,
    inventory_items,
    limit_items,
    listed_objects,
    parse_items,
    reader_config,
)


def _assert_fails(cause: str, call: Any, *args: Any) -> None:
    with pytest.raises(StatesError) as raised:
        call(*args)
    assert (raised.value.error, raised.value.cause) == (ITEM_READER_FAILED, cause)


CSV = "Col1,Col2\nValue1,Value2\nValue3,Value4\n"


def test_csv_first_row_is_the_header_and_values_are_strings() -> None:
    config = reader_config({"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"})
    assert parse_items(CSV, config) == [
        {"Col1": "Value1", "Col2": "Value2"},
        {"Col1": "Value3", "Col2": "Value4"},
    ]


def test_csv_given_headers_read_every_row() -> None:
    config = reader_config(
        {"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["A", "B"]}
    )
    assert parse_items("1,2\n3,4", config) == [{"A": "1", "B": "2"}, {"A": "3", "B": "4"}]


@pytest.mark.parametrize(
    ("name", "delimiter"),
    [("COMMA", ","), ("PIPE", "|"), ("SEMICOLON", ";"), ("SPACE", " "), ("TAB", "\t")],
)
def test_csv_delimiters(name: str, delimiter: str) -> None:
    config = reader_config({"InputType": "CSV", "CSVDelimiter": name})
    text = f"a{delimiter}b\n1{delimiter}2\n"
    assert parse_items(text, config) == [{"a": "1", "b": "2"}]


def test_csv_quoted_fields_keep_their_delimiters() -> None:
    config = reader_config({"InputType": "CSV"})
    assert parse_items('a,b\n"x,y",2\n', config) == [{"a": "x,y", "b": "2"}]


def test_csv_duplicate_headers_fail_as_recorded() -> None:
    config = reader_config({"InputType": "CSV"})
    _assert_fails("CSV headers cannot contain duplicates.", parse_items, "a,a\n1,2", config)
    given_ = reader_config(
        {"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["x", "x"]}
    )
    _assert_fails("CSV headers cannot contain duplicates.", parse_items, "1,2", given_)


def test_csv_empty_object_has_no_items() -> None:
    assert parse_items("", reader_config({"InputType": "CSV"})) == []


def test_json_array_items() -> None:
    config = reader_config({"InputType": "JSON"})
    assert parse_items('[{"a": 1}, 2, "x"]', config) == [{"a": 1}, 2, "x"]


def test_json_not_an_array_is_not_iterable() -> None:
    config = reader_config({"InputType": "JSON"})
    cause = "Attempting to map over non-iterable node."
    _assert_fails(cause, parse_items, '{"a": 1}', config)
    _assert_fails(cause, parse_items, "3", config)


def test_json_items_pointer_selects_a_nested_array() -> None:
    config = reader_config({"InputType": "JSON", "ItemsPointer": "/data/items"})
    assert parse_items('{"data": {"items": [1, 2]}}', config) == [1, 2]
    missing = reader_config({"InputType": "JSON", "ItemsPointer": "/nope"})
    _assert_fails("Attempting to map over non-iterable node.", parse_items, "{}", missing)


def test_json_pointer_escapes_and_indexes() -> None:
    config = reader_config({"InputType": "JSON", "ItemsPointer": "/a~1b/0"})
    assert parse_items('{"a/b": [[7, 8]]}', config) == [7, 8]


def test_invalid_json_fails_the_reader() -> None:
    with pytest.raises(StatesError) as raised:
        parse_items("[1,", reader_config({"InputType": "JSON"}))
    assert raised.value.error == ITEM_READER_FAILED


def test_jsonl_one_value_a_line_blank_lines_skipped() -> None:
    config = reader_config({"InputType": "JSONL"})
    assert parse_items('{"a":1}\n\n[2]\n"s"\n', config) == [{"a": 1}, [2], "s"]


def test_body_forms() -> None:
    assert body_text({"Body": "x"}) == "x"
    assert body_text(b"\xef\xbb\xbfabc") == "abc"
    assert body_text(gzip.compress(b"[1]")) == "[1]"
    assert body_text([1, 2]) == "[1, 2]"


def test_unsupported_input_type_is_a_reader_failure_naming_it() -> None:
    with pytest.raises(StatesError) as raised:
        parse_items("x", reader_config({"InputType": "PARQUET"}))
    assert raised.value.error == ITEM_READER_FAILED
    assert "PARQUET" in (raised.value.cause or "")


@pytest.mark.parametrize(
    ("max_items", "expected"),
    [(None, [1, 2, 3, 4]), (0, [1, 2, 3, 4]), (2, [1, 2]), (MAX_ITEMS_LIMIT + 1, [1, 2, 3, 4])],
)
def test_max_items(max_items: int | None, expected: list[int]) -> None:
    assert limit_items([1, 2, 3, 4], max_items) == expected


def test_negative_max_items_fails_as_recorded() -> None:
    _assert_fails("field MaxItems must be positive", limit_items, [1], -1)


def test_list_objects_page() -> None:
    page = {
        "Contents": [{"Key": "a.json", "ETag": '"e1"', "Size": 3}],
        "IsTruncated": True,
        "NextContinuationToken": "t2",
    }
    assert listed_objects(page) == ([{"Key": "a.json", "Etag": '"e1"', "Size": 3}], "t2")
    assert listed_objects({"KeyCount": 0, "IsTruncated": False}) == ([], None)


def test_inventory_manifest_and_data_files() -> None:
    manifest = {
        "sourceBucket": "src",
        "destinationBucket": "arn:aws:s3:::inventory-bucket",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size",
        "files": [{"key": "inv/data/1.csv.gz"}, {"key": "inv/data/2.csv.gz"}],
    }
    bucket, keys, columns = inventory_files(json.dumps(manifest))
    assert (bucket, keys, columns) == (
        "inventory-bucket",
        ["inv/data/1.csv.gz", "inv/data/2.csv.gz"],
        ["Bucket", "Key", "Size"],
    )
    items = inventory_items([gzip.compress(b'"src","a.txt","3"\n'), '"src","b.txt","4"\n'], columns)
    assert items == [
        {"Bucket": "src", "Key": "a.txt", "Size": "3"},
        {"Bucket": "src", "Key": "b.txt", "Size": "4"},
    ]


def test_inventory_manifest_without_files_is_not_iterable() -> None:
    _assert_fails("Attempting to map over non-iterable node.", inventory_files, "{}")


_CONFIGS = st.sampled_from(
    [
        {"InputType": "JSON"},
        {"InputType": "JSON", "ItemsPointer": "/a/0"},
        {"InputType": "JSONL"},
        {"InputType": "CSV"},
        {"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["a", "b"]},
        {"InputType": "CSV", "CSVDelimiter": "TAB"},
    ]
)


@given(st.text(max_size=200), _CONFIGS)
def test_parsing_never_raises_anything_but_states_error(text: str, config: Any) -> None:
    try:
        items = parse_items(text, reader_config(config))
    except StatesError as error:
        assert error.error == ITEM_READER_FAILED
    else:
        assert isinstance(items, list)
