"""``plan`` and ``deploy --changed-since REF`` end to end: real git, the installed command,
the emulator over HTTPS and its request counters.

Each test commits the openai-usage example in a new repository, deploys it (``--env
dev``) to a fresh instance, changes the files in commits of its own, and deploys or
plans only what changed since the first commit.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from apimsync.emulator import EmulatorProcess
from apimsync.emulator.counters import RequestCounters
from apimsync.model import Configuration, make_resource
from apimsync.plan import compute_plan
from apimsync.targets.connection import Target
from apimsync.targets.sdk import apply_plan
from tests.clirun import run_apimsync
from tests.gitrepos import ROUND_ROBIN, committed_copy, git

SERVICES = tuple(f"inc{n}" for n in range(24))
_fresh = itertools.count()
POLICY_FILE = ROUND_ROBIN
ENV = ("--env", "dev")


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(tmp_path_factory.mktemp("emulator"), services=SERVICES) as running:
        yield running


class Deployed:
    """A repository of the example, deployed to its own instance at commit ``start``."""

    def __init__(self, emulator: EmulatorProcess, root: Path) -> None:
        self.service = SERVICES[next(_fresh)]
        self.root = committed_copy(root)
        self.env = {
            **os.environ,
            "APIMSYNC_CONNECTION": str(emulator.data_dir / "connection.json"),
            "APIMSYNC_SERVICE": self.service,
            "CI": "true",
        }
        self.counters = RequestCounters(emulator.connection)
        connection = emulator.connection
        self.target = Target(
            connection.subscription_id,
            connection.resource_group,
            self.service,
            connection.endpoint,
            connection.ca_bundle,
            connection.token,
        )
        self.run("deploy", "--yes", *ENV)
        self.start = self.head()

    def run(self, *args: str, expect: int | None = 0) -> subprocess.CompletedProcess[str]:
        directory = ("--dir", str(self.root))
        return run_apimsync(
            args[0], *directory, *args[1:], env=self.env, expect=expect, timeout=300
        )

    def counted(self, *args: str, expect: int | None = 0) -> tuple[str, int, int]:
        """Output, requests and writes of one run."""
        self.counters.reset()
        result = self.run(*args, expect=expect)
        requests, writes = self.counters.totals()
        return result.stdout + result.stderr, requests, writes

    def head(self) -> str:
        return git(self.root, "rev-parse", "HEAD").strip()

    def commit(self, message: str) -> str:
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "-m", message)
        return self.head()

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.root / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, (relative, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def full_plan(self, *extra: str) -> dict[str, object]:
        result = self.run("plan", "--format", "json", *ENV, *extra)
        document: dict[str, object] = json.loads(result.stdout)
        return document

    def put_live(self, resource_id: str, properties: dict[str, object]) -> None:
        """Write one resource on the instance, outside the files."""
        plan = compute_plan(
            Configuration([make_resource(resource_id, properties)]), Configuration()
        )
        assert apply_plan(self.target, plan).ok


@pytest.fixture
def deployed(emulator: EmulatorProcess, tmp_path: Path) -> Deployed:
    return Deployed(emulator, tmp_path / "repo")


def changed_ids(document: dict[str, object]) -> list[tuple[str, str]]:
    changes = document["changes"]
    assert isinstance(changes, list)
    return [(c["action"], c["id"]) for c in changes]


def add_header(deployed: Deployed, name: str) -> None:
    deployed.edit(
        POLICY_FILE,
        "</inbound>",
        f'\t<set-header name="{name}" exists-action="override"><value>1</value>'
        "</set-header>\n\t</inbound>",
    )


# -- one change ------------------------------------------------------------------------


def test_one_changed_operation_policy_is_one_read_and_one_write(deployed: Deployed) -> None:
    add_header(deployed, "x-one")
    deployed.commit("one policy")

    shown, plan_requests, _ = deployed.counted(
        "plan", *ENV, "--changed-since", deployed.start, "--detailed-exitcode", expect=2
    )
    _, requests, writes = deployed.counted(
        "deploy", *ENV, "--changed-since", deployed.start, "--yes"
    )

    assert "Partial plan: only the resources the files changed since" in shown
    assert deployed.start[:12] in shown and "drift" in shown
    assert "~ /apis/open-ai/operations/chat-completions-round-robin/policies/policy" in shown
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in shown
    assert plan_requests == 1
    assert (requests, writes) == (2, 1)
    assert changed_ids(deployed.full_plan()) == []


def test_nothing_changed_is_no_request(deployed: Deployed) -> None:
    shown, requests, writes = deployed.counted(
        "deploy", *ENV, "--changed-since", deployed.start, "--yes"
    )

    assert "No changes." in shown
    assert (requests, writes) == (0, 0)


# -- several commits -------------------------------------------------------------------


def test_every_change_since_the_commit_is_deployed_not_just_the_last_commit(
    deployed: Deployed,
) -> None:
    deployed.edit(
        "api-management/backends/openaithree/configuration.json",
        "https://openaithree.openai.azure.com/openai",
        "https://openaithree-moved.openai.azure.com/openai",
    )
    add_header(deployed, "x-first")
    deployed.commit("first")
    shutil.copy(
        deployed.root / "api-management-extras/namedValues/entra-tenant-id.json",
        deployed.root / "api-management-extras/namedValues/region.json",
    )
    deployed.edit(
        "api-management-extras/namedValues/region.json",
        '"/namedValues/entra-tenant-id"',
        '"/namedValues/region"',
    )
    deployed.edit("api-management-extras/namedValues/region.json", '"entra-tenant-id"', '"region"')
    deployed.commit("second")
    deployed.edit(
        "environments/dev.json",
        "https://openai-dev-two.openai.azure.com/openai",
        "https://openai-dev-2.openai.azure.com/openai",
    )
    deployed.commit("third")
    deployed.edit(
        "api-management/policies/products/openai-apps.xml",
        "\t</inbound>",
        '\t\t<set-header name="x-app" exists-action="override"><value>1</value></set-header>\n'
        "\t</inbound>",
    )  # not committed: the working tree is what is deployed

    shown, requests, writes = deployed.counted(
        "deploy", *ENV, "--changed-since", deployed.start, "--yes"
    )

    touched = {
        "/backends/openaithree",
        "/apis/open-ai/operations/chat-completions-round-robin/policies/policy",
        "/namedValues/region",
        "/backends/openaitwo",
        "/products/openai-apps/policies/policy",
    }
    assert all(resource_id in shown for resource_id in touched), shown
    assert writes == len(touched)
    assert requests <= 3 * len(touched)
    assert changed_ids(deployed.full_plan()) == []


def test_plan_of_a_ref_since_another(deployed: Deployed) -> None:
    add_header(deployed, "x-ref")
    first = deployed.commit("first")
    deployed.edit("api-management/backends/openaithree/configuration.json", "West Europe", "Sweden")
    deployed.commit("second")

    result = deployed.run(
        "plan", *ENV, "--format", "json", "--changed-since", deployed.start, "--ref", first
    )

    document = json.loads(result.stdout)
    assert changed_ids(document) == [
        ("update", "/apis/open-ai/operations/chat-completions-round-robin/policies/policy")
    ]
    assert document["partial"] == {"since": deployed.start, "commit": deployed.start}


# -- deletes ---------------------------------------------------------------------------


def test_prune_deletes_what_the_files_deleted_and_nothing_else(deployed: Deployed) -> None:
    shutil.rmtree(deployed.root / "api-management/backends/openaifour")
    shutil.rmtree(deployed.root / "api-management/products/openai-developers")
    deployed.commit("delete a backend and a product")
    deployed.put_live(
        "/backends/made-by-hand", {"url": "https://hand.example.test", "protocol": "http"}
    )

    kept = deployed.run("plan", *ENV, "--format", "json", "--changed-since", deployed.start)
    refused = deployed.run(
        "deploy",
        *ENV,
        "--changed-since",
        deployed.start,
        "--prune",
        "--max-deletes",
        "1",
        "--yes",
        expect=2,
    )
    deployed.run("deploy", *ENV, "--changed-since", deployed.start, "--prune", "--yes")

    listed = json.loads(kept.stdout)
    assert changed_ids(listed) == []
    assert {"/backends/openaifour", "/products/openai-developers"} <= set(listed["unmanaged"])
    assert "more than --max-deletes 1" in refused.stderr
    after = changed_ids(deployed.full_plan("--prune"))
    assert ("delete", "/backends/made-by-hand") in after  # still there: not the files' delete
    assert not {"/backends/openaifour", "/products/openai-developers"} & {i for _, i in after}


# -- drift, saved plans ----------------------------------------------------------------


def test_a_partial_plan_does_not_see_drift_outside_what_changed(deployed: Deployed) -> None:
    add_header(deployed, "x-drift")
    deployed.commit("policy")
    deployed.put_live(
        "/backends/openaithree",
        {"url": "https://changed-on-the-portal.example.test", "protocol": "http"},
    )

    partial = deployed.run("plan", *ENV, "--format", "json", "--changed-since", deployed.start)
    full = deployed.full_plan()

    assert changed_ids(json.loads(partial.stdout)) == [
        ("update", "/apis/open-ai/operations/chat-completions-round-robin/policies/policy")
    ]
    assert ("update", "/backends/openaithree") in changed_ids(full)


def test_a_saved_partial_plan_records_the_commit_and_refuses_when_stale(
    deployed: Deployed, tmp_path: Path
) -> None:
    add_header(deployed, "x-saved")
    deployed.commit("policy")
    saved = tmp_path / "plan.json"

    deployed.run("plan", *ENV, "--changed-since", "HEAD~1", "--out", str(saved))
    document = json.loads(saved.read_text(encoding="utf-8"))
    deployed.run("deploy", *ENV, "--plan", str(saved), "--yes")
    again = deployed.run("deploy", *ENV, "--plan", str(saved), "--yes", expect=2)

    assert document["changed_since"] == {"since": "HEAD~1", "commit": deployed.start}
    assert "stale plan" in again.stderr
    assert changed_ids(deployed.full_plan()) == []


# -- refusals --------------------------------------------------------------------------


def test_an_owner_missing_on_the_instance_is_refused_before_any_write(
    deployed: Deployed,
) -> None:
    deployed.edit(
        "api-management/apis/open-ai/configuration.json",
        '"name": "Embeddings"',
        '"name": "Embeddings (renamed)"',
    )
    deployed.commit("rename an operation")
    deployed.counters.reset()
    # the API disappears from the instance: it no longer holds what the commit held
    apply_plan(
        deployed.target,
        compute_plan(
            Configuration(),
            Configuration([make_resource("/apis/open-ai", {"displayName": "x", "path": "x"})]),
            prune=True,
        ),
    )

    shown, _, writes = deployed.counted(
        "deploy", *ENV, "--changed-since", deployed.start, "--yes", expect=2
    )

    assert "belongs to '/apis/open-ai'" in shown
    assert "plan without --changed-since" in shown
    assert writes == 0


@pytest.mark.parametrize(
    ("extra", "phrase"),
    [
        (("--via", "git"), "cannot be used with --via git"),
        (("--plan", "missing.json"), "cannot be used with --changed-since"),
    ],
)
def test_options_that_cannot_go_together_are_refused(
    deployed: Deployed, extra: tuple[str, ...], phrase: str
) -> None:
    args = ("deploy", "--changed-since", deployed.start, "--yes", *extra)
    result = deployed.run(*args, expect=2)
    assert phrase in result.stderr


def test_an_unknown_commit_is_one_clear_error(deployed: Deployed) -> None:
    result = deployed.run("plan", *ENV, "--changed-since", "no-such-tag", expect=2)
    assert "cannot read git ref 'no-such-tag'" in result.stderr


def test_a_folder_outside_git_is_one_clear_error(deployed: Deployed, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    shutil.copytree(deployed.root / "api-management", outside / "api-management")
    result = subprocess.run(
        [sys.executable, "-m", "apimsync", "plan", "--dir", str(outside), "--changed-since", "x"],
        capture_output=True,
        text=True,
        env={**deployed.env, "GIT_CEILING_DIRECTORIES": str(tmp_path)},
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "is not inside a git repository, so --changed-since cannot be used" in result.stderr
