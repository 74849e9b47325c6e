"""What every export APIM wrote (or that is written in its style) must pass: it validates
without an error, and reading and writing it back changes no byte, also when every unit
is merged into its documents instead of copied."""

from __future__ import annotations

from pathlib import Path

import pytest

from apimsync.formats.scm import writer
from apimsync.formats.scm.reader import read_tree
from apimsync.formats.scm.writer import render_tree, write_tree
from apimsync.validate.tree import validate_files
from tests.conftest import tree_bytes
from tests.exports import extra_exports, known_exports


def _assert_validates_without_errors(root: Path) -> None:
    report = validate_files(root)

    assert [f.render() for f in report.errors] == []


def _assert_round_trips(root: Path, target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = read_tree(root)
    original = {path: source.raw for path, source in result.layout.files.items()}

    write_tree(result.configuration, target, result.layout)
    with monkeypatch.context() as patch:
        patch.setattr(writer, "_unchanged", lambda *args: False)
        merged = render_tree(result.configuration, result.layout)

    assert tree_bytes(target) == original
    assert sorted(p for p in set(merged) | set(original) if merged.get(p) != original.get(p)) == []
    assert read_tree(target).configuration == result.configuration


@pytest.mark.parametrize("root", known_exports())
def test_an_export_validates_without_errors(root: Path) -> None:
    _assert_validates_without_errors(root)


@pytest.mark.parametrize("root", known_exports())
def test_an_export_round_trips_byte_for_byte(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _assert_round_trips(root, tmp_path, monkeypatch)


@pytest.mark.parametrize("root", extra_exports())
def test_an_extra_export_validates_and_round_trips(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opt-in: APIMSYNC_EXTRA_EXPORTS names a folder of more real exports."""
    _assert_validates_without_errors(root)
    _assert_round_trips(root, tmp_path, monkeypatch)
