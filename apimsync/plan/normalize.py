"""The comparable form of a resource: what the desired and the live side must agree on.

:func:`normalize` turns a resource's ``properties`` into a form where two resources that
mean the same compare equal, whichever side they were read from:

* read-only and server-filled properties are dropped (:data:`RULES`, checked against
  the ``readOnly`` marks of the spec's ``definitions.json`` by the tests);
* ``null`` is absent, and so is an empty list or object;
* documented server defaults are filled in where a property is absent;
* full ARM ids (``/subscriptions/.../service/<svc>/apis/x``) become service-relative;
* lists whose order the server does not keep (``protocols``, ``tags``) are sorted;
* policies and fragments compare their canonical text (``format`` is ignored);
* a secret named value's ``value`` is dropped: the server never returns it;
* what the real service rewrites on every write is written its way (an operation's
  leading ``/``, ``required: false`` left out, a version set's unused name), and what it
  fills in is a default (a diagnostic's ``logClientIp``, correlation protocol and
  query-string masking), as recorded in ``real-service-behaviour.md``.

:func:`comparable_pair` compares a desired resource with a live one: values the service
hides behind placeholders (logger credentials) are left out of both sides.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from apimsync.jsonvalue import FrozenMap, thaw
from apimsync.model import Kind, Resource, make_resource
from apimsync.plan import pointer
from apimsync.policy import PolicySyntaxError, canonical_policy
from apimsync.schemadocs import definitions_of


@dataclass(frozen=True)
class KindRules:
    """How one kind's properties are made comparable."""

    contract: str | None
    """The spec definition of the kind's ``properties`` (None: not in definitions.json)."""
    read_only: tuple[str, ...] = ()
    """Pointers the server fills or ignores: marked ``readOnly`` or known server-filled."""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    """Pointer -> the value the server uses when the property is absent."""
    unordered: tuple[str, ...] = ()
    """Pointers of lists whose order carries no meaning."""


SERVER_FILLED = ("/provisioningState", "/createdDateTime", "/updatedDateTime")
"""Dropped from every kind."""

_SUBSCRIPTION_KEY_NAMES = {"header": "Ocp-Apim-Subscription-Key", "query": "subscription-key"}

API_IMPORT_ONLY = ("/format", "/value", "/wsdlSelector", "/translateRequiredQueryParameters")
"""An API's import properties (a specification to import): the service imports them and
never returns them; what they define is compared as the operations they create."""

