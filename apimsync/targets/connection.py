"""Which APIM instance a command talks to, and with what credential.

Each setting comes from, in order: the command-line option, the environment
(``APIMSYNC_CONNECTION`` naming an emulator's ``connection.json``, or one
``APIMSYNC_<SETTING>`` variable per setting), then ``apimsync.toml`` at the root of the
working folder (table ``[target]``). Against Azure the credential is azure-identity's
``DefaultAzureCredential``; an emulator's connection file supplies its own token.
"""

from __future__ import annotations

import json
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apimsync.errors import UsageError

PUBLIC_CLOUD = "https://management.azure.com"
CONFIG_FILE = "apimsync.toml"
CONNECTION_VARIABLE = "APIMSYNC_CONNECTION"
CONNECT_TIMEOUT = 10.0
"""Seconds a request may take to open its connection (TCP and TLS)."""
READ_TIMEOUT = 60.0
"""Seconds a request may wait for the next part of its answer. No management call keeps
silent this long (long-running writes answer at once and are polled)."""
TIMEOUTS = ("connect_timeout", "read_timeout")
SETTINGS = ("subscription", "resource_group", "service", "endpoint", "ca_bundle", *TIMEOUTS)
_CONNECTION_KEYS = {
    "subscription": "subscription_id",
    "resource_group": "resource_group",
    "service": "service",
    "endpoint": "endpoint",
    "ca_bundle": "ca_bundle",
}


class TargetError(UsageError):
    """The target instance is not fully named, or one of its settings is unusable."""

    @classmethod
    def missing(cls, names: list[str]) -> TargetError:
        hints = ", ".join(f"--{n.replace('_', '-')} / APIMSYNC_{n.upper()}" for n in names)
        return cls(
            f"no target instance: {', '.join(names)} not set. Set {hints}, point "
            f"{CONNECTION_VARIABLE} at an emulator's connection.json, or add them to the "
            f"[target] table of {CONFIG_FILE}"
        )

    @classmethod
    def bad_file(cls, path: Path, problem: str) -> TargetError:
        return cls(f"{path}: {problem}")

    @classmethod
    def not_https(cls, endpoint: str) -> TargetError:
        return cls(
            f"endpoint {endpoint} is not an https:// URL: the management API takes its bearer "
            "token over TLS only. Set --endpoint / APIMSYNC_ENDPOINT to an https:// URL"
        )

    @classmethod
    def no_ca_bundle(cls, path: str) -> TargetError:
        return cls(
            f"ca_bundle {path} is not a file; point --ca-bundle / APIMSYNC_CA_BUNDLE at the "
            "PEM file of the CAs to trust (an emulator's is DATA/tls/ca.pem)"
        )

    @classmethod
    def bad_timeout(cls, name: str, value: str) -> TargetError:
        option = name.replace("_", "-")
        return cls(
            f"{option} '{value}' is not a number of seconds above 0; set --{option} / "
            f"APIMSYNC_{name.upper()} (or {name} in [target] of {CONFIG_FILE}) to one, like 30"
        )


@dataclass(frozen=True)
class Target:
    subscription: str
    resource_group: str
    service: str
    endpoint: str = PUBLIC_CLOUD
    ca_bundle: str | None = None
    token: str | None = field(default=None, repr=False)
    """A fixed bearer token (the emulator's); None means sign in with azure-identity."""
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT

    @property
    def service_path(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.ApiManagement/service/{self.service}"
        )

    def describe(self) -> str:
        return f"{self.service} ({self.resource_group}, {self.endpoint})"

    def credential(self) -> Any:
        if self.token is not None:
            return StaticTokenCredential(self.token)
        from azure.identity import DefaultAzureCredential

        return DefaultAzureCredential()

    def client(self, **options: Any) -> Any:
        """The real ``ApiManagementClient`` for this target, with only the pipeline
        policies apimsync uses (:mod:`apimsync.targets.pipeline`), over a session that
        refuses oversized answers (:mod:`apimsync.targets.transport`)."""
        from azure.mgmt.apimanagement import ApiManagementClient

        from apimsync.targets.pipeline import lean_policies
        from apimsync.targets.transport import capped_session

        if self.ca_bundle:
            options.setdefault("connection_verify", self.ca_bundle)
        options.setdefault("connection_timeout", self.connect_timeout)
        options.setdefault("read_timeout", self.read_timeout)
        options.setdefault("session", capped_session())
        credential = self.credential()
        scope = f"{self.endpoint}/.default"
        options.setdefault("policies", lean_policies(credential, scope, **options))
        return ApiManagementClient(
            credential,
            self.subscription,
            base_url=self.endpoint,
            credential_scopes=[scope],
            **options,
        )


