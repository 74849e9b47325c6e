"""``validate --staged``: git's index is validated, partially when the change is small."""

from __future__ import annotations

import json
from pathlib import Path

from apimsync.formats.layouts import (
    Location,
    configuration_paths,
    detect_layout,
    empty_layout,
    write_tree,
)
from apimsync.gitfiles import INDEX, GitFiles
from apimsync.staged import staged_selection, validate_staged
from apimsync.validate.tree import validate_tree
from bench.workload import workload, write_workload
from tests.exports import CONSTRUCTED
from tests.gitrepos import ROUND_ROBIN, break_policy, committed_copy, git


def test_the_index_is_validated_not_the_working_files(tmp_path: Path) -> None:
    repo = committed_copy(tmp_path / "repo")
    break_policy(repo)

    unstaged = validate_staged(repo)
    git(repo, "add", "-A")
    staged = validate_staged(repo)

    assert unstaged.errors == []
    assert [(f.path, f.code) for f in staged.errors] == [(ROUND_ROBIN, "policy-section")]
    assert "forward-request" in staged.errors[0].message


def test_deleting_a_backend_reports_the_policy_that_names_it(tmp_path: Path) -> None:
    repo = committed_copy(tmp_path / "repo")
    git(repo, "rm", "-q", "-r", "api-management/backends/openaithree")

    report = validate_staged(repo)

    assert (ROUND_ROBIN, "unknown-backend") in {(f.path, f.code) for f in report.errors}


def test_a_new_api_on_a_taken_path_is_caught(tmp_path: Path) -> None:
    repo = committed_copy(tmp_path / "repo")
    source = repo / "api-management/apis/open-ai/configuration.json"
    document = json.loads(source.read_text())
    document.update({"id": "/apis/open-ai-copy", "operations": [], "name": "Copy"})
    for key in ("$ref-policy", "$ref-description"):
        document.pop(key)
    copy = repo / "api-management/apis/open-ai-copy/configuration.json"
    copy.parent.mkdir()
    copy.write_text(json.dumps(document, indent=2))
    git(repo, "add", "-A")

    report = validate_staged(repo)

    assert "duplicate-api-path" in {f.code for f in report.errors}


def test_an_overlay_change_validates_the_whole_merged_configuration(tmp_path: Path) -> None:
    repo = committed_copy(tmp_path / "repo")
    overlay = repo / "environments/dev.json"
    document = json.loads(overlay.read_text())
    document["resources"]["/backends/openaione"]["protocol"] = "ftp"
    overlay.write_text(json.dumps(document, indent=2))
    git(repo, "add", "-A")

    assert validate_staged(repo).errors == []
    assert [f.path for f in validate_staged(repo, "dev", {}).errors] == ["environments/dev.json"]


def test_a_small_change_in_a_big_repository_reads_a_small_part(tmp_path: Path) -> None:
    repo = tmp_path / "big"
    write_workload(workload(100), repo)
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "big")
    policies = sorted((repo / "api-management/policies/apis").glob("*.xml"))[:19]
    for path in policies:
        path.write_text(path.read_text().replace("<base />", "<base /> ", 1))
    broken = policies[0]
    broken.write_text(broken.read_text().replace("<base /> ", "<base />\n<forward-request />", 1))
    git(repo, "add", "-A")
    backend = next((repo / "api-management/backends").iterdir())
    git(repo, "rm", "-q", "-r", backend.relative_to(repo).as_posix())

    partial = validate_staged(repo)
    git(repo, "stash", "-q", "--keep-index")
    full = validate_tree(repo)
    git_files = GitFiles.at(repo, "--staged")
    location = detect_layout(repo)
    tops = configuration_paths(repo, location)
    files = git_files.files(INDEX, tops)
    selection = staged_selection(git_files, files, tops, location)

    assert len(files) > 1500
    # the files of the 19 changed APIs (whole units: a unit read with files missing is
    # not the unit the commit holds) and what their policies may name
    assert selection is not None
    assert len(selection.files) < len(files) // 3
    assert {(f.path, f.code) for f in partial.errors} == {(f.path, f.code) for f in full.errors}
    assert {f.code for f in partial.errors} >= {"policy-section", "unknown-backend"}


