"""Random histories of commits over a configuration, for property tests of what changed.

A history is a list of commits, each a list of operations on the model (edit, add,
delete and rename backends, edit policies and APIs, add and delete APIs and named
values, move folders, link and unlink products, change the environment overlay), written
with apimsync's own writer and committed with real git. Sources are real exports of the
corpus or W(N).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from apimsync.formats.layouts import Location, detect_layout, empty_layout, read_tree, write_tree
from apimsync.model import Configuration, Kind, Resource, make_resource
from tests.apiops_corpus import APIOPS_CORPUS
from tests.conftest import CORPUS
from tests.gitrepos import git
from tests.reliability.helpers import synthetic
from tests.targets.conftest import NAMED_VALUE_REFERENCE

ENVIRONMENT = "test"
OVERLAID_BACKEND = "/backends/overlaid"
OVERLAID_VALUE = "/namedValues/overlaid"
PINNED = {OVERLAID_BACKEND, OVERLAID_VALUE}

OPERATIONS = (
    "edit-backend",
    "edit-policy",
    "edit-api",
    "add-backend",
    "delete-backend",
    "rename-backend",
    "move-folder",
    "add-api",
    "delete-api",
    "add-named-value",
    "delete-named-value",
    "link-product",
    "unlink-product",
    "edit-overlay",
)
Operation = tuple[str, int, int]
operations = st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 999), st.integers(0, 99999))
histories = st.lists(st.lists(operations, min_size=1, max_size=4), min_size=1, max_size=5)


def history_settings(examples: int) -> settings:
    """Hypothesis settings for histories: each example takes seconds, so no deadline and
    no shrinking (shrinking one takes many minutes; a failure is reported as generated,
    its history printed)."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


APIOPS = "apiops:"
"""A source's prefix for its APIOps form: ``apiops:W(30)``, ``apiops:mifurm-apim`` (a
folder of the APIOps corpus)."""
ARTIFACTS = Location("apiops", "artifacts", "v7")


def start_configuration(source: str) -> Configuration:
    name = source.removeprefix(APIOPS)
    if name.startswith("W("):
        configuration = synthetic(int(name[2:-1]))
    elif source.startswith(APIOPS):
        configuration = read_tree(APIOPS_CORPUS / name).configuration
    else:
        configuration = read_tree(CORPUS / name).configuration
    pinned = [
        make_resource(OVERLAID_BACKEND, {"url": "https://base.example.test", "protocol": "http"}),
        make_resource(OVERLAID_VALUE, {"displayName": "overlaid", "value": "base"}),
    ]
    return with_named_values(configuration.with_resources(*pinned))


def with_named_values(configuration: Configuration) -> Configuration:
    """``configuration`` with a plain named value for each ``{{name}}`` any resource holds
    (policies, backend credentials) that it does not define: the exports keep none."""
    defined = {
        str(r.get("displayName") or r.name).casefold()
        for r in configuration.of_kind(Kind.NAMED_VALUE)
    }
    text = json.dumps([r.to_json() for r in configuration])
    wanted = {
        name.casefold(): name
        for name in NAMED_VALUE_REFERENCE.findall(text)
        if name.casefold() not in defined
    }
    return configuration.with_resources(
        *(
            make_resource(f"/namedValues/{name}", {"displayName": name, "value": "placeholder"})
            for name in wanted.values()
        )
    )


def write_start(source: str, root: Path) -> None:
    name = source.removeprefix(APIOPS)
    if name.startswith("W("):
        location = ARTIFACTS if source.startswith(APIOPS) else Location("scm")
        layout = empty_layout(location)
    else:
        if source.startswith(APIOPS):
            shutil.copytree(APIOPS_CORPUS / name, root)
        else:
            shutil.copytree(CORPUS / name / "api-management", root / "api-management")
        layout = read_tree(root).layout
    write_tree(start_configuration(source), root, layout)
    write_overlay(root, 0)
    git(root.parent, "init", "-q", "-b", "main", str(root))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "start")


def write_overlay(root: Path, salt: int) -> None:
    document = {
        "resources": {
            OVERLAID_BACKEND: {"url": f"https://overlay-{salt}.example.test"},
            OVERLAID_VALUE: {"value": f"overlay-{salt}"},
        }
    }
    folder = root / "environments"
    folder.mkdir(exist_ok=True)
    (folder / f"{ENVIRONMENT}.json").write_text(json.dumps(document, indent=2), encoding="utf-8")


