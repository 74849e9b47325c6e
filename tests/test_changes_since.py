"""What changed since a commit, read partially: the same answer as reading every file.

A partial plan reads, on both sides of a change, only the files the change needs. The
property: for random histories over a real export and over W(N), the resources a
partial read finds changed (with their new configuration) and deleted are exactly those
a whole read finds. Real git, apimsync's own reader and writer; no instance is needed.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given

from apimsync.changes_since import ChangedState, load_changed_state
from apimsync.errors import InvalidConfiguration
from apimsync.plan.partial import PartialPlanner
from tests.gitrepos import git
from tests.histories import (
    ENVIRONMENT,
    OVERLAID_BACKEND,
    Operation,
    commit_history,
    histories,
    history_settings,
    write_start,
)

EXAMPLES = int(os.environ.get("APIMSYNC_PROPERTY_EXAMPLES", "2"))


def considered(state: ChangedState) -> tuple[dict[str, object], set[str]]:
    planner = PartialPlanner(state.configuration, state.old)
    changed = {key: resource.to_json() for key, resource in planner.changed.items()}
    return changed, set(planner.deleted)


def assert_partial_reads_like_whole(root: Path, start: str) -> ChangedState:
    partial = load_changed_state(root, start, environment=ENVIRONMENT)
    whole = load_changed_state(root, start, environment=ENVIRONMENT, whole=True)
    assert partial.paths == whole.paths
    assert considered(partial) == considered(whole)
    return partial


def start_repository(tmp: Path, source: str) -> tuple[Path, str]:
    root = tmp / "repo"
    write_start(source, root)
    return root, git(root, "rev-parse", "HEAD").strip()


def run_histories(source: str, tmp_path_factory: pytest.TempPathFactory, examples: int) -> None:
    @history_settings(examples)
    @given(history=histories)
    def run(history: list[list[Operation]]) -> None:
        root, start = start_repository(tmp_path_factory.mktemp("history"), source)
        commit_history(root, history)
        assert_partial_reads_like_whole(root, start)

    run()


@pytest.mark.parametrize("source", ["W(30)", pytest.param("apiops:W(30)", marks=pytest.mark.slow)])
def test_random_histories_over_w_n_read_partially_as_whole(
    source: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    run_histories(source, tmp_path_factory, EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize(
    "source",
    [
        "seed-openai-v17",
        "eshop-v15",
        "W(30)",
        "apiops:W(30)",
        "apiops:mifurm-apim",
        "apiops:gore-apiops-demo",
        "apiops:apim-globalpolicy",
    ],
)
def test_many_random_histories_read_partially_as_whole(
    source: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    run_histories(source, tmp_path_factory, 3 * EXAMPLES)


@pytest.fixture
def w30(tmp_path: Path) -> tuple[Path, str]:
    return start_repository(tmp_path, "W(30)")


def test_a_one_policy_change_reads_a_small_part_of_the_tree(w30: tuple[Path, str]) -> None:
    root, start = w30
    policy = sorted((root / "api-management/policies/apis").glob("*/operations/*.xml"))[0]
    policy.write_text(
        policy.read_text().replace("<base />", '<base />\n<set-variable name="x" value="1" />', 1)
    )
    git(root, "commit", "-qam", "one policy")

    partial = assert_partial_reads_like_whole(root, start)
    whole = load_changed_state(root, start, environment=ENVIRONMENT, whole=True)

    assert len(considered(partial)[0]) == 1
    assert len(partial.configuration) < len(whole.configuration) // 4


def test_uncommitted_and_untracked_files_are_part_of_the_change(w30: tuple[Path, str]) -> None:
    root, start = w30
    backend = sorted((root / "api-management/backends").iterdir())[0]
    copy = backend.with_name("untracked-copy")
    shutil.copytree(backend, copy)
    document = json.loads((copy / "configuration.json").read_text())
    document.update(id="/backends/untracked-copy", title="untracked")
    (copy / "configuration.json").write_text(json.dumps(document, indent=2))

    changed, deleted = considered(assert_partial_reads_like_whole(root, start))

    assert set(changed) == {"/backends/untracked-copy"}
    assert deleted == set()


def test_a_deleted_backend_a_kept_policy_names_is_reported(w30: tuple[Path, str]) -> None:
    root, start = w30
    named = next(
        p
        for p in sorted((root / "api-management/backends").iterdir())
        if f'"{p.name}"' in _all_policies(root)
    )
    git(root, "rm", "-q", "-r", named.relative_to(root).as_posix())

    with pytest.raises(InvalidConfiguration) as raised:
        load_changed_state(root, start, environment=ENVIRONMENT)

    assert "unknown-backend" in {f.code for f in raised.value.findings}
    assert all(f.path.startswith("api-management/policies/") for f in raised.value.findings)


def test_a_deleted_resource_the_overlay_still_changes_names_the_overlay(
    w30: tuple[Path, str],
) -> None:
    root, start = w30
    folder = root / "api-management/backends" / OVERLAID_BACKEND.rsplit("/", 1)[1]
    git(root, "rm", "-q", "-r", folder.relative_to(root).as_posix())
    git(root, "commit", "-qm", "deleted")

    for whole in (False, True):
        with pytest.raises(InvalidConfiguration) as raised:
            load_changed_state(root, start, environment=ENVIRONMENT, whole=whole)
        assert {f.path for f in raised.value.findings} == {f"environments/{ENVIRONMENT}.json"}
        assert OVERLAID_BACKEND in str(raised.value)


def _all_policies(root: Path) -> str:
    files = (root / "api-management/policies").rglob("*.xml")
    return "\n".join(p.read_text() for p in files)
