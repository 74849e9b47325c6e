"""Choosing the instance: options, then the environment, then apimsync.toml; timeouts and
endpoints that cannot work are refused before any request."""

from __future__ import annotations

from pathlib import Path

import pytest

from apimsync.errors import UsageError
from apimsync.targets.connection import CONNECT_TIMEOUT, READ_TIMEOUT, resolve_target

NAMED = {"subscription": "s", "resource_group": "rg", "service": "svc"}


def test_timeouts_default_and_come_from_options_environment_and_file(tmp_path: Path) -> None:
    (tmp_path / "apimsync.toml").write_text("[target]\nread_timeout = 90\n", encoding="utf-8")
    environ = {"APIMSYNC_CONNECT_TIMEOUT": "2.5"}

    default = resolve_target(NAMED, {}, tmp_path / "elsewhere")
    chosen = resolve_target(NAMED, environ, tmp_path)
    option = resolve_target({**NAMED, "read_timeout": "5"}, environ, tmp_path)

    assert (default.connect_timeout, default.read_timeout) == (CONNECT_TIMEOUT, READ_TIMEOUT)
    assert (chosen.connect_timeout, chosen.read_timeout) == (2.5, 90.0)
    assert option.read_timeout == 5.0


@pytest.mark.parametrize("value", ["abc", "0", "-3", "inf", "nan"])
def test_a_timeout_that_is_not_a_positive_number_is_a_usage_error(
    value: str, tmp_path: Path
) -> None:
    with pytest.raises(UsageError) as refused:
        resolve_target(NAMED, {"APIMSYNC_READ_TIMEOUT": value}, tmp_path)

    assert f"read-timeout '{value}'" in str(refused.value)
    assert "APIMSYNC_READ_TIMEOUT" in str(refused.value)


def test_a_plain_http_endpoint_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as refused:
        resolve_target({**NAMED, "endpoint": "http://127.0.0.1:8080/"}, {}, tmp_path)

    assert "http://127.0.0.1:8080 is not an https:// URL" in str(refused.value)


def test_a_missing_ca_bundle_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "ca.pem"

    with pytest.raises(UsageError) as refused:
        resolve_target({**NAMED, "ca_bundle": str(missing)}, {}, tmp_path)

    assert f"ca_bundle {missing} is not a file" in str(refused.value)
