"""5. A hostile server: ``pull`` against a real HTTPS server of the test's that answers
the list of APIs with traversal names, absolute paths, malformed or truncated JSON,
enormous bodies, redirects and next-page links to another host, or presents a
certificate nobody trusts.

Each time ``pull`` must exit 1 with one clear line, leave the existing DIR exactly as it
was, write nothing anywhere else, and never send the bearer token to the other host
(a second server, trusted by the same CA, records what reaches it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.reliability.helpers import Cli, figure
from tests.reliability.servers import Answer, Seen, TlsServer

pytestmark = pytest.mark.slow  # opt-in: pytest -m slow (CI runs it)

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
GROUP = "rg-hostile"
SERVICE = "hostile"
BASE = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}"
    f"/providers/Microsoft.ApiManagement/service/{SERVICE}"
)
TOKEN = "hostile-test-bearer-token-0f3c9a77d1e2"
MIB = 1024 * 1024


def _item(collection: str, name: str, **properties: object) -> dict[str, object]:
    return {
        "id": f"{BASE}/{collection}/{name}",
        "name": name,
        "type": f"Microsoft.ApiManagement/service/{collection}",
        "properties": properties,
    }


def _listed(*items: dict[str, object], **extra: object) -> Answer:
    return Answer(body=json.dumps({"value": list(items), **extra}).encode())


API = {"displayName": "Echo", "path": "echo", "protocols": ["https"], "apiRevision": "1"}


def _with_id(item: dict[str, object], raw_id: str) -> dict[str, object]:
    return {**item, "id": raw_id}


def _megabytes(count: int) -> Iterator[bytes]:
    yield b'{"value": ['
    for _ in range(count):
        yield b'{"id": "x", "properties": {"pad": "' + b"x" * (MIB - 40) + b'"}},'
    yield b"{}]}"


@dataclass(frozen=True)
class Scenario:
    name: str
    answer: Callable[[Seen, str], Answer]
    """The answer to the list of APIs, given the request and the other host's URL."""
    expect: str
    """A phrase of the one-line error."""


SCENARIOS = [
    Scenario(
        "api named '..'",
        lambda seen, other: _listed(_item("apis", "..", **{**API, "displayName": "../../out"})),
        'the resource name ".." is not safe',
    ),
    Scenario(
        "id climbing out of the service",
        lambda seen, other: _listed(
            _with_id(_item("apis", "a", **API), f"{BASE}/apis/../../../../../etc/passwd")
        ),
        "is not safe",
    ),
    Scenario(
        "absolute path as id",
        lambda seen, other: _listed(_with_id(_item("apis", "a", **API), "/etc/passwd")),
        '"/etc/passwd" is not a resource of this service',
    ),
    Scenario(
        "backslash traversal name",
        lambda seen, other: _listed(_item("apis", "..\\..\\out", **API)),
        "is not safe",
    ),
    Scenario(
        "control characters in a name",
        lambda seen, other: _listed(_item("apis", "a\x00b\nc", **API)),
        "is not safe",
    ),
    Scenario(
        "malformed JSON",
        lambda seen, other: Answer(body=b'{"value": [{"id": "' + BASE.encode() + b'/apis/a", '),
        "the answer is not valid JSON",
    ),
    Scenario(
        "JSON of the wrong shape",
        lambda seen, other: Answer(body=b'{"value": "not a list", "nextLink": 7}'),
        "a list whose 'value' is not objects",
    ),
    Scenario(
        "body cut short",
        lambda seen, other: Answer(
            body=json.dumps({"value": [_item("apis", f"a{n}", **API) for n in range(40)]}).encode(),
            cut_at=200,
        ),
        "the answer was cut short",
    ),
    Scenario(
        "enormous body, announced",
        lambda seen, other: Answer(
            headers={"Content-Length": str(80 * MIB)}, chunks=_megabytes(80)
        ),
        "larger than 64 MiB",
    ),
    Scenario(
        "enormous body, not announced",
        lambda seen, other: Answer(headers={"Connection": "close"}, chunks=_megabytes(80)),
        "larger than 64 MiB",
    ),
    Scenario(
        "redirect to another host",
        lambda seen, other: Answer(307, headers={"Location": other + seen.path}),
        "a redirect (307) to https://localhost:",
    ),
    Scenario(
        "next page forever",
        lambda seen, other: _listed(
            _item("apis", "a", **API),
            nextLink=f"https://{seen.host}{BASE}/apis?api-version=2024-05-01&$skiptoken=again",
        ),
        "a next-page link back to an earlier page",
    ),
    Scenario(
        "next page on another host",
        lambda seen, other: _listed(
            _item("apis", "a", **API), nextLink=f"{other}{seen.path}&$skiptoken=2"
        ),
        "a next-page link to another host",
    ),
]


