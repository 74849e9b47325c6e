"""Reading an instance: raw requests through the client's pipeline, JSON parsed once.

The real SDK client and the emulator over HTTPS; the spy on the SDK's ``Deserializer``
only counts calls (it does not change what they do).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from azure.mgmt.apimanagement._serialization import Deserializer

from apimsync.model import Configuration, Kind, make_resource
from apimsync.plan import compute_plan
from apimsync.targets.connection import Target
from apimsync.targets.sdk import apply_plan, read_instance
from tests.targets.conftest import PORTAL_KINDS

POLICY = (
    "<policies><inbound><base /><set-header name='x' exists-action='override'>"
    "<value>1</value></set-header></inbound><backend><base /></backend>"
    "<outbound><base /></outbound><on-error><base /></on-error></policies>"
)


def small_configuration() -> Configuration:
    return Configuration(
        [
            make_resource("/backends/b1", {"url": "https://b1.example.test", "protocol": "http"}),
            make_resource("/namedValues/nv", {"displayName": "nv", "value": "v"}),
            make_resource(
                "/apis/echo",
                {"displayName": "Echo", "path": "reading-echo", "protocols": ["https"]},
            ),
            make_resource(
                "/apis/echo/operations/get",
                {"displayName": "Get", "method": "GET", "urlTemplate": "/x"},
            ),
            make_resource("/apis/echo/policies/policy", {"format": "rawxml", "value": POLICY}),
            make_resource("/products/p", {"displayName": "P", "state": "published"}),
            make_resource("/products/p/apiLinks/echo", {"apiId": "/apis/echo"}),
        ]
    )


@pytest.fixture
def deserialised(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the SDK models built while the test runs."""
    built: list[str] = []
    original = Deserializer.__call__

    def counting(self: Deserializer, target_obj: str, *args: object, **kwargs: object) -> object:
        built.append(str(target_obj))
        return original(self, target_obj, *args, **kwargs)

    monkeypatch.setattr(Deserializer, "__call__", counting)
    yield built


def test_a_read_builds_no_sdk_model_and_finds_everything(
    fresh: Callable[[], Target], deserialised: list[str]
) -> None:
    target = fresh()
    desired = small_configuration()
    report = apply_plan(target, compute_plan(desired, Configuration(), ignore_kinds=PORTAL_KINDS))
    assert report.ok, report.failed
    deserialised.clear()

    live = read_instance(target, skip_kinds=PORTAL_KINDS)

    assert deserialised == []
    assert compute_plan(desired, live.configuration, ignore_kinds=PORTAL_KINDS).is_empty
    assert live.etags.get("/apis/echo/policies/policy")
    assert {r.kind for r in live.configuration} >= {Kind.API, Kind.POLICY, Kind.PRODUCT_API_LINK}
