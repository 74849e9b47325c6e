"""Secrets of the emulator: the bearer token it accepts and the git passwords it mints.

A git password has the shape API Management uses,
``{user}&{YYYYMMDDHHMM}&{base64 HMAC-SHA512}``, where the expiry is UTC and the signature
covers ``{user}&{YYYYMMDDHHMM}``, keyed by one of the service's ``gitAccess`` keys
(``keyType`` primary or secondary). Regenerating a key therefore revokes the passwords
it signed, as in API Management. :func:`verify_git_password` checks what
:func:`mint_git_password` made; the git endpoint uses it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

STAMP_FORMAT = "%Y%m%d%H%M"
MAX_GIT_TOKEN_LIFETIME = dt.timedelta(days=30)


def new_key() -> str:
    """A fresh access key, 64 random bytes in base64 (88 characters), as APIM issues."""
    return base64.b64encode(secrets.token_bytes(64)).decode("ascii")


def load_or_create_token(path: Path) -> str:
    """The bearer token stored at ``path`` (mode 0600), created on first use."""
    if path.exists():
        token = path.read_text(encoding="ascii").strip()
        if token:
            return token
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(token)
    return token


def tokens_match(presented: str, expected: str) -> bool:
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


def _signature(key: str, signed: str) -> str:
    digest = hmac.new(key.encode("utf-8"), signed.encode("utf-8"), hashlib.sha512).digest()
    return base64.b64encode(digest).decode("ascii")


def mint_git_password(user: str, expiry: dt.datetime, key: str) -> str:
    """A password for ``user`` valid until ``expiry`` (minute precision), signed with ``key``."""
    stamp = expiry.astimezone(dt.UTC).strftime(STAMP_FORMAT)
    signed = f"{user}&{stamp}"
    return f"{signed}&{_signature(key, signed)}"


def parse_git_password(password: str) -> tuple[str, dt.datetime] | None:
    """``(user, expiry)`` of a well-formed password, or None."""
    parts = password.rsplit("&", 2)
    if len(parts) != 3 or not parts[0]:
        return None
    try:
        expiry = dt.datetime.strptime(parts[1], STAMP_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        return None
    return parts[0], expiry


def verify_git_password(
    password: str,
    keys: Iterable[str],
    *,
    user: str | None = "git",
    now: dt.datetime | None = None,
) -> bool:
    """Whether ``password`` was minted with one of ``keys``, for ``user``, and has not expired."""
    parsed = parse_git_password(password)
    if parsed is None:
        return False
    owner, expiry = parsed
    if user is not None and owner.lower() != user.lower():
        return False
    if expiry <= (now or dt.datetime.now(dt.UTC)):
        return False
    signed, _, signature = password.rpartition("&")
    return any(hmac.compare_digest(_signature(k, signed), signature) for k in keys if k)
