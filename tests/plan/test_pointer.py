"""JSON pointers: escaping, and ordering by path."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from apimsync.plan import pointer


@given(st.lists(st.text() | st.integers(min_value=0, max_value=99), max_size=5))
def test_join_and_split_are_inverse(parts: list[str | int]) -> None:
    assert pointer.split(pointer.join(parts)) == [str(p) for p in parts]


def test_special_characters_are_escaped() -> None:
    assert pointer.join(["credentials", "a/b~c", 0]) == "/credentials/a~1b~0c/0"


def test_list_indexes_sort_by_number() -> None:
    paths = ["/a/10", "/a/2", "/b", "/a/x"]

    assert sorted(paths, key=pointer.sort_key) == ["/a/2", "/a/10", "/a/x", "/b"]
