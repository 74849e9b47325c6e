"""The APIOps layout behind the layout-neutral entry (:mod:`apimsync.formats.layouts`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from apimsync.environments import Overlay
from apimsync.errors import ModelError
from apimsync.formats.apiops import reader, writer
from apimsync.formats.apiops.layout import ApiopsLayout, default_escaping, default_styles
from apimsync.formats.apiops.overrides import load_overrides, override_files
from apimsync.formats.files import WriteResult
from apimsync.formats.layouts import Location, ReadResult, TreeLayout
from apimsync.model import Configuration


class ApiopsAdapter:
    def read(self, root: Path, location: Location) -> ReadResult:
        return reader.read_tree(root, location)

    def render(self, configuration: Configuration, layout: TreeLayout) -> dict[str, bytes]:
        return writer.render_tree(configuration, _own(layout))

    def write(self, configuration: Configuration, root: Path, layout: TreeLayout) -> WriteResult:
        return writer.write_tree(configuration, root, _own(layout))

    def empty(self, location: Location) -> TreeLayout:
        return ApiopsLayout(
            location,
            styles=default_styles(location.flavour),
            escaping=default_escaping(location.flavour),
        )

    def load_environment(
        self, root: Path, location: Location, name: str, environ: Mapping[str, str]
    ) -> Overlay:
        return load_overrides(root, location, name, environ)

    def environment_files(self, root: Path, location: Location) -> list[str]:
        return override_files(root, location)


def _own(layout: TreeLayout) -> ApiopsLayout:
    if not isinstance(layout, ApiopsLayout):
        raise ModelError(
            f"the APIOps writer cannot write files read as {layout.location.describe()}"
        )
    return layout


ADAPTER = ApiopsAdapter()