RULES: Mapping[Kind, KindRules] = MappingProxyType(
    {
        Kind.API: KindRules(
            "ApiContractProperties",
            read_only=("/isOnline", "/apiVersionSet", "/sourceApiId", *API_IMPORT_ONLY),
            defaults={
                "/type": "http",
                "/subscriptionRequired": True,
                "/protocols": ["https"],
                "/subscriptionKeyParameterNames": _SUBSCRIPTION_KEY_NAMES,
            },
            unordered=("/protocols",),
        ),
        Kind.OPERATION: KindRules("OperationContractProperties"),
        Kind.API_SCHEMA: KindRules("SchemaContractProperties"),
        Kind.API_RELEASE: KindRules("ApiReleaseContractProperties"),
        Kind.API_VERSION_SET: KindRules("ApiVersionSetContractProperties"),
        Kind.BACKEND: KindRules(
            "BackendContractProperties",
            defaults={
                "/type": "Single",
                "/tls/validateCertificateChain": True,
                "/tls/validateCertificateName": True,
            },
        ),
        Kind.PRODUCT: KindRules(
            "ProductContractProperties",
            defaults={
                "/subscriptionRequired": True,
                "/approvalRequired": False,
                "/state": "notPublished",
            },
        ),
        Kind.PRODUCT_API_LINK: KindRules("ProductApiLinkContractProperties"),
        Kind.PRODUCT_GROUP_LINK: KindRules("ProductGroupLinkContractProperties"),
        Kind.GROUP: KindRules(
            "GroupContractProperties", read_only=("/builtIn",), defaults={"/type": "custom"}
        ),
        Kind.TAG: KindRules("TagContractProperties"),
        Kind.TAG_API_LINK: KindRules("TagApiLinkContractProperties"),
        Kind.TAG_OPERATION_LINK: KindRules("TagOperationLinkContractProperties"),
        Kind.TAG_PRODUCT_LINK: KindRules("TagProductLinkContractProperties"),
        Kind.NAMED_VALUE: KindRules(
            "NamedValueContractProperties",
            read_only=("/keyVault/lastStatus",),
            defaults={"/secret": False},
            unordered=("/tags",),
        ),
        Kind.POLICY_FRAGMENT: KindRules("PolicyFragmentContractProperties", read_only=("/format",)),
        Kind.LOGGER: KindRules("LoggerContractProperties", defaults={"/isBuffered": True}),
        Kind.DIAGNOSTIC: KindRules(
            "DiagnosticContractProperties",
            # What the service fills in when a diagnostic is written without them
            # (real-service-behaviour.md §11, [ADIAG23 p@14000], newest recorded).
            defaults={
                "/logClientIp": True,
                "/httpCorrelationProtocol": "Legacy",
                "/operationNameFormat": "Name",
                "/frontend/request/dataMasking/queryParams": [{"value": "*", "mode": "Hide"}],
                "/backend/request/dataMasking/queryParams": [{"value": "*", "mode": "Hide"}],
            },
        ),
        Kind.POLICY: KindRules("PolicyContractProperties", read_only=("/format",)),
        Kind.PORTAL_SIGNUP: KindRules("PortalSignupSettingsProperties"),
        Kind.PORTAL_DELEGATION: KindRules("PortalDelegationSettingsProperties"),
    }
)

_ARM_PREFIX = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.ApiManagement"
    r"/service/[^/]+(?=/)",
    re.IGNORECASE,
)


def service_relative(value: str) -> str:
    """``/subscriptions/.../service/svc/apis/x`` -> ``/apis/x``; other text unchanged."""
    return _ARM_PREFIX.sub("", value, count=1)


def normalize(resource: Resource) -> FrozenMap:
    """The comparable form of ``resource.properties``."""
    rules = RULES[resource.kind]
    data = _clean(thaw(resource.properties))
    for at in SERVER_FILLED + rules.read_only:
        _remove(data, at)
    hook = _HOOKS.get(resource.kind)
    if hook is not None:
        hook(resource.id, data)
    for at, value in rules.defaults.items():
        _set_default(data, at, thaw(value))
    for at in rules.unordered:
        _sort_list(data, at)
    return FrozenMap(_clean(data))


def link_target(resource: Resource) -> str | None:
    """What a link resource links to (``/apis/a``), for matching links by target."""
    key = LINK_TARGET_KEYS.get(resource.kind)
    if key is None:
        return None
    value = resource.properties.get(key)
    return _link_target_value(value) if isinstance(value, str) else None


def _link_target_value(value: str) -> str:
    """Links name an API, not a revision: APIM answers ``/apis/x;rev=1`` as ``/apis/x``."""
    return _REVISION.sub("", service_relative(value))


_REVISION = re.compile(r";rev=\d+(?=/|$)")


def _link(resource_id: str, data: dict[str, Any]) -> None:
    for key in ("apiId", "operationId"):
        if isinstance(data.get(key), str):
            data[key] = _link_target_value(data[key])


LINK_TARGET_KEYS: Mapping[Kind, str] = MappingProxyType(
    {
        Kind.PRODUCT_API_LINK: "apiId",
        Kind.PRODUCT_GROUP_LINK: "groupId",
        Kind.TAG_API_LINK: "apiId",
        Kind.TAG_OPERATION_LINK: "operationId",
        Kind.TAG_PRODUCT_LINK: "productId",
    }
)


# -- generic steps ---------------------------------------------------------------------