class StaticTokenCredential:
    """A credential that returns one fixed bearer token (for the emulator)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "StaticTokenCredential(<hidden>)"

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(self._token, int(time.time()) + 3600)


def resolve_target(
    options: Mapping[str, str | None], environ: Mapping[str, str], directory: Path
) -> Target:
    """The target from options, then environment, then ``apimsync.toml`` in ``directory``."""
    layers = [
        {k: v for k, v in options.items() if v},
        _environment_settings(environ),
        _file_settings(directory / CONFIG_FILE),
    ]
    chosen: dict[str, str] = {}
    for name in (*SETTINGS, "token"):
        for layer in layers:
            if layer.get(name):
                chosen[name] = str(layer[name])
                break
    missing = [n for n in ("subscription", "resource_group", "service") if n not in chosen]
    if missing:
        raise TargetError.missing(missing)
    endpoint = chosen.get("endpoint", PUBLIC_CLOUD).rstrip("/")
    if not endpoint.lower().startswith("https://"):
        raise TargetError.not_https(endpoint)
    ca_bundle = chosen.get("ca_bundle")
    if ca_bundle is not None and not Path(ca_bundle).is_file():
        raise TargetError.no_ca_bundle(ca_bundle)
    return Target(
        subscription=chosen["subscription"],
        resource_group=chosen["resource_group"],
        service=chosen["service"],
        endpoint=endpoint,
        ca_bundle=ca_bundle,
        token=chosen.get("token"),
        connect_timeout=_seconds("connect_timeout", chosen.get("connect_timeout"), CONNECT_TIMEOUT),
        read_timeout=_seconds("read_timeout", chosen.get("read_timeout"), READ_TIMEOUT),
    )


def _seconds(name: str, value: str | None, default: float) -> float:
    if value is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise TargetError.bad_timeout(name, value)
    return seconds


def _environment_settings(environ: Mapping[str, str]) -> dict[str, str]:
    settings: dict[str, str] = {}
    connection = environ.get(CONNECTION_VARIABLE)
    if connection:
        settings.update(read_connection_file(Path(connection)))
    for name in SETTINGS:
        value = environ.get(f"APIMSYNC_{name.upper()}")
        if value:
            settings[name] = value
    return settings


def read_connection_file(path: Path) -> dict[str, str]:
    """Settings and token from an emulator's ``connection.json``."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TargetError.bad_file(path, "does not exist; start the emulator first") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise TargetError.bad_file(path, f"is not a readable connection file ({error})") from None
    if not isinstance(document, dict):
        raise TargetError.bad_file(path, "is not a connection file (expected a JSON object)")
    settings = {
        name: str(document[key])
        for name, key in _CONNECTION_KEYS.items()
        if isinstance(document.get(key), str)
    }
    if isinstance(document.get("token"), str):
        settings["token"] = document["token"]
    return settings


def _file_settings(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise TargetError.bad_file(path, f"is not valid TOML ({error}); fix it") from None
    table = document.get("target", {})
    if not isinstance(table, dict):
        raise TargetError.bad_file(path, "[target] must be a table")
    unknown = sorted(set(table) - set(SETTINGS))
    if unknown:
        raise TargetError.bad_file(
            path, f"unknown [target] keys {unknown}; allowed: {', '.join(SETTINGS)}"
        )
    return {k: str(v) for k, v in table.items()}