class Hostile:
    """The hostile endpoint: a good backend list, the scenario's list of APIs, 501 else."""

    def __init__(self) -> None:
        self.scenario: Scenario | None = None
        self.other = ""

    def __call__(self, seen: Seen) -> Answer:
        path = seen.path.split("?", 1)[0]
        if path == f"{BASE}/backends":
            return _listed(_item("backends", "b1", url="https://b1.example.test", protocol="http"))
        if path == f"{BASE}/apis":
            if self.scenario is None:
                return _listed(_item("apis", "echo", **API))
            return self.scenario.answer(seen, self.other)
        error = {"error": {"code": "NotImplemented", "message": "Not served here."}}
        return Answer(501, json.dumps(error).encode())


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Hostile, TlsServer, TlsServer]]:
    tls = tmp_path_factory.mktemp("hostile-tls")
    hostile = Hostile()
    with TlsServer(tls, hostile) as server, TlsServer(tls, lambda seen: _listed()) as other:
        hostile.other = other.url.replace("127.0.0.1", "localhost")
        yield hostile, server, other


def _connection(folder: Path, endpoint: str, ca_bundle: Path) -> Path:
    path = folder / "connection.json"
    document = {
        "endpoint": endpoint,
        "ca_bundle": str(ca_bundle),
        "token": TOKEN,
        "subscription_id": SUBSCRIPTION,
        "resource_group": GROUP,
        "service": SERVICE,
    }
    path.write_text(json.dumps(document))
    return path


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() else b"<dir>"
        for p in sorted(root.rglob("*"))
    }


def test_pull_refuses_every_hostile_answer_and_changes_nothing(
    servers: tuple[Hostile, TlsServer, TlsServer], tmp_path: Path
) -> None:
    hostile, server, other = servers
    sandbox = tmp_path / "sandbox"
    directory = sandbox / "work" / "dir"
    cli = Cli(_connection(tmp_path, server.url, server.ca_bundle), SERVICE)
    hostile.scenario = None
    cli.run("pull", "--dir", directory)
    assert (directory / "api-management" / "apis").is_dir()
    before = _snapshot(sandbox)
    results = []

    for scenario in SCENARIOS:
        hostile.scenario = scenario
        result = cli.run("pull", "--dir", directory, expect=1, timeout=300)
        error = result.stderr.strip().splitlines()[-1]
        results.append(f"{scenario.name}: {error.removeprefix('apimsync: error: ')[:110]}")
        assert scenario.expect in result.stderr, (scenario.name, result.stderr)
        assert error.startswith("apimsync: error: "), result.stderr
        assert _snapshot(sandbox) == before, scenario.name

    leaked = [seen for seen in other.seen if seen.authorization]
    figure(
        "5 hostile server",
        f"{len(SCENARIOS)} hostile answers ({', '.join(s.name for s in SCENARIOS)}): every "
        f"pull exited 1 with one line and left DIR unchanged, nothing written elsewhere; "
        f"requests that reached the other host: {len(other.seen)}, with the token: "
        f"{len(leaked)}. E.g. {results[0]} | {results[-1]}",
    )
    assert not leaked
    assert not any(TOKEN in (seen.authorization or "") for seen in other.seen)
    assert all(TOKEN in (seen.authorization or "") for seen in server.seen)


def test_pull_refuses_an_untrusted_certificate(tmp_path: Path) -> None:
    trusted = TlsServer(tmp_path / "trusted-ca", lambda seen: _listed())
    with TlsServer(tmp_path / "other-ca", lambda seen: _listed()) as impostor:
        cli = Cli(_connection(tmp_path, impostor.url, trusted.ca_bundle), SERVICE)
        directory = tmp_path / "dir"

        result = cli.run("pull", "--dir", directory, expect=1)

    figure("5 untrusted certificate", result.stderr.strip().splitlines()[-1][:160])
    assert "TLS with" in result.stderr and "CERTIFICATE_VERIFY_FAILED" in result.stderr
    assert impostor.seen == []  # the handshake failed: no request, no token
    assert not directory.exists()
