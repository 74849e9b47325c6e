"""deploy through a throttling, flaky instance: it converges and says how it got there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from apimsync.emulator import EmulatorProcess
from tests.commands.test_sync import Instance, workdir
from tests.conftest import CORPUS

pytestmark = pytest.mark.slow  # opt-in: pytest -m slow (CI runs it)

FAULTS = ("429:0.2", "503:0.05", "conflict:0.1")


def test_a_full_deploy_of_the_largest_export_converges_despite_faults(tmp_path: Path) -> None:
    with EmulatorProcess(tmp_path / "emulator", faults=FAULTS, seed=7) as emulator:
        instance = Instance(emulator, "apim-emulator")
        repo = workdir(tmp_path, CORPUS / "eshop-v15")

        deploy = instance.run("deploy", "--dir", repo, "--yes", "--verbose", expect=None)
        if deploy.returncode != 0:  # a change out of retries: a re-run converges
            deploy = instance.run("deploy", "--dir", repo, "--yes", "--verbose")
        again = instance.run("plan", "--dir", repo, "--detailed-exitcode", expect=None)

    retries = re.search(r"(\d+) retr(y|ies)\)", deploy.stdout)
    assert retries and int(retries.group(1)) > 0, deploy.stdout
    assert "retry:" in deploy.stderr  # --verbose shows each retry
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No changes" in again.stdout


def test_plan_verbose_shows_each_retry_of_a_read(tmp_path: Path) -> None:
    with EmulatorProcess(tmp_path / "emulator", faults=("503:0.4",), seed=11) as emulator:
        instance = Instance(emulator, "apim-emulator")
        plan = instance.run("plan", "--dir", CORPUS / "blank-v14", "-v")

    retries = [line for line in plan.stderr.splitlines() if line.startswith("retry: ")]
    assert retries and all("503" in line for line in retries), plan.stderr
    assert any("the list of" in line for line in retries)
