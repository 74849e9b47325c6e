"""Shared pieces of the reliability tests: the command line, W(N), the emulator's
counters, the live state and the figures each test reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from apimsync.formats.scm.writer import write_tree
from apimsync.model import GLOBAL_POLICY_ID, Configuration, Kind, Resource, make_resource
from apimsync.targets.connection import Target, read_connection_file
from apimsync.targets.sdk import read_instance
from tests.clirun import run_apimsync

REPO = Path(__file__).resolve().parents[2]

FIGURES: list[tuple[str, str]] = []
"""(test, text) of every figure reported in this process; conftest hands each to its
test's report, under :data:`FIGURE_PROPERTY`."""
FIGURE_PROPERTY = "apimsync-figure"


def figure(name: str, text: str) -> str:
    """Report a figure: printed (``-rA`` shows it) and kept for the session summary."""
    FIGURES.append((name, text))
    print(f"{name}: {text}")
    return text


# -- W(N) ------------------------------------------------------------------------------


def synthetic(apis: int) -> Configuration:
    """W(``apis``), the benchmark's instance (``bench/workload.py``; a small equivalent
    here if that cannot be imported)."""
    try:
        from bench.workload import workload
    except ImportError:
        return _small_workload(apis)
    configuration: Configuration = workload(apis)
    return configuration


def write_synthetic(apis: int, root: Path) -> Configuration:
    configuration = synthetic(apis)
    write_tree(configuration, root)
    return configuration


_POLICY = (
    '<policies>\n\t<inbound>\n\t\t<base />\n\t\t<set-backend-service backend-id="{backend}" />'
    '\n\t\t<set-header name="x-key" exists-action="override">\n\t\t\t<value>{{{{{value}}}}}'
    "</value>\n\t\t</set-header>\n\t</inbound>\n\t<backend>\n\t\t<base />\n\t</backend>\n"
    "\t<outbound>\n\t\t<base />\n\t</outbound>\n\t<on-error>\n\t\t<base />\n\t</on-error>\n"
    "</policies>\n"
)


