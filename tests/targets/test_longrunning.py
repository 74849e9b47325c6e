"""Long-running writes answered as the real service answers them (catalogue §1.3).

A real HTTPS server of the test's plays the service; the client is the real SDK client's
pipeline. Only the answers are scripted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from apimsync.targets.calls import POLL_INTERVAL, BadAnswer, CallFailed, Session, poll_delay
from apimsync.targets.connection import Target
from apimsync.targets.longrunning import delete_and_wait, put_and_wait
from tests.reliability.servers import Answer, Seen, TlsServer

SERVICE = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/svc"
ENTITY = json.dumps({"id": SERVICE + "/namedValues/n", "properties": {"displayName": "n"}})


class Script:
    """Answers each request with the next scripted answer for its method."""

    def __init__(self) -> None:
        self.answers: dict[str, list[Answer]] = {}

    def __call__(self, seen: Seen) -> Answer:
        queue = self.answers.get(seen.method) or [Answer(500)]
        return queue.pop(0) if len(queue) > 1 else queue[0]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Script, TlsServer]]:
    script = Script()
    with TlsServer(tmp_path_factory.mktemp("tls"), script) as running:
        yield script, running


def _session(server: TlsServer) -> Session:
    target = Target("s", "rg", "svc", server.url, str(server.ca_bundle), "token")
    return Session(target)


def _location(server: TlsServer, code: int = 201) -> dict[str, str]:
    link = (
        f"{server.url}{SERVICE}/namedValues/n?api-version=2024-05-01&asyncId=5e7b&asyncCode={code}"
    )
    return {"Location": link, "Retry-After": "0"}


def test_a_202_is_polled_until_the_entity_comes(server: tuple[Script, TlsServer]) -> None:
    script, tls = server
    script.answers = {
        "PUT": [Answer(202, b"", _location(tls))],
        "GET": [Answer(202, b"", _location(tls)), Answer(201, ENTITY.encode())],
    }
    tls.seen.clear()

    put_and_wait(_session(tls), "/namedValues/n", {"properties": {"value": "v"}}, what="create")

    assert [(s.method, "asyncId=5e7b" in s.path) for s in tls.seen] == [
        ("PUT", False),
        ("GET", True),
        ("GET", True),
    ]
    assert json.loads(tls.seen[0].body) == {"properties": {"value": "v"}}


def test_an_answer_with_the_entity_is_done(server: tuple[Script, TlsServer]) -> None:
    script, tls = server
    script.answers = {"PUT": [Answer(201, ENTITY.encode(), _location(tls))]}
    tls.seen.clear()

    put_and_wait(_session(tls), "/apis/a;rev=2", {"properties": {}}, what="create")

    assert [s.method for s in tls.seen] == ["PUT"]
    assert "/apis/a%3Brev%3D2?api-version=2024-05-01" in tls.seen[0].path


def test_a_failed_operation_is_a_failed_call(server: tuple[Script, TlsServer]) -> None:
    script, tls = server
    status_link = {"Azure-AsyncOperation": f"{tls.url}{SERVICE}/operations/1", "Retry-After": "0"}
    failed = {"status": "Failed", "error": {"code": "ValidationError", "message": "bad spec"}}
    script.answers = {
        "PUT": [Answer(202, b"", status_link)],
        "GET": [
            Answer(200, json.dumps({"status": "InProgress"}).encode(), {"Retry-After": "0"}),
            Answer(200, json.dumps(failed).encode(), {"Retry-After": "0"}),
        ],
    }

    with pytest.raises(CallFailed) as raised:
        put_and_wait(_session(tls), "/apis/a", {"properties": {}}, what="create '/apis/a'")

    assert (raised.value.code, raised.value.detail) == ("ValidationError", "bad spec")


@pytest.mark.parametrize(
    ("headers", "problem"),
    [
        ({}, "a 202 answer without a status link"),
        ({"Location": "https://elsewhere.example/x"}, "a status link to another host"),
    ],
)
def test_a_202_without_a_status_link_on_the_endpoint_is_refused(
    server: tuple[Script, TlsServer], headers: dict[str, str], problem: str
) -> None:
    script, tls = server
    script.answers = {"PUT": [Answer(202, b"", headers)]}
    tls.seen.clear()

    with pytest.raises(BadAnswer) as raised:
        put_and_wait(_session(tls), "/namedValues/n", {"properties": {}}, what="create")

    assert problem in raised.value.message
    assert [s.method for s in tls.seen] == ["PUT"]


def test_an_api_delete_answered_200_is_done(server: tuple[Script, TlsServer]) -> None:
    """As recorded: ``DELETE /apis/{id}`` -> 200, empty body (the SDK 5.0 refuses it)."""
    script, tls = server
    script.answers = {"DELETE": [Answer(200, b"", {"Content-Length": "0"})]}
    tls.seen.clear()

    delete_and_wait(
        _session(tls),
        "/apis/echo",
        what="delete '/apis/echo'",
        headers={"If-Match": '"AAAA"'},
        query={"deleteRevisions": "true"},
    )

    assert [s.method for s in tls.seen] == ["DELETE"]
    assert tls.seen[0].path.endswith("/apis/echo?api-version=2024-05-01&deleteRevisions=true")
    assert tls.seen[0].headers.get("if-match") == '"AAAA"'


def test_an_api_delete_answered_202_is_polled(server: tuple[Script, TlsServer]) -> None:
    script, tls = server
    script.answers = {
        "DELETE": [Answer(202, b"", _location(tls, 200))],
        "GET": [Answer(202, b"", _location(tls, 200)), Answer(204, b"")],
    }
    tls.seen.clear()

    delete_and_wait(_session(tls), "/apis/echo", what="delete '/apis/echo'")

    assert [s.method for s in tls.seen] == ["DELETE", "GET", "GET"]


def test_polls_without_retry_after_start_soon_and_back_off_to_the_interval() -> None:
    """Most writes are done within a second: a deploy must not wait 5 s for each."""
    delays = [poll_delay(None, polls) for polls in range(8)]

    assert delays == [0.25, 0.5, 1.0, 2.0, 4.0, POLL_INTERVAL, POLL_INTERVAL, POLL_INTERVAL]


@pytest.mark.parametrize(("header", "expected"), [("0", 0.0), ("3", 3.0), ("soon", 0.25)])
def test_retry_after_decides_the_wait_when_it_says_one(header: str, expected: float) -> None:
    assert poll_delay(header, 0) == expected
