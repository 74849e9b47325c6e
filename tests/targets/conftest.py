"""Fixtures for the SDK target: a real emulator over HTTPS and fresh, empty instances.

The SDK is the real ``azure-mgmt-apimanagement`` client built by ``Target.client()``; the
only stand-in is the credential (``Target(token=...)`` hands the SDK the emulator's
bearer token, Azure AD sign-in cannot run here).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from apimsync.emulator import Connection, EmulatorProcess
from apimsync.emulator.counters import RequestCounters
from apimsync.model import Configuration, Kind, make_resource
from apimsync.targets.connection import Target

SERVICES = tuple(f"inst{n}" for n in range(24))
PORTAL_KINDS = frozenset({Kind.PORTAL_SIGNUP, Kind.PORTAL_DELEGATION})
"""EMULATOR GAP: the emulator does not implement /portalsettings/signup and
/portalsettings/delegation (GET answers 501 NotImplemented), so tests leave them out."""

NAMED_VALUE_REFERENCE = re.compile(r"\{\{([A-Za-z0-9._-]{1,256})\}\}")


def target_for(conn: Connection, service: str, **changes: Any) -> Target:
    settings: dict[str, Any] = {
        "subscription": conn.subscription_id,
        "resource_group": conn.resource_group,
        "service": service,
        "endpoint": conn.endpoint,
        "ca_bundle": conn.ca_bundle,
        "token": conn.token,
    }
    settings.update(changes)
    return Target(**settings)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(tmp_path_factory.mktemp("emulator"), services=SERVICES) as running:
        yield running


@pytest.fixture(scope="module")
def fresh(emulator: EmulatorProcess) -> Callable[[], Target]:
    """A new empty instance of the module's emulator each call."""
    numbers = itertools.count()

    def make() -> Target:
        return target_for(emulator.connection, SERVICES[next(numbers)])

    return make


@pytest.fixture(scope="module")
def counters(emulator: EmulatorProcess) -> RequestCounters:
    return RequestCounters(emulator.connection)


def with_referenced_named_values(configuration: Configuration) -> Configuration:
    """``configuration`` plus a plain placeholder named value for every ``{{name}}`` its
    policies hold that it does not define.

    The scm exports keep no named values, and the EMULATOR GAP: it resolves every
    ``{{...}}`` of a policy document as a named value, also inside ``template="liquid"``
    bodies and XML comments (which API Management accepted when eshop-v15 was exported),
    and refuses the policy with 400 otherwise.
    """
    defined = {
        str(r.get("displayName") or r.name).casefold()
        for r in configuration.of_kind(Kind.NAMED_VALUE)
    }
    wanted: dict[str, str] = {}
    for policy in configuration.of_kind(Kind.POLICY, Kind.POLICY_FRAGMENT):
        for name in NAMED_VALUE_REFERENCE.findall(str(policy.get("value", ""))):
            if name.casefold() not in defined:
                wanted.setdefault(name.casefold(), name)
    placeholders = [
        make_resource(f"/namedValues/{name}", {"displayName": name, "value": "placeholder"})
        for name in wanted.values()
    ]
    return configuration.with_resources(*placeholders)
