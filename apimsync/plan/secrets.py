"""The one rule for which values a plan never shows or stores.

* the ``value`` of a secret named value (``secret: true`` on either side of a change);
* backend credentials sent as headers or query parameters whose name looks like a key
  (``api-key``, ``Ocp-Apim-Subscription-Key``, ``Authorization``, anything containing
  ``key``, ``secret``, ``token``, ``password``, ``sig``), the backend's authorization
  parameter and proxy password, and a logger's credentials;

except, outside named values, a value that is only a ``{{named value}}`` reference (the
secret lives in the named value, which is masked itself). Every renderer and saved
plans call :func:`mask_value` or :func:`mask_properties`; nothing else decides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from apimsync.model import Kind, Resource
from apimsync.plan.pointer import escape

SENSITIVE: Final = "(sensitive)"

_KEY_LIKE = r"[^/]*(?:key|secret|token|password|sig|authorization)[^/]*"
_SENSITIVE_POINTERS: Mapping[Kind, tuple[re.Pattern[str], ...]] = {
    Kind.BACKEND: tuple(
        re.compile(pattern, re.IGNORECASE)
        for pattern in (
            rf"^/credentials/(?:header|query)/{_KEY_LIKE}(?:/|$)",
            r"^/credentials/authorization/parameter$",
            r"^/proxy/password$",
        )
    ),
    Kind.LOGGER: (re.compile(r"^/credentials/"),),
}
_REFERENCE = re.compile(r"^\s*\{\{[^{}]+\}\}\s*$")


def is_secret(resource: Resource | None) -> bool:
    """Whether ``resource`` is a named value marked ``secret: true``."""
    return (
        resource is not None
        and resource.kind is Kind.NAMED_VALUE
        and resource.properties.get("secret") is True
    )


def is_sensitive(kind: Kind, pointer: str, value: Any, *, secret: bool = False) -> bool:
    """Whether the leaf ``value`` at ``pointer`` (inside ``properties``) must be hidden."""
    if kind is Kind.NAMED_VALUE:
        return secret and (pointer == "/value" or pointer.startswith("/value/"))
    if isinstance(value, str) and _REFERENCE.match(value):
        return False
    return any(pattern.search(pointer) for pattern in _SENSITIVE_POINTERS.get(kind, ()))


def mask_value(kind: Kind, pointer: str, value: Any, *, secret: bool = False) -> Any:
    """``value`` (found at ``pointer``) with every sensitive leaf replaced by SENSITIVE."""
    if isinstance(value, Mapping):
        return {
            key: mask_value(kind, f"{pointer}/{escape(key)}", item, secret=secret)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [
            mask_value(kind, f"{pointer}/{index}", item, secret=secret)
            for index, item in enumerate(value)
        ]
    return SENSITIVE if is_sensitive(kind, pointer, value, secret=secret) else value


def mask_properties(
    resource: Resource | None, *, secret: bool | None = None
) -> dict[str, Any] | None:
    """The resource's properties as plain JSON, masked; None for no resource."""
    if resource is None:
        return None
    flag = is_secret(resource) if secret is None else secret
    masked: dict[str, Any] = mask_value(resource.kind, "", resource.properties, secret=flag)
    return masked
