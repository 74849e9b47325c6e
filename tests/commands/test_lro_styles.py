"""apimsync completes a deploy however the service answers its long-running writes.

Recorded at api-version 2022-08-01, named value PUT/PATCH, API import and schema PUT
answered ``202`` with a status link; a newer log shows a named value PUT answering ``201``
with its body; the 2024-05-01 description declares ``200``/``201`` (catalogue §1.3). The
emulator answers each way (``--lro-style``); the default, ``recorded``, runs in every
other test.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from apimsync.emulator import EmulatorProcess
from tests.conftest import CORPUS, REPO, one_export_by_default
from tests.reliability.helpers import Cli

SOURCES = (REPO / "examples" / "openai-usage", CORPUS / "eshop-v15")  # named values; schemas


@pytest.fixture(scope="module", params=["async", "described"])
def emulator(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmulatorProcess]:
    folder = tmp_path_factory.mktemp(f"emulator-{request.param}")
    services = tuple(source.name for source in SOURCES)
    with EmulatorProcess(folder, services=services, lro_style=request.param) as running:
        yield running


@pytest.mark.parametrize("source", one_export_by_default(SOURCES, lambda source: source.name))
def test_deploy_converges_whichever_way_long_running_writes_answer(
    emulator: EmulatorProcess, source: Path, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    for top in ("api-management", "api-management-extras"):
        if (source / top).is_dir():
            shutil.copytree(source / top, repo / top)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    cli = Cli(emulator.data_dir / "connection.json", source.name)
    env_args = ("--env", "dev") if (source / "environments").is_dir() else ()
    if env_args:
        shutil.copytree(source / "environments", repo / "environments")

    cli.run("deploy", "--dir", repo, "--yes", "--prune", *env_args)
    again = cli.run("plan", "--dir", repo, "--prune", "--detailed-exitcode", *env_args)

    assert "No changes" in again.stdout