def _clean(value: Any) -> Any:
    """Drop nulls and empty lists/objects (at any depth); make ARM ids service-relative."""
    if isinstance(value, dict):
        items = ((key, _clean(item)) for key, item in value.items())
        return {key: item for key, item in items if not _is_absent(item)}
    if isinstance(value, list):
        return [_clean(item) for item in value]
    if isinstance(value, str):
        return service_relative(value)
    return value


def _is_absent(value: Any) -> bool:
    return value is None or (isinstance(value, dict | list) and not value)


def _remove(data: dict[str, Any], at: str) -> None:
    *parents, last = pointer.split(at)
    node: Any = data
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(last, None)


def _set_default(data: dict[str, Any], at: str, value: Any) -> None:
    *parents, last = pointer.split(at)
    node = data
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            return
        node = child
    node.setdefault(last, value)


def _sort_list(data: dict[str, Any], at: str) -> None:
    *parents, last = pointer.split(at)
    node: Any = data
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict) and isinstance(node.get(last), list):
        node[last] = sorted(node[last], key=_sort_key)


def _sort_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


# -- kind-specific steps ---------------------------------------------------------------


def _api(resource_id: str, data: dict[str, Any]) -> None:
    _, separator, revision = resource_id.partition(";rev=")
    if separator:
        data.setdefault("apiRevision", revision)
        data.setdefault("isCurrent", False)
    else:
        # The id without ";rev=" always names the current revision: the server decides.
        data.pop("isCurrent", None)
        data.setdefault("apiRevision", "1")
    settings = data.get("authenticationSettings")
    if isinstance(settings, dict):
        _single_to_list(settings, "oAuth2", "oAuth2AuthenticationSettings")
        _single_to_list(settings, "openid", "openidAuthenticationSettings")


def _single_to_list(settings: dict[str, Any], single: str, many: str) -> None:
    """The server mirrors the single (older) setting into the list; compare the list."""
    value = settings.pop(single, None)
    if value is not None and not settings.get(many):
        settings[many] = [value]


def _operation(resource_id: str, data: dict[str, Any]) -> None:
    """The service writes a URL template with a leading ``/`` and leaves ``required: false``
    out of parameters (§7, [REV20 p@68000], [REV23 p@84000])."""
    template = data.get("urlTemplate")
    if isinstance(template, str) and not template.startswith("/"):
        data["urlTemplate"] = "/" + template
    request = data.get("request")
    parameter_lists = [data.get("templateParameters")]
    if isinstance(request, dict):
        parameter_lists += [request.get("queryParameters"), request.get("headers")]
        parameter_lists += [
            representation.get("formParameters")
            for representation in request.get("representations") or ()
            if isinstance(representation, dict)
        ]
    parameter_lists += [
        response.get("headers")
        for response in data.get("responses") or ()
        if isinstance(response, dict)
    ]
    for parameters in parameter_lists:
        for parameter in parameters if isinstance(parameters, list) else ():
            if isinstance(parameter, dict) and parameter.get("required") is False:
                del parameter["required"]


def _schema(resource_id: str, data: dict[str, Any]) -> None:
    """A swagger-definitions document compares as its object, whichever form it came in
    (:mod:`apimsync.schemadocs`); another JSON document sent as text as the JSON it holds."""
    definitions = definitions_of(data)
    if definitions is not None:
        data["document"] = {"definitions": definitions}
    else:
        _json_document(data)


def _version_set(resource_id: str, data: dict[str, Any]) -> None:
    """Only the scheme's own name means something: the service keeps the other one when
    the scheme changes (§15, [AVS20 e6, e7])."""
    scheme = str(data.get("versioningScheme", "")).casefold()
    if scheme != "header":
        data.pop("versionHeaderName", None)
    if scheme != "query":
        data.pop("versionQueryName", None)


def _json_document(data: dict[str, Any]) -> None:
    """A schema document sent as JSON text compares as the JSON it holds: the service
    keeps some as text (``document.value``) and answers others as the object (those an
    import creates); a layout that holds documents only as text writes the object so."""
    document = data.get("document")
    value = document.get("value") if isinstance(document, dict) and len(document) == 1 else None
    if not isinstance(value, str) or not value.lstrip().startswith("{"):
        return
    try:
        parsed = json.loads(value)
    except ValueError:
        return
    if isinstance(parsed, dict):
        data["document"] = _clean(parsed)


