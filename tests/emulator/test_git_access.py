"""Git access: the tenant settings, their keys and the git passwords minted from them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.apimanagement import ApiManagementClient

from apimsync.emulator import EmulatorProcess, verify_git_password
from apimsync.emulator.tokens import mint_git_password

from .conftest import RawClient

TOKEN = re.compile(r"^git&\d{12}&[A-Za-z0-9+/]{86}==$")


def _soon(days: int = 1) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=days)


def mint(client: ApiManagementClient, rg: str, svc: str, key_type: str = "primary") -> str:
    answer = client.user.get_shared_access_token(
        rg, svc, "git", {"key_type": key_type, "expiry": _soon()}
    )
    return str(answer.value)


def test_git_access_settings(client: ApiManagementClient, rg: str, svc: str) -> None:
    access = client.tenant_access.get(rg, svc, "gitAccess")
    assert access.id.endswith(f"/service/{svc}/tenant/gitAccess")
    assert (access.name, access.principal_id, access.enabled) == ("gitAccess", "git", True)
    secrets = client.tenant_access.list_secrets(rg, svc, "gitAccess")
    assert len(secrets.primary_key) == 88 and secrets.primary_key != secrets.secondary_key
    assert "primaryKey" not in str(client.tenant_access.get(rg, svc, "gitAccess").as_dict())
    names = sorted(a.name for a in client.tenant_access.list_by_service(rg, svc))
    assert names == ["access", "gitAccess"]


def test_git_passwords_are_minted_and_verifiable(
    client: ApiManagementClient, emulator: EmulatorProcess, rg: str, svc: str
) -> None:
    password = mint(client, rg, svc)
    assert TOKEN.match(password), password
    assert verify_git_password(emulator.data_dir, svc, password)
    secondary = mint(client, rg, svc, "secondary")
    assert verify_git_password(emulator.data_dir, svc, secondary)
    assert not verify_git_password(emulator.data_dir, svc, password[:-4] + "AAA=")
    assert not verify_git_password(emulator.data_dir, "apim-second", password)
    keys = client.tenant_access.list_secrets(rg, svc, "gitAccess")
    expired = mint_git_password("git", _soon(-1), keys.primary_key)
    assert not verify_git_password(emulator.data_dir, svc, expired)


def test_regenerating_a_key_revokes_its_passwords(
    client: ApiManagementClient, emulator: EmulatorProcess, rg: str, svc: str
) -> None:
    primary, secondary = mint(client, rg, svc), mint(client, rg, svc, "secondary")
    before = client.tenant_access.list_secrets(rg, svc, "gitAccess")
    client.tenant_access_git.regenerate_primary_key(rg, svc, "gitAccess")
    after = client.tenant_access.list_secrets(rg, svc, "gitAccess")
    assert after.primary_key != before.primary_key
    assert after.secondary_key == before.secondary_key
    assert not verify_git_password(emulator.data_dir, svc, primary)
    assert verify_git_password(emulator.data_dir, svc, secondary)
    client.tenant_access.regenerate_secondary_key(rg, svc, "gitAccess")
    assert not verify_git_password(emulator.data_dir, svc, secondary)


def test_disabled_git_access_refuses_passwords(
    client: ApiManagementClient, emulator: EmulatorProcess, raw: RawClient, rg: str
) -> None:
    service = "apim-second"
    password = mint(client, rg, service)
    assert verify_git_password(emulator.data_dir, service, password)
    assert (
        raw.call(
            "PATCH", "tenant/gitAccess", {"properties": {"enabled": False}}, service=service
        ).status
        == 400
    )
    changed = client.tenant_access.update(rg, service, "gitAccess", "*", {"enabled": False})
    assert changed.enabled is False
    assert not verify_git_password(emulator.data_dir, service, password)
    client.tenant_access.create(rg, service, "gitAccess", "*", {"enabled": True})
    assert verify_git_password(emulator.data_dir, service, password)


@pytest.mark.parametrize(
    "properties",
    [
        {"keyType": "primary", "expiry": "2999-01-01T00:00:00Z"},
        {"keyType": "tertiary", "expiry": "2030-01-01T00:00:00Z"},
        {"keyType": "primary"},
        {"keyType": "primary", "expiry": "tomorrow"},
    ],
)
def test_bad_token_requests_are_400(raw: RawClient, properties: dict[str, str]) -> None:
    answer = raw.call("POST", "users/git/token", {"properties": properties})
    assert answer.status == 400
    assert answer.body["error"]["code"] == "ValidationError"


def test_tokens_for_unknown_users_are_404(client: ApiManagementClient, rg: str, svc: str) -> None:
    with pytest.raises(HttpResponseError) as caught:
        client.user.get_shared_access_token(
            rg, svc, "nobody", {"key_type": "primary", "expiry": _soon()}
        )
    assert caught.value.status_code == 404
