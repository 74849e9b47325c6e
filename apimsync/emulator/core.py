"""Types every request handler shares: the request context, the reply and ARM errors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from apimsync.emulator.store import Row, Store

API_VERSION = "2024-05-01"
PROVIDER = "Microsoft.ApiManagement"
_REV = re.compile(r"^(?P<base>[^;]+);rev=(?P<rev>[^;/]*)$", re.IGNORECASE)


class ArmError(Exception):
    """An error answered with an ARM error body ``{"error": {code, message, details}}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        target: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        # The service writes ``"details": null`` when it has none (catalogue §1.5).
        error: dict[str, Any] = {"code": self.code, "message": self.message, "details": None}
        if self.target:
            error["details"] = [{"code": self.code, "target": self.target, "message": self.message}]
        return {"error": error}


def validation_error(message: str, target: str | None = None) -> ArmError:
    return ArmError(400, "ValidationError", message, target=target)


def not_found(what: str) -> ArmError:
    """The service's 404: ``"<Entity> not found."`` with its own entity names (``Api``,
    ``NamedValue``, ``PoliciesConfiguration``...; catalogue §1.5)."""
    return ArmError(404, "ResourceNotFound", f"{what} not found.")


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ApiRef:
    """Where ``apis/{apiId}`` points: the API's base name and the revision meant."""

    base: str
    rev: str
    exists: bool
    explicit: bool
    current: str | None

    @property
    def base_path(self) -> str:
        return f"apis/{self.base}"

    @property
    def rev_path(self) -> str:
        return f"apis/{self.base};rev={self.rev}"


def split_api_id(api_id: str) -> tuple[str, str]:
    """``("echo", "2")`` for ``echo;rev=2``; ``("echo", "")`` for ``echo``."""
    match = _REV.match(api_id)
    if match is None:
        return api_id, ""
    return match.group("base"), match.group("rev")


@dataclass
class Ctx:
    """One request, as handlers see it."""

    store: Store
    service: str
    subscription_id: str
    resource_group: str
    endpoint: str
    method: str
    rel_path: str
    params: dict[str, str]
    query: dict[str, str]
    headers: Mapping[str, str]
    body: Any = None
    api_version: str = API_VERSION
    lro_style: str = "recorded"
    _apis: dict[str, ApiRef] = field(default_factory=dict)

    @property
    def service_id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/{PROVIDER}/service/{self.service}"
        )

    def arm_id(self, path: str) -> str:
        return self.service_id + ("/" + path if path else "")

    def url(self, path: str, **query: str) -> str:
        pairs = {"api-version": self.api_version, **query}
        return self.absolute(path, pairs)

    def absolute(self, path: str, query: Mapping[str, str]) -> str:
        """The URL of ``path`` with ``query`` in the given order (``$`` as ``%24``)."""
        return self.endpoint + quote(self.arm_id(path), safe="/;=") + "?" + urlencode(query)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    # -- API revisions ----------------------------------------------------------------

    def api(self, api_id: str) -> ApiRef:
        """Resolve ``apiId`` (``echo`` or ``echo;rev=2``) against the stored revisions."""
        key = api_id.lower()
        if key not in self._apis:
            self._apis[key] = self._resolve_api(api_id)
        return self._apis[key]

    def forget_apis(self) -> None:
        self._apis.clear()

    def _resolve_api(self, api_id: str) -> ApiRef:
        base, rev = split_api_id(api_id)
        if rev and not rev.isdigit():
            raise not_found("Api")
        revisions = self.store.group(self.service, f"apis/{base}")
        current = next((r for r in revisions if r.props.get("isCurrent")), None)
        if revisions:
            base = revisions[0].path.split("/")[1].split(";")[0]
        current_rev = str(current.props.get("apiRevision")) if current else None
        chosen = rev or current_rev or "1"
        return ApiRef(base, chosen, bool(revisions), bool(rev), current_rev)

    def display_path(self, path: str) -> str:
        """The path as ids show it: the current revision of an API without ``;rev=N``."""
        parts = path.split("/")
        if len(parts) < 2 or parts[0].lower() != "apis" or ";" not in parts[1]:
            return path
        ref = self.api(parts[1])
        if ref.current is not None and ref.rev == ref.current:
            parts[1] = ref.base
        return "/".join(parts)

    def display_id(self, row_or_path: Row | str) -> str:
        path = row_or_path if isinstance(row_or_path, str) else row_or_path.path
        return self.arm_id(self.display_path(path))

    def relative_ref(self, reference: str) -> str | None:
        """The service-relative path an ARM id (full, or ``/loggers/x`` form) names."""
        if not isinstance(reference, str) or not reference.startswith("/"):
            return None
        marker = f"/providers/{PROVIDER}/service/".lower()
        lowered = reference.lower()
        at = lowered.find(marker)
        if at < 0:
            return reference.strip("/") or None
        rest = reference[at + len(marker) :]
        service, _, path = rest.partition("/")
        if service.lower() != self.service.lower() or not path:
            return None
        return path.strip("/")
