"""The compiled pre-check (jsonschema-rs) and jsonschema agree on what is valid.

Findings come from jsonschema only when the pre-check calls a document invalid, so a
document the pre-check accepts but jsonschema would not would lose its findings.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apimsync.validate.json_checks import _fast_validator, _validator, json_file_kind
from tests.conftest import CORPUS, REPO


def _documents() -> list[tuple[str, Any]]:
    found = []
    for root in (CORPUS, REPO / "examples"):
        for path in sorted(root.rglob("*.json")):
            relative = path.relative_to(root).as_posix()
            inner = relative[relative.find("api-management") :]
            kind = json_file_kind(inner) if "api-management" in relative else None
            if kind is not None:
                found.append((kind, json.loads(path.read_text(encoding="utf-8-sig"))))
    return found


DOCUMENTS = _documents()


def _agree(kind: str, document: Any) -> None:
    slow_valid = not any(True for _ in _validator(kind).iter_errors(document))
    assert _fast_validator(kind).is_valid(document) == slow_valid, (kind, document)


def test_every_real_document_is_valid_for_both() -> None:
    assert len(DOCUMENTS) > 50
    for kind, document in DOCUMENTS:
        _agree(kind, document)
        assert _fast_validator(kind).is_valid(document)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=6,
)
INTERESTING_TEXT = st.sampled_from(
    ["", "/apis/x", "/apis/", "https", "http", "ftp", "x\n", "/backends/b", "0", "soap"]
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _replaced(document: Any, path: tuple[Any, ...], value: Any, drop: bool) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    if drop and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return copy


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_documents_get_the_same_verdict(data: st.DataObject) -> None:
    kind, document = data.draw(st.sampled_from(DOCUMENTS))
    path = data.draw(st.sampled_from(_paths(document)))
    value = data.draw(JSON_VALUES | INTERESTING_TEXT)
    drop = data.draw(st.booleans())

    _agree(kind, _replaced(document, path, value, drop))


@pytest.mark.parametrize("newline_value", ["/apis/a\n", "/backends/b\n"])
def test_a_trailing_newline_in_a_pattern_value_is_judged_like_jsonschema(
    newline_value: str,
) -> None:
    # Python's re lets "$" match before a final newline; Rust's regex does not. The
    # pre-check may only be stricter: its "invalid" sends the document to jsonschema.
    for kind, document in DOCUMENTS:
        for path in _paths(document):
            if path and isinstance(path[-1], str) and path[-1].endswith("Id"):
                mutated = _replaced(document, path, newline_value, drop=False)
                slow_valid = not any(True for _ in _validator(kind).iter_errors(mutated))
                if _fast_validator(kind).is_valid(mutated):
                    assert slow_valid


def test_a_final_newline_does_not_satisfy_an_anchored_pattern_in_either() -> None:
    document = {"id": "/namedValues/n", "displayName": "name\n", "value": "v"}

    _agree("named-value", document)
    assert not _fast_validator("named-value").is_valid(document)
