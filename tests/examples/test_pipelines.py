"""The CI templates in examples/pipelines parse and pass their published schemas.

The schemas are check-jsonschema's vendored copies of SchemaStore's GitHub workflow
schema and Microsoft's Azure Pipelines schema, so the check needs no network.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

PIPELINES = REPO / "examples" / "pipelines"
GITHUB = sorted((PIPELINES / "github").glob("*.yml"))
AZURE_DEVOPS = sorted((PIPELINES / "azure-devops").rglob("*.yml"))


@pytest.mark.parametrize("path", GITHUB + AZURE_DEVOPS, ids=lambda p: p.name)
def test_each_template_is_yaml(path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))

    assert isinstance(document, dict) and document


@pytest.mark.parametrize(
    ("schema", "files", "extra"),
    [
        ("vendor.github-workflows", GITHUB, []),
        ("vendor.azure-pipelines", AZURE_DEVOPS, ["--regex-variant", "python"]),
    ],
    ids=["github-actions", "azure-pipelines"],
)
def test_templates_pass_their_schema(schema: str, files: list[Path], extra: list[str]) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            schema,
            *extra,
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        check=False,
    )

    assert len(files) >= 2
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_workflows_sign_in_with_federation_and_keep_no_secret() -> None:
    texts = {p.name: p.read_text(encoding="utf-8") for p in GITHUB + AZURE_DEVOPS}

    assert not any("secrets." in text or "client-secret" in text for text in texts.values())
    assert "id-token: write" in texts["apimsync-deploy.yml"]
    assert (
        "deploy --env" in texts["apimsync-deploy.yml"]
        and "--plan plan.json" in texts["apimsync-deploy.yml"]
    )
    assert "environment: apim-" in (PIPELINES / "azure-devops" / "azure-pipelines.yml").read_text()
