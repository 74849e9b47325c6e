"""How deploy writes an API that carries a specification.

An API read from an APIOps folder carries its specification as the ARM import
properties ``format`` and ``value``. It is imported when the plan creates it or changes
the operations (or schema) the specification defines: the API's PUT keeps ``format`` and
``value`` (a long-running write, :mod:`apimsync.targets.longrunning`), and the
operations and schema the import creates are not written again; their policies follow
(those the import replaced without ``If-Match``). Any other write of the API leaves the
import properties out: there is nothing to import, and an import would replace the
operations.

An update also clears (sends as null) the top-level properties it removes: an API PUT
keeps what it does not name.
"""

from __future__ import annotations

from typing import Any

from apimsync.model import Kind
from apimsync.plan.changes import MISSING, Action, Change, Plan
from apimsync.plan.imports import DEFINED_KINDS, api_of, imported_apis, policy_api
from apimsync.plan.order import identity
from apimsync.targets.calls import Session

IMPORT_PROPERTIES = ("format", "value", "wsdlSelector", "translateRequiredQueryParameters")


class ApiWrites:
    """The API writes of one plan that differ from a plain PUT of the properties."""

    def __init__(self, session: Session, plan: Plan) -> None:
        self.session = session
        self.imported = imported_apis(plan.changes)

    def covers(self, change: Change) -> bool:
        """True for an operation or schema write that the import of its API's
        specification makes."""
        if change.kind not in DEFINED_KINDS or change.action is Action.DELETE:
            return False
        return api_of(change) in self.imported

    def if_match(self, change: Change, etag: str | None) -> str | None:
        """The ETag an update is sent with: none for an operation policy of an imported
        API, which the import replaced (the plan's ETag named the one before)."""
        if change.kind is Kind.POLICY and policy_api(change.resource_id) in self.imported:
            return None
        return etag

    def prepare(self, change: Change, body: dict[str, Any]) -> None:
        """The body of an API write: with the specification to import, or without it."""
        if change.kind is not Kind.API or change.action is Action.DELETE:
            return
        properties = body["properties"]
        if identity(change.resource_id) in self.imported:
            wsdl = str(properties.get("format", "")).startswith("wsdl")
            if wsdl and properties.get("type") == "soap":
                properties.setdefault("apiType", "soap")  # a pass-through, not REST to SOAP
        else:
            for key in IMPORT_PROPERTIES:
                properties.pop(key, None)
        for key in _removed(change):
            properties.setdefault(key, None)


def _removed(change: Change) -> list[str]:
    """The top-level properties an update removes."""
    if change.action is not Action.UPDATE:
        return []
    return [
        field.path[1:]
        for field in change.fields
        if field.after is MISSING and field.path.count("/") == 1
    ]