class Editor:
    """Applies generated operations to the files of one commit."""

    def __init__(self, root: Path) -> None:
        self.root = root
        read = read_tree(root, detect_layout(root))
        self.configuration = read.configuration
        self.layout = read.layout
        self.moves: list[int] = []
        self.overlay: int | None = None

    def apply(self, operation: Operation) -> None:
        name, index, salt = operation
        handler: Callable[[int, int], None] = getattr(self, "_" + name.replace("-", "_"))
        handler(index, salt)

    def finish(self) -> None:
        write_tree(self.configuration, self.root, self.layout)
        for index in self.moves:
            self._moved(index)
        if self.overlay is not None:
            write_overlay(self.root, self.overlay)

    # -- operations on the model -----------------------------------------------------

    def _pick(self, kind: Kind, index: int, *, free: bool = False) -> Resource | None:
        found = sorted(
            (r for r in self.configuration.of_kind(kind) if r.id not in PINNED),
            key=lambda r: r.id,
        )
        if free:
            found = [r for r in found if not self._referenced(r)]
        return found[index % len(found)] if found else None

    def _referenced(self, resource: Resource) -> bool:
        """Whether another resource names it: a policy's backend-id or {{named value}},
        a pool's member."""
        text = json.dumps(
            [r.to_json() for r in self.configuration if r.id != resource.id]
        ).casefold()
        name = resource.name.casefold()
        if resource.kind is Kind.BACKEND:
            return f'backend-id=\\"{name}\\"' in text or f'"/backends/{name}"' in text
        names = {name, str(resource.get("displayName", "")).casefold()}
        return any("{{" + n + "}}" in text for n in names if n)

    def _replace(self, resource: Resource, **changes: object) -> None:
        self.configuration = self.configuration.with_resources(resource.with_properties(**changes))

    def _edit_backend(self, index: int, salt: int) -> None:
        backend = self._pick(Kind.BACKEND, index)
        if backend is not None and backend.get("type") != "Pool":
            self._replace(backend, url=f"https://edited-{salt}.example.test")

    def _edit_policy(self, index: int, salt: int) -> None:
        policy = self._pick(Kind.POLICY, index)
        if policy is None or "<inbound>" not in str(policy.get("value")):
            return
        header = (
            f'<set-header name="x-edit-{salt}" exists-action="override">'
            f"<value>{salt}</value></set-header>"
        )
        value = str(policy.get("value")).replace("<inbound>", "<inbound>" + header, 1)
        self._replace(policy, value=value)

    def _edit_api(self, index: int, salt: int) -> None:
        api = self._pick(Kind.API, index)
        if api is not None and ";rev=" not in api.id:
            self._replace(api, description=f"Edited {salt}")

    def _add_backend(self, index: int, salt: int) -> None:
        self.configuration = self.configuration.with_resources(
            make_resource(
                f"/backends/added-{salt}",
                {"url": f"https://added-{salt}.example.test", "protocol": "http"},
            )
        )

    def _delete_backend(self, index: int, salt: int) -> None:
        backend = self._pick(Kind.BACKEND, index, free=True)
        if backend is not None:
            self.configuration = self.configuration.without(backend.id)

    def _rename_backend(self, index: int, salt: int) -> None:
        backend = self._pick(Kind.BACKEND, index, free=True)
        if backend is not None:
            renamed = make_resource(f"/backends/renamed-{salt}", backend.properties)
            self.configuration = self.configuration.without(backend.id).with_resources(renamed)

    def _move_folder(self, index: int, salt: int) -> None:
        self.moves.append(index)

    def _moved(self, index: int) -> None:
        """Move a backend's folder: a new file name, the same resource."""
        backends = self.root / "api-management/backends"  # in an APIOps tree a move renames
        folders = sorted(p for p in backends.glob("*") if p.is_dir())
        if folders:
            folder = folders[index % len(folders)]
            folder.rename(folder.with_name(folder.name + "-moved"))

    def _add_api(self, index: int, salt: int) -> None:
        api_id = f"/apis/added-{salt}"
        self.configuration = self.configuration.with_resources(
            make_resource(
                api_id,
                {"displayName": f"Added {salt}", "path": f"added/{salt}", "protocols": ["https"]},
            ),
            make_resource(
                f"{api_id}/operations/get",
                {"displayName": "Get", "method": "GET", "urlTemplate": "/items"},
            ),
        )

    def _delete_api(self, index: int, salt: int) -> None:
        api = self._pick(Kind.API, index)
        if (
            api is not None
            and ";rev=" not in api.id
            and not self.configuration.revisions(api.id)[1:]
        ):
            self.configuration = self.configuration.without(api.id)

    def _add_named_value(self, index: int, salt: int) -> None:
        self.configuration = self.configuration.with_resources(
            make_resource(
                f"/namedValues/added-{salt}", {"displayName": f"added-{salt}", "value": str(salt)}
            )
        )

    def _delete_named_value(self, index: int, salt: int) -> None:
        named_value = self._pick(Kind.NAMED_VALUE, index, free=True)
        if named_value is not None:
            self.configuration = self.configuration.without(named_value.id)

    def _link_product(self, index: int, salt: int) -> None:
        product = self._pick(Kind.PRODUCT, index)
        api = self._pick(Kind.API, salt)
        if product is None or api is None or ";rev=" in api.id:
            return
        linked = {str(r.get("apiId")).casefold() for r in self.configuration.children(product.id)}
        if api.id.casefold() not in linked:
            link = make_resource(f"{product.id}/apiLinks/{api.name}", {"apiId": api.id})
            self.configuration = self.configuration.with_resources(link)

    def _unlink_product(self, index: int, salt: int) -> None:
        link = self._pick(Kind.PRODUCT_API_LINK, index)
        if link is not None:
            self.configuration = self.configuration.without(link.id)

    def _edit_overlay(self, index: int, salt: int) -> None:
        self.overlay = salt


def commit_history(root: Path, history: list[list[Operation]]) -> None:
    for number, commit in enumerate(history, 1):
        editor = Editor(root)
        for operation in commit:
            editor.apply(operation)
        editor.finish()
        git(root, "add", "-A")
        status = subprocess.run(
            ["git", "diff", "--cached", "--quiet"], cwd=root, check=False
        ).returncode
        if status:
            git(root, "commit", "-q", "-m", f"commit {number}")


def read_at(root: Path, commit: str) -> Configuration:
    scratch = root.parent / f"{root.name}-at-{commit[:8]}"
    git(root, "worktree", "add", "-q", "--detach", str(scratch), commit)
    try:
        return read_tree(scratch).configuration
    finally:
        git(root, "worktree", "remove", "--force", str(scratch))
