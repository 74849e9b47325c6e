"""Ids between the model and ARM: service-relative in the model, full where the API wants.

The model keys resources by their id relative to the service (``/apis/echo``) and keeps
ids held inside ``properties`` relative too. Reading makes every id under the target's
service relative (:func:`relativize`); writing expands the ids the management API
expects in full (:data:`EXPANDED`, as in the spec's examples) with :func:`expand_ids`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from apimsync.model import Kind
from apimsync.plan import pointer

EXPANDED: Mapping[Kind, tuple[str, ...]] = MappingProxyType(
    {
        Kind.API: ("/apiVersionSetId", "/sourceApiId"),
        Kind.API_RELEASE: ("/apiId",),
        Kind.PRODUCT_API_LINK: ("/apiId",),
        Kind.PRODUCT_GROUP_LINK: ("/groupId",),
        Kind.TAG_API_LINK: ("/apiId",),
        Kind.TAG_OPERATION_LINK: ("/operationId",),
        Kind.TAG_PRODUCT_LINK: ("/productId",),
        Kind.DIAGNOSTIC: ("/loggerId",),
        Kind.BACKEND: ("/pool/services/*/id",),
    }
)
"""Pointers (``*``: every list item) of the properties that hold ids the API wants in full."""


def relative_id(service_path: str, value: str) -> str | None:
    """``{service_path}/apis/x`` -> ``/apis/x`` (letter case ignored); None if not below it."""
    head, rest = value[: len(service_path)], value[len(service_path) :]
    if head.casefold() == service_path.casefold() and rest.startswith("/"):
        return rest
    return None


def relativize(service_path: str, value: Any) -> Any:
    """``value`` (parsed JSON) with every id below the service made service-relative."""
    if isinstance(value, dict):
        return {key: relativize(service_path, item) for key, item in value.items()}
    if isinstance(value, list):
        return [relativize(service_path, item) for item in value]
    if isinstance(value, str):
        found = relative_id(service_path, value)
        return value if found is None else found
    return value


def expand_ids(service_path: str, kind: Kind, properties: dict[str, Any]) -> dict[str, Any]:
    """``properties`` (changed in place and returned) with the :data:`EXPANDED` ids in full."""
    for at in EXPANDED.get(kind, ()):
        _expand_at(properties, pointer.split(at), service_path)
    return properties


def _expand_at(node: Any, parts: list[str], service_path: str) -> None:
    if not parts:
        return
    head, rest = parts[0], parts[1:]
    if head == "*":
        for item in node if isinstance(node, list) else ():
            _expand_at(item, rest, service_path)
        return
    if not isinstance(node, dict) or head not in node:
        return
    if rest:
        _expand_at(node[head], rest, service_path)
        return
    value = node[head]
    if isinstance(value, str) and value.startswith("/") and not _is_full(value):
        node[head] = service_path + value


def _is_full(value: str) -> bool:
    return value.casefold().startswith("/subscriptions/")


def path_names(resource_id: str) -> tuple[str, ...]:
    """The names in a service-relative id, as the SDK takes them (``/apis/a/operations/o``
    -> ``("a", "o")``); portal settings are addressed by their operation group alone."""
    parts = resource_id.strip("/").split("/")
    if parts[0].casefold() == "portalsettings":
        return ()
    return tuple(parts[1::2])


def shape_of(resource_id: str) -> str:
    """The collections of an id (``/apis/a/operations/o`` -> ``apis/operations``): the key
    of the endpoint table. Portal settings keep their fixed name (``portalsettings/signup``)."""
    parts = resource_id.strip("/").split("/")
    if parts[0].casefold() == "portalsettings":
        return "/".join(parts).casefold()
    return "/".join(parts[0::2])


def api_key(resource_id: str) -> str | None:
    """The API whose writes must not overlap (``/apis/a;rev=2/...`` -> ``a``); None if none."""
    parts = resource_id.strip("/").split("/")
    if len(parts) < 2 or parts[0] != "apis":
        return None
    return parts[1].split(";", 1)[0].casefold()
