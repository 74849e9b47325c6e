"""Layout detection: api-management/ means scm, a folder of *Information.json artifacts
(the folder itself or its single such subfolder) means APIOps; --layout forces one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apimsync.errors import UsageError
from apimsync.formats.layouts import Location, detect_layout, locate_configuration
from tests.apiops_corpus import APIOPS_CORPUS
from tests.conftest import CORPUS


def _artifacts(folder: Path, *names: str) -> Path:
    for name in names or ("echo",):
        api = folder / "apis" / name
        api.mkdir(parents=True)
        (api / "apiInformation.json").write_text(json.dumps({"properties": {"path": name}}))
    return folder


def test_an_scm_export_is_the_scm_layout() -> None:
    assert detect_layout(CORPUS / "eshop-v15") == Location("scm")


def test_a_repository_holding_one_artifact_folder_is_apiops_in_that_folder() -> None:
    found = detect_layout(APIOPS_CORPUS / "gore-apiops-demo")

    assert found == Location("apiops", "apimartifacts", "v7")


def test_the_artifact_folder_itself_is_apiops_at_the_root(tmp_path: Path) -> None:
    _artifacts(tmp_path)

    assert detect_layout(tmp_path) == Location("apiops", "", "v7")


def test_two_artifact_folders_are_ambiguous(tmp_path: Path) -> None:
    _artifacts(tmp_path / "dev")
    _artifacts(tmp_path / "prod")

    with pytest.raises(UsageError, match=r"several APIOps artifact folders \(dev, prod\)"):
        detect_layout(tmp_path)


def test_folders_without_information_files_are_not_artifact_folders(tmp_path: Path) -> None:
    (tmp_path / "docs" / "apis" / "x").mkdir(parents=True)
    (tmp_path / "docs" / "apis" / "x" / "readme.md").write_text("not an artifact")
    _artifacts(tmp_path / ".hidden")

    assert detect_layout(tmp_path) == Location("scm")
    with pytest.raises(UsageError, match="holds no api-management/ folder and no APIOps"):
        locate_configuration(tmp_path)


def test_layout_option_forces_the_layout(tmp_path: Path) -> None:
    _artifacts(tmp_path / "apimartifacts")
    (tmp_path / "api-management").mkdir()

    assert detect_layout(tmp_path).name == "scm"
    assert detect_layout(tmp_path, "apiops") == Location("apiops", "apimartifacts", "v7")
    assert detect_layout(tmp_path / "new", "apiops") == Location("apiops", "apimartifacts", "v7")
    assert detect_layout(tmp_path / "new", "apiops", "cli") == Location(
        "apiops", "apim-artifacts", "cli"
    )


def test_camel_case_folders_are_apiops_cli(tmp_path: Path) -> None:
    _artifacts(tmp_path / "apim-artifacts")
    (tmp_path / "apim-artifacts" / "namedValues").mkdir()

    assert detect_layout(tmp_path) == Location("apiops", "apim-artifacts", "cli")
    with pytest.raises(UsageError, match="would mix two layouts"):
        detect_layout(tmp_path, flavour="v7")