def _small_workload(apis: int) -> Configuration:
    count = max(1, apis)
    backends = [f"backend-{k:05d}" for k in range(max(1, count // 5))]
    values = [f"nv-{k:05d}" for k in range(max(1, count // 5))]
    resources: list[Resource] = [
        make_resource(f"/backends/{b}", {"url": f"https://{b}.example.test", "protocol": "http"})
        for b in backends
    ]
    resources += [
        make_resource(f"/namedValues/{v}", {"displayName": v, "value": f"value-{v}"})
        for v in values
    ]
    resources += [
        make_resource(f"/groups/team-{g}", {"displayName": f"Team {g}", "type": "custom"})
        for g in range(3)
    ]
    for i in range(count):
        api = f"/apis/api-{i:05d}"
        policy = _POLICY.format(backend=backends[i % len(backends)], value=values[i % len(values)])
        resources.append(
            make_resource(
                api, {"displayName": f"API {i}", "path": f"w/{i}", "protocols": ["https"]}
            )
        )
        resources.append(make_resource(f"{api}/policies/policy", {"value": policy}))
        for j in range(10):
            operation = f"{api}/operations/op-{j:02d}"
            resources.append(
                make_resource(
                    operation, {"displayName": f"op {j}", "method": "GET", "urlTemplate": f"/{j}"}
                )
            )
            if j % 2 == 0:
                resources.append(make_resource(f"{operation}/policies/policy", {"value": policy}))
    for p in range(count // 10):
        product = f"/products/product-{p:04d}"
        resources.append(make_resource(product, {"displayName": f"Product {p}"}))
        resources += [
            make_resource(f"{product}/apiLinks/api-{a:05d}", {"apiId": f"/apis/api-{a:05d}"})
            for a in range(p * 10, p * 10 + 10)
        ]
    return Configuration(resources)


# -- the emulator ----------------------------------------------------------------------


def stored(data_dir: Path, service: str) -> dict[str, Any]:
    """Service-relative id -> properties of every resource the emulator's store holds for
    ``service``, read from its SQLite file (an oracle that does not go through the API)."""
    import sqlite3

    uri = (data_dir / "state.sqlite3").resolve().as_uri() + "?mode=ro"
    database = sqlite3.connect(uri, uri=True, timeout=30)
    try:
        rows = database.execute(
            "SELECT kind, path, props FROM resources WHERE service = ?", (service,)
        ).fetchall()
    finally:
        database.close()
    found = {
        "/" + path: json.loads(props)
        for kind, path, props in rows
        if kind not in _NOT_MODELLED and not path.startswith("tenant/")
    }
    # The store keys an API by its revision; /apis/x is the current one.
    current = {
        resource_id: resource_id.split(";rev=", 1)[0]
        for resource_id, props in found.items()
        if ";rev=" in resource_id and resource_id.count("/") == 2 and props.get("isCurrent")
    }
    return {_current_id(resource_id, current): props for resource_id, props in found.items()}


def _current_id(resource_id: str, current: Mapping[str, str]) -> str:
    head = "/".join(resource_id.split("/")[:3])
    return current[head] + resource_id[len(head) :] if head in current else resource_id


_NOT_MODELLED = frozenset({"tenantAccess", "user", "groupUser", "subscription"})


NEW_INSTANCE_CONTENT = ("/apis/echo-api", "/products/starter", "/products/unlimited")
"""What a new instance holds besides built-in groups and the global policy: echo-api and
the two starter products, with their operations, policies and links (catalogue §3.5)."""


def stored_ids(data_dir: Path, service: str) -> set[str]:
    """The ids the store holds, less what every new instance has (built-in groups, the
    global policy, echo-api and the starter products)."""
    return {
        resource_id
        for resource_id, props in stored(data_dir, service).items()
        if resource_id != GLOBAL_POLICY_ID
        and not (resource_id.startswith("/groups/") and props.get("type") == "system")
        and not resource_id.startswith(tuple(f"{p}/" for p in NEW_INSTANCE_CONTENT))
        and resource_id not in NEW_INSTANCE_CONTENT
        and not _administrators_link(resource_id, props)
    }


def _administrators_link(resource_id: str, props: dict[str, Any]) -> bool:
    """The link to Administrators the service gives every new product (§8.1)."""
    return "/groupLinks/" in resource_id and str(props.get("groupId", "")).endswith(
        "/groups/administrators"
    )


def target_of(connection_file: Path, service: str) -> Target:
    settings = read_connection_file(connection_file)
    return Target(
        settings["subscription"],
        settings["resource_group"],
        service,
        settings["endpoint"],
        settings["ca_bundle"],
        settings["token"],
    )


def live_configuration(connection_file: Path, service: str) -> Configuration:
    """What the instance holds, read with the library (no faults expected)."""
    return read_instance(target_of(connection_file, service), parallelism=16).configuration


def comes_with_instance(resource: Resource) -> bool:
    """Built-in groups, the global policy and portal settings exist on every instance, and
    every product is linked to Administrators."""
    return (
        resource.id == GLOBAL_POLICY_ID
        or _administrators_link(resource.id, dict(resource.properties))
        or resource.kind in (Kind.PORTAL_SIGNUP, Kind.PORTAL_DELEGATION)
        or (resource.kind is Kind.GROUP and resource.properties.get("type") == "system")
    )


def by_kind(ids: set[str]) -> dict[str, int]:
    from apimsync.model import kind_of

    counts: dict[str, int] = {}
    for resource_id in ids:
        label = kind_of(resource_id).label
        counts[label] = counts.get(label, 0) + 1
    return dict(sorted(counts.items()))


# -- the command line ------------------------------------------------------------------


class Cli:
    """``python -m apimsync`` against one instance of an emulator (or any endpoint)."""

    def __init__(self, connection_file: Path, service: str, **env: str) -> None:
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("APIMSYNC_")},
            "APIMSYNC_CONNECTION": str(connection_file),
            "APIMSYNC_SERVICE": service,
            "CI": "true",
            **env,
        }

    def command(self, *args: str | Path) -> list[str]:
        return [sys.executable, "-m", "apimsync", *map(str, args)]

    def run(
        self, *args: str | Path, expect: int | None = 0, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        return run_apimsync(*args, env=self.env, expect=expect, timeout=timeout)

    def start(self, *args: str | Path) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
            stdin=subprocess.DEVNULL,
        )
