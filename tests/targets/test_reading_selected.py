"""Reading only what a partial plan asks for, against the emulator over HTTPS.

The real SDK client and the emulator's request counters: each test deploys a small
configuration to a fresh instance, then reads a selection and checks what came back,
with which ETags and in how many requests.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from apimsync.emulator.counters import RequestCounters
from apimsync.model import Configuration, Kind, make_resource
from apimsync.plan import compute_plan
from apimsync.plan.partial import ReadRequest
from apimsync.targets.connection import Target
from apimsync.targets.reading import read_selected
from apimsync.targets.sdk import apply_plan
from tests.targets.conftest import PORTAL_KINDS
from tests.targets.test_reading import small_configuration


@pytest.fixture(scope="module")
def deployed(fresh: Callable[[], Target]) -> Target:
    target = fresh()
    desired = small_configuration().with_resources(
        make_resource("/apis/other", {"displayName": "Other", "path": "other"}),
        make_resource("/products/p/apiLinks/generated-name", {"apiId": "/apis/other"}),
        make_resource("/namedValues/secret", {"displayName": "Secret", "secret": True}),
    )
    plan = compute_plan(desired, Configuration(), ignore_kinds=PORTAL_KINDS)
    report = apply_plan(target, plan, secrets={"/namedValues/secret": "s3cr3t-value"})
    assert report.ok, report.failed
    return target


def read(
    target: Target, counters: RequestCounters, request: ReadRequest
) -> tuple[Configuration, dict[str, str], int]:
    counters.reset()
    state = read_selected(target, request, parallelism=4)
    requests, writes = counters.totals()
    assert writes == 0
    assert requests == state.requests
    return state.configuration, dict(state.etags), requests


def test_a_get_per_resource_with_its_etag_and_nothing_for_what_is_missing(
    deployed: Target, counters: RequestCounters
) -> None:
    wanted = (
        "/apis/echo/policies/policy",
        "/backends/b1",
        "/apis/echo/operations/get",
        "/backends/never-created",
        "/apis/missing/operations/op",
    )

    live, etags, requests = read(deployed, counters, ReadRequest(ids=wanted))

    assert requests == len(wanted)
    assert {r.id for r in live} == set(wanted[:3])
    assert set(etags) == set(wanted[:3])
    found = live.get("/apis/echo/policies/policy")
    assert found is not None and "set-header" in str(found.get("value"))
    assert found.get("format") == "rawxml"


def test_a_secret_named_value_comes_without_its_value(
    deployed: Target, counters: RequestCounters
) -> None:
    live, _, _ = read(deployed, counters, ReadRequest(ids=("/namedValues/secret",)))

    secret = live.get("/namedValues/secret")
    assert secret is not None and secret.get("secret") is True
    assert "value" not in secret.properties


def test_links_are_listed_by_owner_whatever_their_names(
    deployed: Target, counters: RequestCounters
) -> None:
    request = ReadRequest(links=(("/products/p", Kind.PRODUCT_API_LINK),))

    live, etags, requests = read(deployed, counters, request)

    assert requests == 1
    assert {r.id for r in live} == {
        "/products/p/apiLinks/echo",
        "/products/p/apiLinks/generated-name",
    }
    assert etags == {}


def test_everything_a_deleted_api_holds_is_listed_not_read_one_by_one(
    deployed: Target, counters: RequestCounters
) -> None:
    request = ReadRequest(ids=("/apis/echo", "/apis/echo/operations/get"), children=("/apis/echo",))

    live, _, requests = read(deployed, counters, request)

    # operations, schemas, releases, diagnostics of the API, and the API itself
    assert requests == 5
    assert {"/apis/echo", "/apis/echo/operations/get"} <= {r.id for r in live}


def test_named_values_by_display_name_and_apis_by_path(
    deployed: Target, counters: RequestCounters
) -> None:
    request = ReadRequest(named_values=("NV", "Nobody's"), api_paths=("other", "none"))

    live, _, requests = read(deployed, counters, request)

    assert requests == 4
    assert {r.id for r in live} == {"/namedValues/nv", "/apis/other"}
