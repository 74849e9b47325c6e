"""``apimsync validate --env``: the merged configuration is what is checked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from apimsync.validate.tree import validate_tree
from tests.conftest import REPO

STARTER = REPO / "examples" / "openai-usage"
PROD_VARIABLES = {"AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-00000000beef"}


def run_validate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "AZURE_SUBSCRIPTION_ID"}
    return subprocess.run(
        [sys.executable, "-m", "apimsync", "validate", *args],
        capture_output=True,
        text=True,
        env={**environ, **(env or {})},
        check=False,
    )


@pytest.mark.parametrize("environment", [None, "dev", "prod"])
def test_the_starter_validates_clean_and_strict(environment: str | None) -> None:
    report = validate_tree(STARTER, environment, PROD_VARIABLES)

    assert report.findings == (), [f.render() for f in report.findings]


def test_validate_env_prod_from_the_command_line() -> None:
    result = run_validate("--strict", "--env", "prod", str(STARTER), env=PROD_VARIABLES)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("0 errors, 0 warnings in 31 files")


def test_a_missing_variable_is_one_error_naming_it() -> None:
    result = run_validate("--env", "prod", str(STARTER))

    assert result.returncode == 1
    errors = [line for line in result.stdout.splitlines() if " error " in line]
    assert len(errors) == 1, result.stdout
    assert errors[0].startswith("environments/prod.json:")
    assert "AZURE_SUBSCRIPTION_ID" in errors[0]


def test_an_unknown_environment_is_a_usage_error() -> None:
    result = run_validate("--env", "qa", str(STARTER))

    assert result.returncode == 2
    assert "no environment 'qa'" in result.stderr and "Traceback" not in result.stderr


def test_a_finding_caused_by_the_overlay_points_at_the_overlay(tmp_path: Path) -> None:
    root = tmp_path / "starter"
    for top in ("api-management", "api-management-extras", "environments"):
        shutil.copytree(STARTER / top, root / top)
    overlay = root / "environments" / "dev.json"
    document = json.loads(overlay.read_text())
    document["resources"]["/backends/openaione"]["protocol"] = "ftp"
    overlay.write_text(json.dumps(document, indent=2))
    limits = root / "environments" / "dev" / "openai-usage-limits.xml"
    limits.write_text(limits.read_text().replace('calls="20"', 'calls="many"'))

    report = validate_tree(root, "dev", {})

    found = {(f.path, f.code) for f in report.errors}
    assert found == {
        ("environments/dev.json", "invalid-enum"),
        ("environments/dev/openai-usage-limits.xml", "invalid-attribute-value"),
    }, [f.render() for f in report.findings]
    assert validate_tree(root).errors == []