def _named_value(resource_id: str, data: dict[str, Any]) -> None:
    if data.get("secret") is True:
        data.pop("value", None)


def _policy(resource_id: str, data: dict[str, Any]) -> None:
    value = data.get("value")
    if isinstance(value, str):
        data["value"] = _canonical(value, fragment=False)


def _fragment(resource_id: str, data: dict[str, Any]) -> None:
    value = data.get("value")
    if isinstance(value, str):
        data["value"] = _canonical(value, fragment=True)


@lru_cache(maxsize=4096)
def _canonical(text: str, *, fragment: bool) -> str:
    """The canonical policy text; text that does not parse is compared as it is.

    A fragment read without its ``<fragment>`` root (some GET formats) gets it back.
    """
    result = _try_canonical(text)
    if fragment and (result is None or not result.startswith("<fragment")):
        result = _try_canonical(f"<fragment>{text}</fragment>") or result
    return result if result is not None else text.replace("\r\n", "\n").strip()


def _try_canonical(text: str) -> str | None:
    try:
        return canonical_policy(text)
    except PolicySyntaxError:
        return None


_HOOKS: Mapping[Kind, Callable[[str, dict[str, Any]], None]] = MappingProxyType(
    {
        Kind.API: _api,
        Kind.OPERATION: _operation,
        Kind.API_SCHEMA: _schema,
        Kind.API_VERSION_SET: _version_set,
        Kind.API_RELEASE: _link,
        Kind.PRODUCT_API_LINK: _link,
        Kind.TAG_API_LINK: _link,
        Kind.TAG_OPERATION_LINK: _link,
        Kind.NAMED_VALUE: _named_value,
        Kind.POLICY: _policy,
        Kind.POLICY_FRAGMENT: _fragment,
    }
)


def comparable(resource: Resource) -> dict[str, Any]:
    """:func:`normalize` as plain JSON (dicts and lists), for diffing and hashing."""
    result: dict[str, Any] = thaw(normalize(resource))
    return result


_LOGGER_CREDENTIAL = re.compile(r"^\{\{Logger-Credentials-{1,2}[0-9A-Fa-f]{24}\}\}$")


def hidden_by_service(live: Resource) -> tuple[str, ...]:
    """Pointers of the values the service never returns as written: a logger's keys and
    connection strings come back as a reference to a named value it made for them
    (``{{Logger-Credentials--<id>}}``, §10, [LOG20 e2], [LOGEH21 p@31000])."""
    if live.kind is not Kind.LOGGER:
        return ()
    credentials = live.properties.get("credentials")
    if not isinstance(credentials, Mapping):
        return ()
    return tuple(
        pointer.join(["credentials", key])
        for key, value in credentials.items()
        if isinstance(value, str) and _LOGGER_CREDENTIAL.match(value)
    )


def comparable_pair(wanted: Resource, live: Resource) -> tuple[dict[str, Any], dict[str, Any]]:
    """The comparable forms of a desired resource and its live counterpart, without the
    values the live side hides (:func:`hidden_by_service`): those cannot be compared."""
    after, before = comparable(wanted), comparable(live)
    hidden = hidden_by_service(live)
    for at in hidden:
        _remove(after, at)
        _remove(before, at)
    if hidden:
        after, before = _clean(after), _clean(before)
    return after, before


def strip_server_fields(resource: Resource) -> Resource:
    """``resource`` without what the server fills in (for writing live state to files)."""
    rules = RULES[resource.kind]
    data = _clean(thaw(resource.properties))
    for at in SERVER_FILLED + rules.read_only:
        if resource.kind in (Kind.POLICY, Kind.POLICY_FRAGMENT) and at == "/format":
            continue
        _remove(data, at)
    return make_resource(resource.id, _clean(data))
