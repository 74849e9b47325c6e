"""Secrets written in plain text: ``secret-literal`` warnings.

Secrets belong in secret named values (value from the environment at deploy time) or in
Key Vault, referred to as ``{{name}}``. This check looks for what a leaked secret looks
like in policies, policy fragments, backend credentials (headers, query parameters,
authorization, proxy password), logger credentials and plain named values: SAS token
signatures (``sig=``), account and shared access keys in connection strings, passwords,
JSON web tokens (``Bearer ey...``), OpenAI-style ``sk-`` keys, and long hex or base64
values sent as ``api-key`` or ``Ocp-Apim-Subscription-Key``. A warning names the file,
line, column and the kind of secret, never the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from apimsync.formats.layouts import TreeLayout
from apimsync.model import Configuration, Kind, Resource
from apimsync.validate.findings import Findings

CODE = "secret-literal"

_PATTERNS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    # (what it is, a lower-case text every match contains, the pattern)
    ("a SAS token signature (sig=)", "sig=", re.compile(r"\bsig=[A-Za-z0-9%+/=]{16,}", re.I)),
    (
        "an account key (AccountKey=)",
        "accountkey=",
        re.compile(r"AccountKey=[A-Za-z0-9+/=]{16,}", re.I),
    ),
    (
        "a shared access key (SharedAccessKey=)",
        "sharedaccesskey=",
        re.compile(r"SharedAccessKey=[A-Za-z0-9+/=]{16,}", re.I),
    ),
    (
        "a password in a connection string",
        "=",
        re.compile(r"(?:^|;)\s*(?:Password|Pwd)=(?!\{\{)[^;\s]{4,}", re.I),
    ),
    (
        "a JSON web token (Bearer ey...)",
        ".ey",
        re.compile(r"\bey[A-Za-z0-9_-]{10,}\.ey[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*"),
    ),
    ("an API key (sk-...)", "sk-", re.compile(r"\bsk-[A-Za-z0-9_-]{20,}")),
)
_LONG_KEY = re.compile(r"^\s*(?:[0-9a-fA-F]{32,}|[A-Za-z0-9+/_-]{32,}={0,2})\s*$")
_GUID = re.compile(r"^\s*\{?[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\}?\s*$")
_URL = re.compile(r"^https?://", re.IGNORECASE)
_KEY_NAMES = re.compile(r"key|secret|token|password|sig|authorization", re.IGNORECASE)
_REFERENCE_ONLY = re.compile(r"^\s*\{\{[^{}]+\}\}\s*$")
_KEY_HEADER_VALUE = re.compile(
    r"<(set-header|set-query-parameter)\b[^>]*\bname\s*=\s*\"([^\"]*)\"[^>]*>\s*"
    r"<value>([^<]*)</value>",
    re.IGNORECASE,
)
_PASSWORD_ATTRIBUTE = re.compile(r"\bpassword\s*=\s*\"(?!\s*\{\{)(?!\s*@)([^\"]+)\"")


def check_secrets(configuration: Configuration, layout: TreeLayout, findings: Findings) -> None:
    """Warn about every secret-looking literal in the configuration's files."""
    for resource in configuration.of_kind(Kind.POLICY, Kind.POLICY_FRAGMENT):
        path = layout.policy_files.get(resource.id)
        if path is not None:
            _check_policy_file(path, layout, findings)
    for resource in configuration.of_kind(Kind.BACKEND, Kind.LOGGER, Kind.NAMED_VALUE):
        for pointer, value, key_like in _credential_values(resource):
            what = _secret_in(value, key_like)
            if what is not None:
                path, line, column = _where(layout, resource, pointer)
                findings.warning(path, line, column, CODE, _message(what))


def _check_policy_file(path: str, layout: TreeLayout, findings: Findings) -> None:
    source = layout.files.get(path)
    text = source.text if source is not None else None
    if not text:
        return
    for offset, what in _policy_secrets(text):
        line, column = _position(text, offset)
        findings.warning(path, line, column, CODE, _message(what))


def _policy_secrets(text: str) -> Iterator[tuple[int, str]]:
    # A pattern runs only on a document holding its literal part: most policies hold
    # none, and the case-insensitive patterns are slow on long documents.
    lowered = text.lower()
    for what, needle, pattern in _PATTERNS:
        if needle in lowered:
            for match in pattern.finditer(text):
                yield match.start(), what
    if "<set-header" in lowered or "<set-query-parameter" in lowered:
        for match in _KEY_HEADER_VALUE.finditer(text):
            name, value = match.group(2), match.group(3)
            if _KEY_NAMES.search(name) and _LONG_KEY.match(value):
                yield match.start(3), f"a key sent as '{name}'"
    if "password" in lowered:
        for match in _PASSWORD_ATTRIBUTE.finditer(text):
            yield match.start(1), "a password attribute"


def _mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is an object; {} for anything else (the schema check reports it)."""
    return value if isinstance(value, Mapping) else {}


def _credential_values(resource: Resource) -> Iterator[tuple[str, str, bool]]:
    """(pointer, value, whether its name says it is a key) of each value to check."""
    properties = resource.properties
    if resource.kind is Kind.NAMED_VALUE:
        if not properties.get("secret") and isinstance(properties.get("value"), str):
            yield "/value", properties["value"], bool(_KEY_NAMES.search(resource.name))
        return
    credentials = _mapping(properties.get("credentials"))
    if resource.kind is Kind.LOGGER:
        for key, value in credentials.items():
            if isinstance(value, str):
                yield f"/credentials/{key}", value, True
        return
    for family in ("header", "query"):
        for name, values in _mapping(credentials.get(family)).items():
            for index, value in enumerate(values if isinstance(values, tuple | list) else ()):
                if isinstance(value, str):
                    yield (
                        f"/credentials/{family}/{name}/{index}",
                        value,
                        bool(_KEY_NAMES.search(name)),
                    )
    authorization = _mapping(credentials.get("authorization"))
    if isinstance(authorization.get("parameter"), str):
        yield "/credentials/authorization/parameter", authorization["parameter"], True
    proxy = _mapping(properties.get("proxy"))
    if isinstance(proxy.get("password"), str):
        yield "/proxy/password", proxy["password"], True


def _secret_in(value: str, key_like: bool) -> str | None:
    """What kind of secret ``value`` looks like, or None."""
    if not value.strip() or _REFERENCE_ONLY.match(value):
        return None
    for what, _, pattern in _PATTERNS:
        if pattern.search(value):
            return what
    if _LONG_KEY.match(value) and _mixed(value) and not _GUID.match(value):
        return "a key (a long hex or base64 value)"
    plain = value.strip()
    if key_like and "{{" not in plain and len(plain) >= 8 and not _URL.match(plain):
        return "a credential"
    return None


def _mixed(value: str) -> bool:
    return any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


def _message(what: str) -> str:
    return (
        f"holds what looks like {what} in plain text; keep it in a secret named value "
        '("secret": true, its value set at deploy time) or in Key Vault, and refer to it '
        "as {{name}}"
    )


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _where(layout: TreeLayout, resource: Resource, pointer: str) -> tuple[str, int, int]:
    return layout.locate(resource, pointer)
