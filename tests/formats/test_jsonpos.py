"""Positions of JSON values and keys, and JSON syntax errors with positions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apimsync.formats.jsonpos import (
    JsonSyntaxError,
    json_pointer,
    json_positions,
    locate_json,
    parse_json,
)
from tests.conftest import CORPUS

NESTED = "\n".join(
    [
        "{",
        '  "id": "/apis/a",',
        '  "operations": [',
        "    {",
        '      "method": "GET",',
        '      "responses": [200, {"codes": [1, [true, null]]}]',
        "    }",
        "  ],",
        '  "empty": {},',
        '  "none": []',
        "}",
    ]
)


def all_pointers(value: Any, pointer: str = "") -> Iterator[tuple[str, Any]]:
    yield pointer, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from all_pointers(item, pointer + json_pointer([key]))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from all_pointers(item, f"{pointer}/{index}")


def line_starts(text: str) -> list[int]:
    return [0] + [index + 1 for index, char in enumerate(text) if char == "\n"]


def value_at(text: str, starts: list[int], line: int, column: int) -> Any:
    return json.JSONDecoder().raw_decode(text, starts[line - 1] + column - 1)[0]


def assert_positions_match(text: str) -> None:
    document = json.loads(text)
    positions = json_positions(text)
    expected = dict(all_pointers(document))
    starts = line_starts(text)
    assert set(positions) == set(expected)
    for pointer, value in expected.items():
        assert value_at(text, starts, *positions[pointer]) == value, pointer


def test_nested_objects_and_arrays() -> None:
    assert json_positions(NESTED) == {
        "": (1, 1),
        "/id": (2, 9),
        "/operations": (3, 17),
        "/operations/0": (4, 5),
        "/operations/0/method": (5, 17),
        "/operations/0/responses": (6, 20),
        "/operations/0/responses/0": (6, 21),
        "/operations/0/responses/1": (6, 26),
        "/operations/0/responses/1/codes": (6, 36),
        "/operations/0/responses/1/codes/0": (6, 37),
        "/operations/0/responses/1/codes/1": (6, 40),
        "/operations/0/responses/1/codes/1/0": (6, 41),
        "/operations/0/responses/1/codes/1/1": (6, 47),
        "/empty": (9, 12),
        "/none": (10, 11),
    }


def test_key_positions() -> None:
    keys = locate_json(NESTED).keys
    assert keys["/id"] == (2, 3)
    assert keys["/operations/0/method"] == (5, 7)
    assert keys["/operations/0/responses/1/codes"] == (6, 27)
    assert "/operations/0" not in keys


def test_crlf_counts_as_one_line_break() -> None:
    crlf = NESTED.replace("\n", "\r\n")
    assert json_positions(crlf) == json_positions(NESTED)
    assert locate_json(crlf).keys == locate_json(NESTED).keys


def test_strings_with_escaped_quotes_and_braces() -> None:
    text = '{"a\\"{": "x\\"}]\\\\", "b": ["[{\\"", {"c": "}"}], "d": 1}'
    positions = json_positions(text)
    assert positions['/a"{'] == (1, 10)
    assert positions["/b"] == (1, 26)
    assert positions["/b/1"] == (1, 35)
    assert positions["/b/1/c"] == (1, 41)
    assert positions["/d"] == (1, 53)
    assert_positions_match(text)


def test_pointer_escaping_of_slash_and_tilde() -> None:
    text = '{"a/b": {"~c": 1}, "": 2}'
    positions = json_positions(text)
    assert positions["/a~1b/~0c"] == (1, 16)
    assert positions["/"] == (1, 24)
    assert json_pointer(["a/b", "~c", 0]) == "/a~1b/~0c/0"


def test_unicode_columns_count_characters() -> None:
    text = '{"é": "ü", "x": 1}'
    assert json_positions(text)["/x"] == (1, 17)


def test_scalar_document() -> None:
    assert json_positions('  \n  "text"') == {"": (2, 3)}


def test_repeated_key_takes_the_last_like_json_loads() -> None:
    assert json_positions('{"a": 1, "a": 2}')["/a"] == (1, 15)


def test_lookup_falls_back_to_the_nearest_ancestor() -> None:
    positions = locate_json(NESTED)
    assert positions.value("/operations/0/nothing/here") == (4, 5)
    assert positions.key("/operations/0") == (4, 5)
    assert positions.value("/missing") == (1, 1)


def test_invalid_text_does_not_raise() -> None:
    positions = json_positions('{"a": [1, 2')
    assert positions["/a/1"] == (1, 11)


def test_parse_json_returns_the_value() -> None:
    assert parse_json('{"a": [1, null]}') == {"a": [1, None]}


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ('{\n  "a": 1,\n}', 3, 1),
        ('{\r\n  "a": 1,\r\n  "b": [1,]\r\n}', 3, 11),
        ('{"a": 1', 1, 8),
        ("", 1, 1),
        ('{"a":\n  NaN}', 2, 3),
        ("[1, -Infinity]", 1, 5),
    ],
)
def test_parse_json_reports_line_and_column(text: str, line: int, column: int) -> None:
    with pytest.raises(JsonSyntaxError) as caught:
        parse_json(text)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert caught.value.message


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=25,
)


@given(json_values, st.sampled_from([None, 0, 2]), st.booleans())
def test_every_position_starts_its_value(value: Any, indent: int | None, crlf: bool) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    if crlf:
        text = text.replace("\n", "\r\n")
    assert_positions_match(text)


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*/api-management/**/*.json"))


def test_corpus_is_present() -> None:
    assert len(corpus_files()) > 100


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.relative_to(CORPUS).as_posix())
def test_corpus_positions(path: Path) -> None:
    assert_positions_match(path.read_bytes().decode("utf-8"))
