"""The masking rule: which values a plan never shows."""

from __future__ import annotations

import pytest

from apimsync.model import Kind, make_resource
from apimsync.plan.secrets import SENSITIVE, is_secret, is_sensitive, mask_properties, mask_value


@pytest.mark.parametrize(
    "name",
    [
        "api-key",
        "Ocp-Apim-Subscription-Key",
        "Authorization",
        "x-functions-key",
        "sig",
        "client_secret",
        "X-Auth-Token",
        "password",
        "KEY",
    ],
)
def test_key_like_backend_credentials_are_sensitive(name: str) -> None:
    for where in ("header", "query"):
        assert is_sensitive(Kind.BACKEND, f"/credentials/{where}/{name}/0", "abc")


@pytest.mark.parametrize("name", ["Content-Type", "Accept", "api-version"])
def test_other_backend_credentials_are_shown(name: str) -> None:
    assert not is_sensitive(Kind.BACKEND, f"/credentials/header/{name}/0", "application/json")


def test_a_named_value_reference_is_shown_outside_named_values() -> None:
    assert not is_sensitive(Kind.BACKEND, "/credentials/header/api-key/0", "{{OpenAI-Key}}")
    assert is_sensitive(Kind.BACKEND, "/credentials/header/api-key/0", "Bearer {{token}}")
    assert not is_sensitive(Kind.LOGGER, "/credentials/instrumentationKey", "{{Logger-Key}}")
    assert is_sensitive(Kind.NAMED_VALUE, "/value", "{{other}}", secret=True)


def test_only_a_secret_named_values_value_is_sensitive() -> None:
    secret = make_resource("/namedValues/s", {"displayName": "s", "secret": True, "value": "v"})
    plain = make_resource("/namedValues/p", {"displayName": "p", "value": "v"})

    assert is_secret(secret) and not is_secret(plain) and not is_secret(None)
    assert mask_properties(secret) == {"displayName": "s", "secret": True, "value": SENSITIVE}
    assert mask_properties(plain) == {"displayName": "p", "value": "v"}
    assert mask_properties(plain, secret=True) == {"displayName": "p", "value": SENSITIVE}
    assert mask_properties(None) is None


def test_masking_reaches_into_whatever_value_a_pointer_names() -> None:
    masked = mask_value(
        Kind.BACKEND, "/credentials", {"header": {"api-key": ["a", "{{b}}"], "Accept": ["c"]}}
    )

    assert masked == {"header": {"api-key": [SENSITIVE, "{{b}}"], "Accept": ["c"]}}
    assert mask_value(Kind.BACKEND, "/proxy/password", "p") == SENSITIVE
    assert mask_value(Kind.BACKEND, "/credentials/authorization/parameter", "p") == SENSITIVE
    assert mask_value(Kind.BACKEND, "/credentials/authorization/scheme", "Basic") == "Basic"
