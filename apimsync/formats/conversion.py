"""One configuration, another layout: what converting it carries over, and what not.

Both layouts hold the one model, so converting is reading one and writing the other.
What differs is where things live, and a few things one layout cannot hold:

* the scm layout keeps operations, not specifications: an API's specification (its
  ``format`` and ``value``) is written as the operations it defines; named values,
  fragments, loggers and diagnostics go to ``api-management-extras/``;
* an APIOps folder keeps specifications, not operations: an API's operations are
  written as its specification; it holds no developer portal settings and cannot tag
  an operation;
* files neither layout models (portal templates, subscriptions, gateways) stay behind.

:func:`prepare` returns the model as the target layout holds it and a :class:`Loss`
per resource (and property) or file that does not carry over as it was.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from apimsync.formats.files import EXTRAS_ROOT
from apimsync.formats.layouts import Location, TreeLayout
from apimsync.jsonvalue import thaw
from apimsync.model import Configuration, Kind, Resource, make_resource

SPECIFICATION_PROPERTIES = ("format", "value")

_EXTRAS_FOLDERS = {
    Kind.NAMED_VALUE: ("namedValues", "named values"),
    Kind.POLICY_FRAGMENT: ("policyFragments", "policy fragments"),
    Kind.LOGGER: ("loggers", "loggers"),
    Kind.DIAGNOSTIC: ("diagnostics", "diagnostics"),
}
_APIOPS_CANNOT_HOLD = {
    Kind.PORTAL_SIGNUP: "APIOps artifacts hold no developer portal settings; not converted",
    Kind.PORTAL_DELEGATION: "APIOps artifacts hold no developer portal settings; not converted",
    Kind.TAG_OPERATION_LINK: "APIOps artifacts cannot tag an operation; not converted",
}


@dataclass(frozen=True)
class Loss:
    """Something that does not carry over as it was: a resource (and which of its
    properties), or files (``subject`` is then a path)."""

    subject: str
    properties: str
    detail: str

    def render(self) -> str:
        where = f"{self.subject} ({self.properties})" if self.properties else self.subject
        return f"{where}: {self.detail}"

    def as_json(self) -> dict[str, str]:
        return {"subject": self.subject, "properties": self.properties, "detail": self.detail}


def prepare(
    configuration: Configuration, source: TreeLayout, target: Location
) -> tuple[Configuration, list[Loss]]:
    """``configuration`` as the ``target`` layout holds it, and what does not carry over."""
    if target.name == "scm":
        converted, losses = _to_scm(configuration, source)
    else:
        converted, losses = _to_apiops(configuration, target)
    return converted, [*losses, *_left_behind(source)]


BUILT_IN_GROUPS = {
    "/groups/administrators": (
        "Administrators",
        "Administrators is a built-in group containing the admin email account provided at "
        "the time of service creation. Its membership is managed by the system.",
    ),
    "/groups/developers": (
        "Developers",
        "Developers is a built-in group. Its membership is managed by the system. "
        "Signed-in users fall into this group.",
    ),
    "/groups/guests": (
        "Guests",
        "Guests is a built-in group. Its membership is managed by the system. "
        "Unauthenticated users visiting the developer portal fall into this group.",
    ),
}
"""The groups every instance has, as the service describes them (§8.4; Administrators
in the 2022-08-01 wording)."""


def _linked_built_in_groups(configuration: Configuration) -> list[Resource]:
    """The built-in groups products link to that the configuration does not hold (APIOps
    v7 leaves them out; an scm product links to the group's file)."""
    linked = {
        str(link.properties.get("groupId", "")).casefold()
        for link in configuration.of_kind(Kind.PRODUCT_GROUP_LINK)
    }
    held = {group.id.casefold() for group in configuration.of_kind(Kind.GROUP)}
    return [
        make_resource(
            group_id,
            {"displayName": name, "description": text, "builtIn": True, "type": "system"},
        )
        for group_id, (name, text) in BUILT_IN_GROUPS.items()
        if group_id in linked - held
    ]


def _to_scm(configuration: Configuration, source: TreeLayout) -> tuple[Configuration, list[Loss]]:
    losses: list[Loss] = []
    kept: list[Resource] = []
    for group in _linked_built_in_groups(configuration):
        losses.append(
            Loss(
                group.id,
                "",
                "added as the built-in group it is: scm products link to their groups' files",
            )
        )
        kept.append(group)
    specifications = getattr(source, "specifications", {})
    for resource in configuration:
        if resource.kind is Kind.API and "value" in resource.properties:
            count = len(
                [r for r in configuration.children(resource.id) if r.kind is Kind.OPERATION]
            )
            spec = specifications.get(resource.id)
            named = f" ({spec.path})" if spec is not None else ""
            losses.append(
                Loss(
                    resource.id,
                    ", ".join(SPECIFICATION_PROPERTIES),
                    f"the specification{named} is written as its {count} operation"
                    f"{'s' if count != 1 else ''}: the scm layout keeps operations, "
                    "not specifications",
                )
            )
            resource = resource.with_properties(format=None, value=None)
        elif resource.kind is Kind.API_SCHEMA and _document_object(resource):
            losses.append(
                Loss(
                    resource.id,
                    "document",
                    "written as JSON text: the scm layout holds schema documents as text",
                )
            )
            document = json.dumps(thaw(resource.properties["document"]), indent=2)
            resource = resource.with_properties(document={"value": document})
        elif resource.kind in _EXTRAS_FOLDERS:
            folder, what = _EXTRAS_FOLDERS[resource.kind]
            losses.append(
                Loss(
                    resource.id,
                    "",
                    f"kept in {EXTRAS_ROOT}/{folder}/: the scm layout cannot hold {what}",
                )
            )
        kept.append(resource)
    return Configuration(kept), losses


def _document_object(schema: Resource) -> bool:
    """True for a schema whose document is an object, not ``{"value": text}``."""
    document = schema.properties.get("document")
    return isinstance(document, Mapping) and set(document) != {"value"}


def _to_apiops(configuration: Configuration, target: Location) -> tuple[Configuration, list[Loss]]:
    losses: list[Loss] = []
    kept: list[Resource] = []
    if target.flavour != "cli":
        losses += [
            Loss(group.id, "", "left out, as the APIOps extractor leaves out built-in groups")
            for group in configuration.of_kind(Kind.GROUP)
            if group.id.casefold() in BUILT_IN_GROUPS
        ]
    operations: dict[str, int] = defaultdict(int)
    for resource in configuration:
        if resource.kind is Kind.OPERATION and resource.parent is not None:
            operations[resource.parent] += 1
    for resource in configuration:
        if resource.kind in _APIOPS_CANNOT_HOLD:
            losses.append(Loss(resource.id, "", _APIOPS_CANNOT_HOLD[resource.kind]))
            continue
        count = operations.get(resource.id, 0)
        soap = resource.properties.get("type") == "soap"
        if resource.kind is Kind.API and count and "value" not in resource.properties and soap:
            losses.append(
                Loss(
                    resource.id,
                    "operations",
                    f"a SOAP API's {count} operation{'s are' if count != 1 else ' is'} not "
                    "written: no specification can hold them (the APIOps extractor writes "
                    "none for SOAP APIs); add the WSDL as specification.wsdl to manage them",
                )
            )
        elif resource.kind is Kind.API and count and "value" not in resource.properties:
            losses.append(
                Loss(
                    resource.id,
                    "operations",
                    f"its {count} operation{'s are' if count != 1 else ' is'} written as the "
                    "API's specification: APIOps keeps operations only there",
                )
            )
        kept.append(resource)
    return Configuration(kept), losses


def _left_behind(source: TreeLayout) -> Iterable[Loss]:
    groups: dict[str, int] = defaultdict(int)
    prefix = source.location.prefix()
    depth = 1 if source.location.name == "apiops" else 2
    for path in source.passthrough_files():
        groups[prefix + _group(path[len(prefix) :], depth)] += 1
    for group, count in sorted(groups.items()):
        yield Loss(
            group,
            "",
            f"{count} file{'s' if count != 1 else ''} not converted: apimsync does not model "
            "them (they stay in the source)",
        )


def _group(path: str, depth: int) -> str:
    """The folder a left-behind file is reported under (``subscriptions/`` of an artifact
    folder, ``api-management/portalTemplates/``), or the file itself."""
    parts = path.split("/")
    return "/".join(parts[:depth]) + "/" if len(parts) > depth else path
