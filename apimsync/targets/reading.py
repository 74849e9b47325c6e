"""Read a live instance into a :class:`~apimsync.model.Configuration` with few requests.

Two rounds, each run in a bounded thread pool:

1. the service-level lists (largest page size, ``top``), the list of every policy
   (``AllPolicies``) and the portal settings;
2. what needs round 1: each API's operations, schemas, releases and diagnostics, each
   product's and tag's links, one ``format=rawxml`` GET per policy the bulk list named
   (that list carries no documents), and a GET per fragment the list did not send as
   ``rawxml``. Diagnostics are listed only when the instance has a logger (a diagnostic
   needs one).

Resources are built from the raw response JSON (no SDK model in between, so nothing the
SDK 5.0 models lack is lost): ids relative to the service, ``properties`` as sent, with
the ids inside made relative too. Secret values are never read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from apimsync.errors import ModelError
from apimsync.jsonvalue import freeze
from apimsync.model import Configuration, Kind, Resource, kind_of, make_resource
from apimsync.targets.armids import path_names, relative_id, relativize
from apimsync.targets.calls import CallFailed, Session
from apimsync.targets.endpoints import SINGLETONS, Endpoint, endpoint_of, listed_by

PAGE_SIZE = 100
"""The largest ``$top`` the management API honours; longer lists come in pages."""


NOT_IMPLEMENTED = 501


@dataclass(frozen=True)
class LiveState:
    """What :func:`read_instance` found: the configuration, the ETags it saw (policies and
    portal settings, read one by one; lists carry none) and how many requests it took.

    ``unsupported`` names the kinds the endpoint answered 501 Not Implemented for (an
    emulator without them; Azure never does): they are missing from ``configuration``, so
    plan with ``ignore_kinds=unsupported``.
    """

    configuration: Configuration
    etags: Mapping[str, str]
    requests: int
    unsupported: frozenset[Kind] = frozenset()


@dataclass
class _Found:
    """Resources (and ETags) one job read, and follow-up jobs it asks for."""

    resources: list[Resource] = field(default_factory=list)
    etags: dict[str, str] = field(default_factory=dict)
    policy_ids: list[str] = field(default_factory=list)
    fragment_ids: list[str] = field(default_factory=list)
    unsupported: set[Kind] = field(default_factory=set)


Job = Callable[[], _Found]


class InstanceReader:
    """Reads one instance; :meth:`read` does the two rounds."""

    def __init__(self, session: Session, skip_kinds: frozenset[Kind], parallelism: int) -> None:
        self.session = session
        self.skip = skip_kinds
        self.parallelism = max(1, parallelism)
        self.service_path = session.target.service_path

    def read(self) -> LiveState:
        with ThreadPoolExecutor(self.parallelism, thread_name_prefix="apimsync-read") as pool:
            first = self._run(pool, self._service_jobs())
            second = self._run(pool, self._owner_jobs(first))
        return LiveState(
            Configuration(first.resources + second.resources),
            {**first.etags, **second.etags},
            self.session.requests,
            frozenset(first.unsupported | second.unsupported),
        )

    @staticmethod
    def _run(pool: ThreadPoolExecutor, jobs: Iterable[Job]) -> _Found:
        merged = _Found()
        for found in pool.map(lambda job: job(), list(jobs)):
            merged.resources.extend(found.resources)
            merged.etags.update(found.etags)
            merged.policy_ids.extend(found.policy_ids)
            merged.fragment_ids.extend(found.fragment_ids)
            merged.unsupported.update(found.unsupported)
        return merged

    def _wanted(self, kind: Kind) -> bool:
        return kind not in self.skip

    # -- round 1 -----------------------------------------------------------------------

    def _service_jobs(self) -> list[Job]:
        jobs: list[Job] = [
            _bind(self._list, endpoint, (), kind=endpoint.kind)
            for _, endpoint in listed_by(None)
            if self._wanted(endpoint.kind) and endpoint.needs is None
        ]
        if self._wanted(Kind.POLICY):
            jobs.append(_bind(self._all_policies, kind=Kind.POLICY))
        jobs.extend(
            _bind(self._get, resource_id, kind=endpoint_of(resource_id).kind)
            for resource_id in SINGLETONS
            if self._wanted(endpoint_of(resource_id).kind)
        )
        return jobs

    def _all_policies(self) -> _Found:
        found = _Found()
        for item in self._pages("the list of policies", "all_policies", "list_by_service", ()):
            props = item.get("properties") or {}
            policy_id = relative_id(self.service_path, str(props.get("referencePolicyId", "")))
            if policy_id is None or _kind(policy_id) is not Kind.POLICY:
                continue  # a kind the model does not hold (GraphQL resolver policies)
            if isinstance(props.get("value"), str):
                found.resources.append(self._policy(policy_id, props))
            else:
                found.policy_ids.append(policy_id)
        return found

    # -- round 2 -----------------------------------------------------------------------

    def _owner_jobs(self, first: _Found) -> list[Job]:
        kinds = {resource.kind for resource in first.resources}
        jobs = [
            _bind(self._list, endpoint, path_names(owner.id), kind=endpoint.kind)
            for owner in first.resources
            for _, endpoint in listed_by(_OWNER_SHAPES.get(owner.kind, "-"))
            if self._lists_under(endpoint, owner, kinds)
        ]
        jobs.extend(
            _bind(self._list, endpoint, (), kind=endpoint.kind)
            for _, endpoint in listed_by(None)
            if self._wanted(endpoint.kind) and endpoint.needs in kinds
        )
        jobs.extend(_bind(self._get, policy_id) for policy_id in first.policy_ids)
        jobs.extend(_bind(self._get, fragment_id) for fragment_id in first.fragment_ids)
        return jobs

    def _lists_under(self, endpoint: Endpoint, owner: Resource, kinds: set[Kind]) -> bool:
        if not self._wanted(endpoint.kind):
            return False
        if endpoint.needs is not None and endpoint.needs not in kinds:
            return False
        return endpoint.per_revision or ";rev=" not in owner.id

    # -- one list, one GET ---------------------------------------------------------------

    def _list(self, endpoint: Endpoint, names: tuple[str, ...]) -> _Found:
        assert endpoint.list is not None
        options = dict(endpoint.list_options)
        if endpoint.top:
            options["top"] = PAGE_SIZE
        what = f"the list of {endpoint.kind.label}s" + (f" of '{'/'.join(names)}'" if names else "")
        found = _Found()
        for item in self._pages(what, endpoint.group, endpoint.list, names, **options):
            resource = self._resource(item)
            if resource is None:
                continue
            if _needs_rawxml(endpoint, resource):
                found.fragment_ids.append(resource.id)
            else:
                found.resources.append(resource)
        return found

    def _pages(
        self, what: str, group: str, method: str, names: tuple[str, ...], **options: Any
    ) -> list[dict[str, Any]]:
        """Every item of a paged list, as the raw JSON the server sent."""
        session = self.session

        def fetch() -> list[dict[str, Any]]:
            pages: list[dict[str, Any]] = []
            call = getattr(session.operations(group), method)
            hook = _page_collector(pages)
            pager = call(session.rg, session.service, *names, **session.options(**options), **hook)
            for _ in pager:
                pass
            return [item for page in pages for item in page.get("value") or []]

        return session.call(what, fetch)

    def _get(self, resource_id: str) -> _Found:
        endpoint = endpoint_of(resource_id)
        session = self.session

        def fetch() -> tuple[dict[str, Any], str | None]:
            method = session.operations(endpoint.group).get
            options = session.options(**endpoint.get_options, cls=_raw_and_etag)
            answer: tuple[dict[str, Any], str | None] = method(
                session.rg, session.service, *path_names(resource_id), **options
            )
            return answer

        body, etag = session.call(f"'{resource_id}'", fetch)
        found = _Found()
        properties = relativize(self.service_path, body.get("properties") or {})
        resource = self._policy(resource_id, properties) if _is_document(endpoint) else None
        found.resources.append(resource or make_resource(resource_id, properties))
        if etag:
            found.etags[resource_id] = etag
        return found

    # -- conversion -------------------------------------------------------------------

    def _resource(self, item: Mapping[str, Any]) -> Resource | None:
        """The model resource for one raw item; None for kinds the model does not hold."""
        resource_id = relative_id(self.service_path, str(item.get("id", "")))
        if resource_id is None or _kind(resource_id) is None:
            return None
        properties = relativize(self.service_path, dict(item.get("properties") or {}))
        if properties.get("secret") is True:
            properties.pop("value", None)
        return make_resource(resource_id, properties)

    def _policy(self, resource_id: str, properties: Mapping[str, Any]) -> Resource:
        """A policy or fragment: its document as sent (``rawxml`` asked), other keys kept."""
        kept = dict(properties) if kind_of(resource_id) is Kind.POLICY_FRAGMENT else {}
        kept.update(format=properties.get("format") or "rawxml", value=properties["value"])
        return make_resource(resource_id, freeze(kept))


def _bind(function: Callable[..., _Found], *args: Any, kind: Kind | None = None) -> Job:
    """A job calling ``function(*args)``; a 501 answer marks ``kind`` unsupported."""

    def job() -> _Found:
        try:
            return function(*args)
        except CallFailed as failure:
            if kind is None or failure.status != NOT_IMPLEMENTED:
                raise
            return _Found(unsupported={kind})

    return job


def _kind(resource_id: str) -> Kind | None:
    try:
        return kind_of(resource_id)
    except ModelError:
        return None


_OWNER_SHAPES = {Kind.API: "apis", Kind.PRODUCT: "products", Kind.TAG: "tags"}
"""The kinds whose children are listed per resource ("-": no endpoint has that owner)."""


def _is_document(endpoint: Endpoint) -> bool:
    return endpoint.kind in (Kind.POLICY, Kind.POLICY_FRAGMENT)


def _needs_rawxml(endpoint: Endpoint, resource: Resource) -> bool:
    """A fragment the list sent in another format than ``rawxml`` is read again."""
    return endpoint.kind is Kind.POLICY_FRAGMENT and resource.get("format") != "rawxml"


def _page_collector(pages: list[dict[str, Any]]) -> dict[str, Any]:
    def collect(response: Any) -> None:
        http = response.http_response
        if 200 <= http.status_code < 300:
            pages.append(json.loads(http.text() or "{}"))

    return {"raw_response_hook": collect}


def _raw_and_etag(
    pipeline_response: Any, deserialized: Any, headers: Mapping[str, Any]
) -> tuple[dict[str, Any], str | None]:
    http = pipeline_response.http_response
    body = json.loads(http.text() or "{}")
    etag = headers.get("ETag") or http.headers.get("ETag")
    return body, (str(etag) if etag else None)
