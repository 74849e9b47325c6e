"""The six real APIOps folders, end to end against a fresh emulated instance each.

For every folder of ../shared/corpus-apiops, as a user would run apimsync on it:
validate finds no error; deploy (--prune: a new instance has an echo API and products the
folder does not) leaves an instance that plans empty; a pull into the folder changes no
file; the folder converted to the scm layout plans empty against that instance, and so
does the scm tree converted back; each real ``configuration.<env>.yaml`` validates and
plans as ``--env``.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from apimsync.emulator import EmulatorProcess
from apimsync.formats.layouts import read_tree
from apimsync.model import Kind
from apimsync.secrets_env import variable_for
from tests.apiops_corpus import APIOPS_CORPUS, FOLDERS
from tests.apiops_instance import Instance, git, init_repository

SERVICES = tuple(f"corpus{n}" for n in range(len(FOLDERS)))
_fresh = itertools.count()


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(tmp_path_factory.mktemp("emulator"), services=SERVICES) as running:
        yield running


def secret_values(repo: Path) -> dict[str, str]:
    """A value for each secret named value the folder holds without one (the extractor
    cannot read them), as a pipeline supplies them."""
    return {
        variable_for(resource.id): "s3cret-from-the-pipeline"
        for resource in read_tree(repo).configuration.of_kind(Kind.NAMED_VALUE)
        if resource.properties.get("secret") is True
        and "value" not in resource.properties
        and not resource.properties.get("keyVault")
    }


@pytest.mark.slow  # the default run deploys an APIOps folder in test_apiops_deletes.py
@pytest.mark.parametrize("name", FOLDERS)
def test_a_real_folder_deploys_plans_empty_pulls_clean_and_converts_both_ways(
    emulator: EmulatorProcess, name: str, tmp_path: Path
) -> None:
    instance = Instance(emulator, SERVICES[next(_fresh)])
    repo = tmp_path / name
    shutil.copytree(APIOPS_CORPUS / name, repo)
    init_repository(repo)
    secrets = secret_values(repo)

    validated = instance.run("validate", repo)
    instance.run("deploy", "--dir", repo, "--yes", "--prune", **secrets)
    planned = instance.run("plan", "--dir", repo, "--detailed-exitcode")
    instance.run("pull", "--dir", repo)
    status = git(repo, "status", "--porcelain")
    instance.run("convert", repo, tmp_path / "scm", "--to", "scm")
    scm_plan = instance.run("plan", "--dir", tmp_path / "scm", "--detailed-exitcode")
    instance.run("convert", tmp_path / "scm", tmp_path / "back", "--to", "apiops")
    back_plan = instance.run("plan", "--dir", tmp_path / "back", "--detailed-exitcode")

    assert validated.stdout.splitlines()[-1].startswith("0 errors")
    assert "No changes" in planned.stdout
    assert status == "", status
    assert (tmp_path / "scm" / "api-management").is_dir()
    assert "No changes" in scm_plan.stdout and "No changes" in back_plan.stdout
    for environment in sorted(p.name.split(".")[1] for p in repo.glob("configuration.*.yaml")):
        instance.run("validate", repo, "--env", environment)
        instance.run("plan", "--dir", repo, "--env", environment, "--format", "json")
