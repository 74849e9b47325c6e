"""The developer-portal settings of the root ``configuration.json``.

The scm file holds them as strings (``"True"``); the model holds the ARM portal settings
resources ``/portalsettings/signup`` and ``/portalsettings/delegation``.
"""

from __future__ import annotations

from typing import Any

from apimsync.model import Resource, make_resource

SIGNUP_ID = "/portalsettings/signup"
DELEGATION_ID = "/portalsettings/delegation"

# scm setting -> (resource id, path of the ARM property, is boolean)
_SETTINGS: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
    ("RegistrationEnabled", SIGNUP_ID, ("enabled",), True),
    ("UserRegistrationTerms", SIGNUP_ID, ("termsOfService", "text"), False),
    ("UserRegistrationTermsEnabled", SIGNUP_ID, ("termsOfService", "enabled"), True),
    (
        "UserRegistrationTermsConsentRequired",
        SIGNUP_ID,
        ("termsOfService", "consentRequired"),
        True,
    ),
    ("DelegationEnabled", DELEGATION_ID, ("userRegistration", "enabled"), True),
    ("DelegationUrl", DELEGATION_ID, ("url",), False),
    ("DelegatedSubscriptionEnabled", DELEGATION_ID, ("subscriptions", "enabled"), True),
)


def settings_to_resources(settings: Any) -> list[Resource]:
    if not isinstance(settings, dict):
        return []
    properties: dict[str, dict[str, Any]] = {SIGNUP_ID: {}, DELEGATION_ID: {}}
    for key, resource_id, path, is_bool in _SETTINGS:
        value = settings.get(key)
        if value is None:
            continue
        if is_bool and isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        _set_path(properties[resource_id], path, value)
    return [make_resource(rid, props) for rid, props in properties.items() if props]


def resources_to_settings(original: Any, resources: dict[str, Resource]) -> dict[str, Any]:
    """The ``settings`` object for ``resources``, in the key order of ``original``."""
    settings: dict[str, Any] = dict(original) if isinstance(original, dict) else {}
    for key, resource_id, path, is_bool in _SETTINGS:
        resource = resources.get(resource_id)
        value = _get_path(resource.properties, path) if resource else None
        if is_bool and isinstance(value, bool):
            value = "True" if value else "False"
        if value is not None or key in settings:
            settings[key] = value
    return settings


def _set_path(target: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value


def _get_path(source: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not hasattr(source, "get"):
            return None
        source = source.get(key)
    return source
