"""The live instance through the real SDK, against a real emulator over HTTPS.

Every export of the corpus (and examples/openai-usage) is applied to an empty instance,
read back and planned again; then one-field changes, stale plans, injected faults,
deletes, failures and secrets. Portal settings are left out: the emulator does not serve
them (see ``conftest.py``).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from apimsync.emulator import EmulatorProcess
from apimsync.emulator.counters import RequestCounters
from apimsync.formats.scm.reader import read_tree
from apimsync.model import GLOBAL_POLICY_ID, Configuration, Kind, Resource, make_resource
from apimsync.plan import Action, Plan, compute_plan
from apimsync.plan.diff import is_service_owned
from apimsync.targets.calls import RequestNotSent, Retry
from apimsync.targets.connection import Target
from apimsync.targets.endpoints import BUILT_IN_GROUPS, endpoint_of
from apimsync.targets.sdk import (
    AccessDenied,
    ApplyEvent,
    ApplyReport,
    LiveState,
    RetryPolicy,
    ServiceNotFound,
    TargetUnreachable,
    TlsFailure,
    apply_plan,
    fetch_etags,
    read_instance,
)
from tests.conftest import CORPUS, EXPORTS, REPO, one_export_by_default
from tests.targets.conftest import (
    PORTAL_KINDS,
    target_for,
    with_referenced_named_values,
)

EXAMPLE = REPO / "examples" / "openai-usage"
SOURCES = (*EXPORTS, "openai-usage")
FAST_RETRY = RetryPolicy(base_delay=0.05, max_delay=2.0)


def source_root(name: str) -> Path:
    return EXAMPLE if name == "openai-usage" else CORPUS / name


@cache
def desired_of(name: str) -> Configuration:
    result = read_tree(source_root(name))
    assert not [f for f in result.findings if f.is_error]
    return with_referenced_named_values(result.configuration)


def plan_between(
    desired: Configuration,
    live: Configuration,
    *,
    prune: bool = False,
    etags: dict[str, str] | None = None,
) -> Plan:
    return compute_plan(desired, live, prune=prune, etags=etags, ignore_kinds=PORTAL_KINDS)


# -- the corpus, applied and read back -------------------------------------------------


@dataclass(frozen=True)
class RoundTrip:
    desired: Configuration
    applied: ApplyReport
    live: LiveState
    again: Plan


@pytest.fixture(scope="module")
def round_trip(fresh: Callable[[], Target]) -> Callable[[str], RoundTrip]:
    done: dict[str, RoundTrip] = {}

    def run(name: str) -> RoundTrip:
        if name not in done:
            target = fresh()
            desired = desired_of(name)
            new = read_instance(target, skip_kinds=PORTAL_KINDS).configuration
            # The files are the whole truth: what a new instance holds and they lack goes.
            report = apply_plan(target, plan_between(desired, new, prune=True))
            live = read_instance(target, skip_kinds=PORTAL_KINDS)
            again = plan_between(desired, live.configuration, prune=True)
            done[name] = RoundTrip(desired, report, live, again)
        return done[name]

    return run


@pytest.mark.parametrize("name", one_export_by_default(SOURCES))
def test_applied_export_reads_back_exactly(
    name: str, round_trip: Callable[[str], RoundTrip]
) -> None:
    trip = round_trip(name)

    assert trip.applied.ok, trip.applied.failed
    assert trip.again.is_empty, [(c.action.value, c.resource_id) for c in trip.again.changes]


def expected_read_requests(live: Configuration) -> int:
    """One request per list (page) and one GET per policy, nothing else.

    9 service lists (APIs, version sets, backends, products, groups, tags, named values,
    fragments, loggers) + AllPolicies; per API revision its operations and schemas, per
    API its releases; per product its API and group links; per tag its three link lists;
    diagnostics only where there are loggers; one rawxml GET per policy.
    """
    apis = live.of_kind(Kind.API)
    per_api = 2 * len(apis) + sum(1 for api in apis if ";rev=" not in api.id)
    diagnostics = len(apis) + 1 if live.of_kind(Kind.LOGGER) else 0
    owners = 2 * len(live.of_kind(Kind.PRODUCT)) + 3 * len(live.of_kind(Kind.TAG))
    return 10 + per_api + diagnostics + owners + len(live.of_kind(Kind.POLICY))


@pytest.mark.parametrize("name", one_export_by_default(SOURCES))
def test_reading_takes_one_request_per_collection(
    name: str, round_trip: Callable[[str], RoundTrip]
) -> None:
    live = round_trip(name).live
    assert live.requests == expected_read_requests(live.configuration)


# -- one change, stale plans -----------------------------------------------------------


def deployed(target: Target, desired: Configuration) -> LiveState:
    """``desired`` deployed to a new instance, with --prune: what a new instance holds and
    ``desired`` lacks (echo-api, the starter products) goes."""
    new = read_instance(target, skip_kinds=PORTAL_KINDS).configuration
    plan = plan_between(desired, new, prune=True)
    report = apply_plan(target, plan, retry=FAST_RETRY)
    assert report.ok, report
    return read_instance(target, skip_kinds=PORTAL_KINDS)


def planned_with_etags(target: Target, desired: Configuration, live: LiveState) -> Plan:
    draft = plan_between(desired, live.configuration)
    etags = fetch_etags(target, [c.resource_id for c in draft.changes])
    return plan_between(desired, live.configuration, etags=etags)


def with_backend_url(configuration: Configuration, backend_id: str, url: str) -> Configuration:
    backend = configuration.get(backend_id)
    assert backend is not None
    return configuration.with_resources(backend.with_properties(url=url))


def test_one_field_change_is_one_write(
    fresh: Callable[[], Target], counters: RequestCounters
) -> None:
    target = fresh()
    desired = desired_of("openai-usage")
    live = deployed(target, desired)
    backend_id = desired.of_kind(Kind.BACKEND)[0].id
    changed = with_backend_url(desired, backend_id, "https://changed.example/openai")
    plan = planned_with_etags(target, changed, live)
    assert [c.resource_id for c in plan.changes] == [backend_id]
    assert plan.changes[0].etag

    counters.reset()
    report = apply_plan(target, plan)

    assert report.applied == (backend_id,) and report.writes == 1 and report.retries == 0
    assert counters.writes_by_route() == {"PUT /backends/{backendId}": 1}
    again = read_instance(target, skip_kinds=PORTAL_KINDS)
    assert plan_between(changed, again.configuration).is_empty


def test_stale_plan_is_refused_and_nothing_written(
    fresh: Callable[[], Target], counters: RequestCounters
) -> None:
    target = fresh()
    desired = desired_of("openai-usage")
    live = deployed(target, desired)
    backend_id = desired.of_kind(Kind.BACKEND)[0].id
    plan = planned_with_etags(
        target, with_backend_url(desired, backend_id, "https://planned.example"), live
    )
    client = target.client()
    name = backend_id.rsplit("/", 1)[1]
    current = client.backend.get(target.resource_group, target.service, name)
    current.url = "https://someone-else.example"
    client.backend.create_or_update(target.resource_group, target.service, name, current)

    counters.reset()
    report = apply_plan(target, plan)

    assert report.applied == () and report.stale == (backend_id,)
    [(failed_id, message)] = report.failed
    assert failed_id == backend_id and "stale plan" in message and backend_id in message
    assert report.writes == 1 and counters.snapshot()["by_status"] == {"412": 1}
    after = client.backend.get(target.resource_group, target.service, name)
    assert after.url == "https://someone-else.example"


def test_fetch_etags(fresh: Callable[[], Target]) -> None:
    target = fresh()
    desired = desired_of("openai-usage")
    deployed(target, desired)
    backend_id = desired.of_kind(Kind.BACKEND)[0].id
    link_id = desired.of_kind(Kind.PRODUCT_API_LINK)[0].id
    found = fetch_etags(target, [backend_id, "/backends/not-there", link_id, "/policies/policy"])
    assert set(found) == {backend_id, "/policies/policy"}
    assert all(etag.strip('"') for etag in found.values())


def test_a_netrc_entry_for_the_host_does_not_replace_the_token(
    fresh: Callable[[], Target], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = fresh()
    desired = desired_of("openai-usage")
    deployed(target, desired)
    netrc = tmp_path / ".netrc"
    host = urlsplit(target.endpoint).hostname
    netrc.write_text(f"machine {host} login someone password not-the-token\n", "utf-8")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))

    live = read_instance(target)  # azure-core's bearer token, not a Basic password

    expected = {r.id for r in desired if r.kind not in PORTAL_KINDS}
    read = {r.id for r in live.configuration if r.kind not in PORTAL_KINDS}
    added_by_service = {r.id for r in live.configuration if is_service_owned(r)} - expected
    assert read - added_by_service == expected


# -- faults ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def faulty_emulator() -> Iterator[EmulatorProcess]:
    faults = ("429:0.2", "503:0.05", "conflict:0.1")
    with (
        tempfile.TemporaryDirectory() as folder,
        EmulatorProcess(folder, faults=faults, seed=20241105) as running,
    ):
        yield running


@pytest.mark.slow
def test_faults_are_retried_and_the_deploy_converges(faulty_emulator: EmulatorProcess) -> None:
    target = target_for(faulty_emulator.connection, faulty_emulator.connection.service)
    desired = desired_of("eshop-v15")
    events: list[ApplyEvent] = []
    live = Configuration()
    reports: list[ApplyReport] = []
    for _ in range(3):  # a failed change (retries exhausted) is picked up by the next run
        plan = plan_between(desired, live)
        reports.append(apply_plan(target, plan, parallelism=16, on_event=events.append))
        live = read_instance(target, skip_kinds=PORTAL_KINDS, parallelism=16).configuration
        if plan_between(desired, live).is_empty:
            break
    remaining = plan_between(desired, live).changes
    assert not [c.resource_id for c in remaining]
    assert reports[0].retries > 0
    retried = [e for e in events if e.event == "retry"]
    assert len(retried) == sum(r.retries for r in reports)
    assert {e.message.split(";")[0].split(" ")[0] for e in retried} >= {"429", "503", "409"}
    assert all(e.delay >= 1.0 for e in retried if e.message.startswith("429"))  # Retry-After


# -- deletes, failures, secrets --------------------------------------------------------


def small_api(api: str, *, protocols: tuple[str, ...] = ("https",)) -> list[Resource]:
    return [
        make_resource(
            f"/apis/{api}",
            {"displayName": api, "path": api, "protocols": list(protocols)},
        ),
        make_resource(
            f"/apis/{api}/operations/get-item",
            {
                "displayName": "Get item",
                "method": "GET",
                "urlTemplate": "/items/{id}",
                "templateParameters": [{"name": "id", "type": "string", "required": True}],
            },
        ),
        make_resource(
            f"/apis/{api}/operations/get-item/policies/policy",
            {
                "format": "rawxml",
                "value": '<policies><inbound><base /><set-header name="x" '
                'exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault'
                '("a", "b"))</value></set-header></inbound><backend><base /></backend>'
                "<outbound><base /></outbound><on-error><base /></on-error></policies>",
            },
        ),
    ]


def scenario() -> Configuration:
    return Configuration(
        [
            *small_api("orders"),
            make_resource("/backends/stock", {"url": "https://stock.example", "protocol": "http"}),
            make_resource("/products/shop", {"displayName": "Shop", "state": "published"}),
            make_resource("/products/shop/apiLinks/orders", {"apiId": "/apis/orders"}),
            make_resource("/tags/sales", {"displayName": "Sales"}),
            make_resource("/tags/sales/apiLinks/orders", {"apiId": "/apis/orders"}),
            make_resource("/loggers/insights", {"loggerType": "applicationInsights"}),
            make_resource(
                "/apis/orders/diagnostics/applicationinsights", {"loggerId": "/loggers/insights"}
            ),
        ]
    )


def test_delete_with_cascade(fresh: Callable[[], Target]) -> None:
    target = fresh()
    desired = scenario()
    live = deployed(target, desired)
    assert plan_between(desired, live.configuration).is_empty
    smaller = desired.without("/apis/orders")
    plan = plan_between(smaller, live.configuration, prune=True)
    deletes = {c.resource_id: c for c in plan.changes if c.action is Action.DELETE}
    assert "/apis/orders/operations/get-item" in deletes["/apis/orders"].cascade

    report = apply_plan(target, plan)

    assert report.ok and set(report.applied) == set(deletes)
    after = read_instance(target, skip_kinds=PORTAL_KINDS).configuration
    assert not [i for i in after.ids() if "orders" in i]
    assert {"/products/shop", "/tags/sales", "/backends/stock"} <= after.ids()
    assert plan_between(smaller, after, prune=True).is_empty


def test_failing_change_spares_independent_ones(fresh: Callable[[], Target]) -> None:
    target = fresh()
    rejected_policy = make_resource(
        "/apis/orders/policies/policy",
        {
            "format": "rawxml",
            "value": '<policies><inbound><set-backend-service backend-id="no-such-backend" />'
            "</inbound><backend><forward-request /></backend><outbound /><on-error />"
            "</policies>",
        },
    )
    desired = scenario().with_resources(rejected_policy, *small_api("broken", protocols=("ftp",)))
    events: list[ApplyEvent] = []

    report = apply_plan(target, plan_between(desired, Configuration()), on_event=events.append)

    failed = dict(report.failed)
    assert set(failed) == {"/apis/orders/policies/policy", "/apis/broken"}
    assert "400" in failed["/apis/orders/policies/policy"]
    assert "no-such-backend" in failed["/apis/orders/policies/policy"]
    assert "protocols" in failed["/apis/broken"]
    assert set(report.not_attempted) == {
        "/apis/broken/operations/get-item",
        "/apis/broken/operations/get-item/policies/policy",
    }
    assert {"/apis/orders", "/backends/stock", "/tags/sales/apiLinks/orders"} <= set(report.applied)
    assert {e.event for e in events} == {"started", "applied", "failed", "not-attempted"}
    assert report.to_json()["failed"][0]["stale"] is False

    fixed = scenario()
    live = read_instance(target, skip_kinds=PORTAL_KINDS).configuration
    assert apply_plan(target, plan_between(fixed, live)).ok
    again = read_instance(target, skip_kinds=PORTAL_KINDS).configuration
    assert plan_between(fixed, again).is_empty


def test_secret_named_values(fresh: Callable[[], Target]) -> None:
    target = fresh()
    secret_value = "S3cr3t-value-never-shown"
    desired = Configuration(
        [
            make_resource(
                "/namedValues/db-password", {"displayName": "db-password", "secret": True}
            ),
            make_resource("/namedValues/api-token", {"displayName": "api-token", "secret": True}),
            make_resource("/backends/stock", {"url": "https://stock.example", "protocol": "http"}),
        ]
    )
    events: list[ApplyEvent] = []

    report = apply_plan(
        target,
        plan_between(desired, Configuration()),
        secrets={"/namedValues/db-password": secret_value},
        on_event=events.append,
    )

    assert set(report.applied) == {"/namedValues/db-password", "/backends/stock"}
    [(failed_id, message)] = report.failed
    assert failed_id == "/namedValues/api-token"
    assert "'/namedValues/api-token' is secret" in message and "secret inputs" in message
    assert secret_value not in repr(report) + "".join(str(e) for e in events)
    live = read_instance(target, skip_kinds=PORTAL_KINDS)
    stored = live.configuration.get("/namedValues/db-password")
    assert stored is not None and stored.get("secret") is True and "value" not in stored.properties
    client = target.client()
    revealed = client.named_value.list_value(target.resource_group, target.service, "db-password")
    assert revealed.value == secret_value


# -- errors a user can cause -----------------------------------------------------------


def test_user_errors_are_one_clear_message(emulator: EmulatorProcess) -> None:
    conn = emulator.connection
    cases: list[tuple[Target, type[Exception], str]] = [
        (
            target_for(conn, conn.service, endpoint="https://127.0.0.1:9"),
            TargetUnreachable,
            "reach",
        ),
        (target_for(conn, conn.service, ca_bundle=None), TlsFailure, "ca_bundle"),
        (
            target_for(conn, conn.service, token="not-the-token"),
            AccessDenied,
            "the token comes from the connection file (APIMSYNC_CONNECTION)",
        ),
        (target_for(conn, "no-such-service"), ServiceNotFound, "no-such-service"),
    ]
    for target, error, words in cases:
        with pytest.raises(error) as caught:
            read_instance(target, retry=FAST_RETRY)
        text = str(caught.value)
        assert words in text and conn.token not in text and "\n" not in text
        assert "az login" not in text
        assert target.token is None or target.token not in text


# -- pruning every kind ----------------------------------------------------------------

BASE_POLICY = {
    "format": "rawxml",
    "value": "<policies><inbound><base /></inbound><backend><base /></backend>"
    "<outbound><base /></outbound><on-error><base /></on-error></policies>",
}
FRAGMENT = (
    '<fragment><set-header name="a" exists-action="override"><value>b</value></set-header>'
    "</fragment>"
)
KEPT = frozenset(
    {"/apis/kept", "/apis/kept/operations/get-item", "/products/p", "/groups/g", "/tags/t"}
    | {"/loggers/kept"}
)
"""The owners of the pruned children: they stay, so each child is a delete of its own."""


def every_kind() -> Configuration:
    """:data:`KEPT` and, next to them, one resource of each kind that can be deleted."""
    return Configuration(
        [
            *small_api("kept"),
            make_resource(
                "/apis/kept/operations/extra",
                {"displayName": "Extra", "method": "POST", "urlTemplate": "/extra"},
            ),
            *small_api("gone"),
            make_resource(
                "/apis/kept/schemas/components",
                {
                    "contentType": "application/vnd.oai.openapi.components+json",
                    "document": {"components": {"schemas": {}}},
                },
            ),
            make_resource("/apis/kept/releases/first", {"apiId": "/apis/kept", "notes": "1"}),
            make_resource("/policies/policy", BASE_POLICY),
            make_resource("/apis/kept/policies/policy", BASE_POLICY),
            make_resource("/products/p/policies/policy", BASE_POLICY),
            make_resource("/apiVersionSets/v", {"displayName": "v", "versioningScheme": "Segment"}),
            make_resource("/backends/b", {"url": "https://b.example", "protocol": "http"}),
            make_resource("/products/p", {"displayName": "P", "state": "published"}),
            make_resource("/products/gone", {"displayName": "Gone", "state": "notPublished"}),
            make_resource("/products/p/apiLinks/kept", {"apiId": "/apis/kept"}),
            make_resource("/products/p/groupLinks/g", {"groupId": "/groups/g"}),
            make_resource("/groups/g", {"displayName": "G"}),
            make_resource("/groups/gone", {"displayName": "Gone"}),
            make_resource("/tags/t", {"displayName": "T"}),
            make_resource("/tags/gone", {"displayName": "Gone"}),
            make_resource("/tags/t/apiLinks/kept", {"apiId": "/apis/kept"}),
            make_resource(
                "/tags/t/operationLinks/get", {"operationId": "/apis/kept/operations/get-item"}
            ),
            make_resource("/tags/t/productLinks/p", {"productId": "/products/p"}),
            make_resource("/namedValues/n", {"displayName": "n", "value": "x"}),
            make_resource("/policyFragments/f", {"format": "rawxml", "value": FRAGMENT}),
            make_resource("/loggers/kept", {"loggerType": "applicationInsights"}),
            make_resource("/loggers/gone", {"loggerType": "applicationInsights"}),
            make_resource("/diagnostics/applicationinsights", {"loggerId": "/loggers/kept"}),
            make_resource(
                "/apis/kept/diagnostics/applicationinsights", {"loggerId": "/loggers/kept"}
            ),
        ]
    )


def test_prune_deletes_one_resource_of_every_kind(fresh: Callable[[], Target]) -> None:
    """What ``plan --prune`` and ``deploy --prune`` do: read the ETag of each delete (one
    HEAD each, tags included), then delete each through its own SDK method."""
    target = fresh()
    desired = every_kind()
    live = deployed(target, desired)
    smaller = Configuration([r for r in desired if r.id in KEPT])
    draft = plan_between(smaller, live.configuration, prune=True)
    etags = fetch_etags(target, [c.resource_id for c in draft.changes])
    plan = plan_between(smaller, live.configuration, prune=True, etags=etags)
    assert {c.kind for c in plan.changes if c.action is Action.DELETE} == set(Kind) - PORTAL_KINDS
    assert all(c.etag for c in plan.changes if endpoint_of(c.resource_id).etags)

    report = apply_plan(target, plan, retry=FAST_RETRY)

    assert report.ok and len(report.applied) == len(plan.changes), report.failed
    after = read_instance(target, skip_kinds=PORTAL_KINDS).configuration
    kept_by_service = {r.id for r in after if is_service_owned(r)}  # p's Administrators link
    assert after.ids() - BUILT_IN_GROUPS - kept_by_service - {GLOBAL_POLICY_ID} == KEPT


def test_an_error_that_cannot_succeed_is_not_retried(emulator: EmulatorProcess) -> None:
    """azure-core refuses a bearer token over plain HTTP before sending anything: trying
    again cannot help, so the first attempt is the last."""
    conn = emulator.connection
    plain = target_for(conn, conn.service, endpoint=conn.endpoint.replace("https:", "http:"))
    retries: list[Retry] = []
    started = time.monotonic()

    with pytest.raises(RequestNotSent) as caught:
        read_instance(plain, on_retry=retries.append)

    assert retries == [] and time.monotonic() - started < 5
    assert "cannot send requests to http://" in str(caught.value)
    assert "non-TLS" in str(caught.value) or "https" in str(caught.value)
