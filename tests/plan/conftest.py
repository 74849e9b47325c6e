"""Configurations for plan tests: the real exports, read once, and the example project."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from apimsync.formats.scm.reader import read_tree
from apimsync.model import Configuration, Resource, make_resource
from tests.conftest import CORPUS, REPO

EXAMPLE = REPO / "examples" / "openai-usage"


@cache
def load(name: str) -> Configuration:
    """An export of the corpus (or ``"example"``: examples/openai-usage), read once."""
    root: Path = EXAMPLE if name == "example" else CORPUS / name
    result = read_tree(root)
    assert not [f for f in result.findings if f.is_error], result.findings
    return result.configuration


def resource(name: str, resource_id: str) -> Resource:
    found = load(name).get(resource_id)
    assert found is not None, resource_id
    return found


SECRETS = (
    "S3cr3t-desired-value",
    "S3cr3t-live-value",
    "plain-then-secret-value",
    "literal-backend-key",
    "literal-live-key",
    "subscription-key-value",
    "sas-signature-value",
    "basic-parameter-value",
    "proxy-password-value",
    "instrumentation-key-value",
    "deleted-backend-token",
)


def secret_scenario() -> tuple[Configuration, Configuration]:
    """A desired and a live configuration where every kind of secret changes."""
    base = load("example")
    desired = base.with_resources(
        make_resource(
            "/namedValues/db-password",
            {"displayName": "db-password", "secret": True, "value": SECRETS[0]},
        ),
        make_resource(
            "/namedValues/promoted", {"displayName": "promoted", "secret": True, "value": "x"}
        ),
        make_resource(
            "/backends/literal",
            {
                "url": "https://literal.example",
                "protocol": "http",
                "credentials": {
                    "header": {"api-key": [SECRETS[3]], "Ocp-Apim-Subscription-Key": [SECRETS[5]]},
                    "query": {"sig": [SECRETS[6]], "plain": ["visible-query-value"]},
                    "authorization": {"scheme": "Basic", "parameter": SECRETS[7]},
                },
                "proxy": {"url": "http://proxy", "username": "u", "password": SECRETS[8]},
            },
        ),
        make_resource(
            "/loggers/insights",
            {
                "loggerType": "applicationInsights",
                "credentials": {"instrumentationKey": SECRETS[9]},
            },
        ),
    )
    live = base.with_resources(
        make_resource(
            "/namedValues/db-password",
            {"displayName": "db-password", "secret": True, "value": SECRETS[1], "tags": ["t"]},
        ),
        make_resource("/namedValues/promoted", {"displayName": "promoted", "value": SECRETS[2]}),
        make_resource(
            "/backends/literal",
            {
                "url": "https://old.example",
                "protocol": "http",
                "credentials": {"header": {"api-key": [SECRETS[4]]}},
            },
        ),
        make_resource(
            "/backends/gone",
            {"url": "https://gone", "credentials": {"header": {"x-auth-token": [SECRETS[10]]}}},
        ),
    )
    return desired, live
