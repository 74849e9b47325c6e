"""Links the service writes must stay on the endpoint's origin, compared as URLs.

ARM writes absolute links with the default port spelled out (catalogue §1.4:
``"nextLink": "https://management.azure.com:443/subscriptions/..."`` [PRD20 e9],
[REV23 p@140000]); status links of long-running writes come the same way. Such a link is
on the endpoint ``https://management.azure.com``; a link to another host, scheme or port
is not, and apimsync refuses it so that the bearer token never follows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from apimsync.emulator import EmulatorProcess
from apimsync.emulator.certs import TlsFiles, ensure_tls
from apimsync.formats.scm.reader import read_tree
from apimsync.plan.diff import compute_plan
from apimsync.targets.calls import same_origin
from apimsync.targets.sdk import apply_plan, read_instance
from tests.reliability.servers import Answer, Seen, TlsServer, _Upstream
from tests.targets.conftest import PORTAL_KINDS, target_for, with_referenced_named_values

ARM = "https://management.azure.com"


@pytest.mark.parametrize(
    "link",
    [
        f"{ARM}/subscriptions/s/providers/x?api-version=2024-05-01",
        "https://management.azure.com:443/subscriptions/s/products?%24top=1&%24skip=1",
        "HTTPS://Management.Azure.com:443/subscriptions/s",
        "https://management.azure.com./subscriptions/s",
    ],
)
def test_a_link_as_arm_writes_it_is_on_the_endpoint(link: str) -> None:
    assert same_origin(link, ARM)
    assert same_origin(link, "https://management.azure.com:443")


@pytest.mark.parametrize(
    "link",
    [
        "https://management.azure.com:8443/subscriptions/s",
        "http://management.azure.com/subscriptions/s",
        "https://management.azure.com.evil.example/subscriptions/s",
        "https://evil.example/subscriptions/s",
        "https://token@management.azure.com/subscriptions/s",
        "https://management.azure.com:notaport/subscriptions/s",
        "/subscriptions/s/relative",
    ],
)
def test_a_link_to_another_origin_is_not(link: str) -> None:
    assert not same_origin(link, ARM)


def test_an_explicit_port_must_match() -> None:
    assert same_origin("https://127.0.0.1:8443/x", "https://127.0.0.1:8443")
    assert not same_origin("https://127.0.0.1:8443/x", "https://127.0.0.1:9443")
    assert same_origin("http://localhost:80/x", "http://localhost")


# -- end to end: an endpoint on the default port whose links spell ':443' out ----------

_TOP = re.compile(r"(?:\$|%24)top=\d+")


@pytest.fixture(scope="module")
def arm_style_proxy(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[EmulatorProcess, TlsServer]]:
    """The emulator behind a proxy on port 443 that writes every link as ARM does
    (``https://127.0.0.1:443/...``), asks for pages of two items, so that every list of
    more than two items has next-page links, and answers named value PUTs with a 202 and
    a status link, as the service did at api-version 2022-08-01."""
    with EmulatorProcess(tmp_path_factory.mktemp("emulator"), services=("arm",)) as emulator:
        connection = emulator.connection
        upstream = _Upstream(connection.endpoint, connection.ca_bundle)
        arm_origin = "https://127.0.0.1:443"

        def forward(seen: Seen) -> Answer:
            paged = Seen(
                seen.method,
                _TOP.sub("%24top=2", seen.path),
                seen.host,
                seen.authorization,
                seen.body,
                seen.headers,
            )
            answer = upstream.send(paged)
            if answer is None:
                return Answer(drop=True)
            status, body, headers = answer
            rewritten = {k: v.replace(connection.endpoint, arm_origin) for k, v in headers.items()}
            if seen.method == "PUT" and "/namedValues/" in seen.path and "Location" in rewritten:
                # As recorded at 2022-08-01 (catalogue §1.3, [NV23 p@9000]): 202, empty
                # body, no ETag, a Location with asyncId/asyncCode.
                return Answer(202, b"", {"Location": rewritten["Location"]})
            return Answer(
                status, body.replace(connection.endpoint.encode(), arm_origin.encode()), rewritten
            )

        try:
            proxy = TlsServer(Path(connection.ca_bundle).parent, forward, _tls(emulator), 443)
        except OSError as error:  # pragma: no cover - depends on the machine
            pytest.skip(f"port 443 cannot be bound here ({error})")
        with proxy:
            yield emulator, proxy


def _tls(emulator: EmulatorProcess) -> TlsFiles:
    """The emulator's own certificate, so that clients trusting it trust the proxy."""
    return ensure_tls(Path(emulator.connection.ca_bundle).parent, "127.0.0.1")


def test_deploy_and_plan_follow_links_with_the_default_port_spelled_out(
    arm_style_proxy: tuple[EmulatorProcess, TlsServer], corpus_dir: Path
) -> None:
    emulator, proxy = arm_style_proxy
    target = target_for(emulator.connection, "arm", endpoint="https://127.0.0.1")
    desired = with_referenced_named_values(read_tree(corpus_dir / "seed-openai-v17").configuration)

    before = read_instance(target)
    plan = compute_plan(desired, before.configuration, ignore_kinds=PORTAL_KINDS)
    report = apply_plan(target, plan)
    after = read_instance(target)

    assert report.ok, report.failed
    assert compute_plan(desired, after.configuration, ignore_kinds=PORTAL_KINDS).is_empty
    followed = [s for s in proxy.seen if "skip=" in s.path and s.method == "GET"]
    polled = [s for s in proxy.seen if s.method == "GET" and "asyncId=" in s.path]
    assert followed, "no next-page link was followed"
    assert polled, "no status link of a long-running write was polled"
    assert {s.host for s in proxy.seen} == {"127.0.0.1"}