def test_a_small_change_is_validated_with_the_overlay_applied(tmp_path: Path) -> None:
    repo = committed_copy(tmp_path / "repo")
    limits = repo / "api-management-extras/policyFragments/openai-usage-limits.xml"
    limits.write_text(limits.read_text().replace('calls="60"', 'calls="90"'))
    pool = repo / "api-management/backends/openai-pool/configuration.json"
    document = json.loads(pool.read_text())
    document["pool"]["services"][0]["priority"] = 500
    pool.write_text(json.dumps(document, indent=2))
    git(repo, "add", "-A")

    base = validate_staged(repo)
    dev = validate_staged(repo, "dev", {})

    assert [f.path for f in base.errors] == [
        "api-management/backends/openai-pool/configuration.json"
    ]
    assert dev.errors == []  # the dev overlay replaces the pool's members


def test_files_referenced_with_windows_separators_are_found(tmp_path: Path) -> None:
    """The Inventory API of this export names its texts and a policy with backslashes."""
    repo = committed_copy(tmp_path / "repo", CONSTRUCTED / "contoso-revisions-v17")
    api = repo / "api-management/apis/Inventory_API_v1_2[CurreF3ZQ8M/configuration.json"
    api.write_text(api.read_text().replace('"name": "Get stock"', '"name": "Stock"'))
    git(repo, "add", "-A")

    assert validate_staged(repo).errors == []  # its backslashed references resolve

    git(repo, "commit", "-q", "-m", "renamed")
    policy = next((repo / "api-management/policies/apis").glob("Inventory_API_v1_2*/operations/*"))
    policy.write_text(policy.read_text().replace("<base />", "<base />\n<forward-request />", 1))
    git(repo, "add", "-A")

    assert {f.code for f in validate_staged(repo).errors} == {"policy-section"}


def test_a_small_change_in_a_big_apiops_folder_reads_a_small_part(tmp_path: Path) -> None:
    """The errors of a full validation (a broken operation policy, a deleted backend that
    kept policies name), and its warning on a kept product still linking a deleted API."""
    repo = tmp_path / "big"
    location = Location("apiops", "artifacts", "v7")
    write_tree(workload(60), repo, empty_layout(location))
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "big")
    apis = repo / "artifacts/apis"
    policy = sorted(apis.glob("*/operations/*/policy.xml"))[0]
    policy.write_text(policy.read_text().replace("<base />", "<base />\n<forward-request />", 1))
    named = sorted(repo.glob("artifacts/backends/*"))
    backend = next(b for b in named if _named_by_a_policy(apis, b.name))
    linked = next(repo.glob("artifacts/products/*/apis/*")).name
    git(repo, "rm", "-q", "-r", f"artifacts/backends/{backend.name}", f"artifacts/apis/{linked}")
    git(repo, "add", "-A")

    partial = validate_staged(repo)
    full = validate_tree(repo)
    git_files = GitFiles.at(repo, "--staged")
    tops = configuration_paths(repo, detect_layout(repo))
    files = git_files.files(INDEX, tops)
    selection = staged_selection(git_files, files, tops, detect_layout(repo))

    assert selection is not None
    assert len(selection.files) < len(files) // 2
    assert {(f.path, f.code) for f in partial.errors} == {(f.path, f.code) for f in full.errors}
    assert set(partial.findings) <= set(full.findings)
    assert "unknown-link" in {f.code for f in partial.findings if "/products/" in f.path}
    assert any(f.path == policy.relative_to(repo).as_posix() for f in partial.errors)


def _named_by_a_policy(apis: Path, backend: str) -> bool:
    return any(f'backend-id="{backend}"' in p.read_text() for p in apis.glob("**/policy.xml"))
