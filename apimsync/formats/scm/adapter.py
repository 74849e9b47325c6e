"""The scm layout behind the layout-neutral entry (:mod:`apimsync.formats.layouts`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from apimsync.environments import Overlay, load_overlay
from apimsync.errors import ModelError
from apimsync.formats.files import WriteResult
from apimsync.formats.layouts import Location, ReadResult, TreeLayout
from apimsync.formats.scm import reader, writer
from apimsync.formats.scm.layout import Layout
from apimsync.model import Configuration


class ScmAdapter:
    def read(self, root: Path, location: Location) -> ReadResult:
        result = reader.read_tree(root)
        return ReadResult(result.configuration, result.layout, result.findings)

    def render(self, configuration: Configuration, layout: TreeLayout) -> dict[str, bytes]:
        return writer.render_tree(configuration, _own(layout))

    def write(self, configuration: Configuration, root: Path, layout: TreeLayout) -> WriteResult:
        return writer.write_tree(configuration, root, _own(layout))

    def empty(self, location: Location) -> TreeLayout:
        return Layout()

    def load_environment(
        self, root: Path, location: Location, name: str, environ: Mapping[str, str]
    ) -> Overlay:
        return load_overlay(root, name, environ)

    def environment_files(self, root: Path, location: Location) -> list[str]:
        return []


def _own(layout: TreeLayout) -> Layout:
    if not isinstance(layout, Layout):
        raise ModelError(f"the scm writer cannot write files read as {layout.location.describe()}")
    return layout


ADAPTER = ScmAdapter()
