"""Read a live instance into a :class:`~apimsync.model.Configuration` with few requests.

Two rounds, each run in a bounded thread pool:

1. the service-level lists (largest page size, ``top``), the list of every policy
   (``AllPolicies``) and the portal settings;
2. what needs round 1: each API's operations, schemas, releases and diagnostics, each
   product's and tag's links, one ``format=rawxml`` GET per policy the bulk list named
   (that list carries no documents), and a GET per fragment the list did not send as
   ``rawxml``. Diagnostics are listed only when the instance has a logger (a diagnostic
   needs one).

Every request is a raw ``GET`` through the SDK client's pipeline (:mod:`.raw`), its
JSON parsed once: resources are built from it with no SDK model in between (so nothing
the SDK 5.0 models lack is lost, and no CPU goes into models that would be thrown
away): ids relative to the service, ``properties`` as sent, with the ids inside made
relative too. Secret values are never read.

Each page of a list is fetched (and retried) on its own; a next-page link must stay on
the endpoint's host. An answer that is not a JSON object of the expected shape, or that
names a resource outside the service or with an unsafe name (``..``, control
characters, a backslash, over 256 characters), raises :class:`BadAnswer`: nothing of
such an instance is returned, so ``pull`` writes nothing.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from apimsync.errors import ModelError
from apimsync.jsonvalue import freeze
from apimsync.model import Configuration, Kind, Resource, kind_of, make_resource, parent_id
from apimsync.plan.partial import ReadRequest
from apimsync.targets.armids import relative_id, relativize
from apimsync.targets.calls import (
    DEFAULT_RETRY,
    BadAnswer,
    CallFailed,
    Retry,
    RetryPolicy,
    Session,
    same_origin,
)
from apimsync.targets.connection import Target
from apimsync.targets.endpoints import SINGLETONS, Endpoint, endpoint_of, listed_by
from apimsync.targets.raw import get_json, resource_url
from apimsync.targets.workers import Workers

PAGE_SIZE = 100
"""The largest ``$top`` the management API honours; longer lists come in pages."""


NOT_FOUND = 404
NOT_IMPLEMENTED = 501
MAX_NAME_LENGTH = 256
"""API Management names are at most 256 characters (most kinds allow fewer)."""


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


@dataclass(frozen=True)
class ReadProgress:
    """How far a read has come: lists and GETs done of those known so far (the second
    round's are known when the first ends), resources found, requests sent."""

    done: int
    total: int
    resources: int
    requests: int


class InstanceReader:
    """Reads one instance; :meth:`read` does the two rounds."""

    def __init__(
        self,
        session: Session,
        skip_kinds: frozenset[Kind],
        parallelism: int,
        on_progress: Callable[[ReadProgress], None] | None = None,
    ) -> None:
        self.session = session
        self.skip = skip_kinds
        self.parallelism = max(1, parallelism)
        self.service_path = session.target.service_path
        self.on_progress = on_progress
        self._lock = threading.Lock()
        self._done = self._total = self._resources = 0

    def read(self) -> LiveState:
        try:
            with Workers(self.parallelism, "apimsync-read") as pool:
                first = self._run(pool, self._service_jobs())
                second = self._run(pool, self._owner_jobs(first))
        except BaseException:
            self.session.cancel()  # the other lists stop at their next attempt
            raise
        return LiveState(
            Configuration(first.resources + second.resources),
            {**first.etags, **second.etags},
            self.session.requests,
            frozenset(first.unsupported | second.unsupported),
        )

    def read_selected(self, request: ReadRequest) -> LiveState:
        """Only what ``request`` names (see :class:`~apimsync.plan.partial.ReadRequest`);
        a resource that does not exist is left out. A GET's answer is preferred to a list
        item: it carries the ETag."""
        lists = self._selected_lists(request)
        listed = {collection for _, collection, _ in lists}
        jobs = [
            _bind(self._list, endpoint, collection, kind=endpoint.kind, missing_ok=True, **query)
            for endpoint, collection, query in lists
        ]
        jobs.extend(
            _bind(self._get, resource_id, kind=endpoint_of(resource_id).kind, missing_ok=True)
            for resource_id in request.ids
            if _listed_in(resource_id) not in listed
        )
        try:
            with Workers(self.parallelism, "apimsync-read") as pool:
                found = self._run(pool, jobs)
                found.resources.extend(self._run(pool, self._fragment_jobs(found)).resources)
        except BaseException:
            self.session.cancel()  # the other reads stop at their next attempt
            raise
        by_identity: dict[str, Resource] = {}
        for resource in found.resources:
            key = resource.id.casefold()
            if key not in by_identity or resource.id in found.etags:
                by_identity[key] = resource
        return LiveState(
            Configuration(by_identity.values()),
            found.etags,
            self.session.requests,
            frozenset(found.unsupported),
        )

    def _selected_lists(self, request: ReadRequest) -> list[tuple[Endpoint, str, dict[str, str]]]:
        """(endpoint, collection, filters) of every list ``request`` asks for."""
        lists: list[tuple[Endpoint, str, dict[str, str]]] = []
        for owner in request.children:
            for shape, endpoint in listed_by(_OWNER_SHAPES.get(kind_of(owner), "-")):
                if endpoint.per_revision or ";rev=" not in owner:
                    lists.append((endpoint, collection_of(owner, shape), {}))
        for owner, kind in request.links:
            for shape, endpoint in listed_by(_OWNER_SHAPES.get(kind_of(owner), "-")):
                if endpoint.kind is kind:
                    lists.append((endpoint, collection_of(owner, shape), {}))
        wanted = (
            ("namedValues", "displayName", request.named_values),
            ("apis", "path", request.api_paths),
        )
        for shape, field_name, values in wanted:
            endpoint = endpoint_of(f"/{shape}/x")
            for value in values:
                filters = {"$filter": f"{field_name} eq {_literal(value)}"}
                lists.append((endpoint, f"/{shape}", filters))
        unique = {
            (collection, tuple(query.items())): (e, collection, query)
            for e, collection, query in lists
        }
        return list(unique.values())

    def _fragment_jobs(self, found: _Found) -> list[Job]:
        return [_bind(self._get, fragment_id) for fragment_id in found.fragment_ids]

    def _run(self, pool: Workers, jobs: Iterable[Job]) -> _Found:
        listed = list(jobs)
        with self._lock:
            self._total += len(listed)
        merged = _Found()
        for found in pool.map(self._counted, listed):
            merged.resources.extend(found.resources)
            merged.etags.update(found.etags)
            merged.policy_ids.extend(found.policy_ids)
            merged.fragment_ids.extend(found.fragment_ids)
            merged.unsupported.update(found.unsupported)
        return merged

    def _counted(self, job: Job) -> _Found:
        found = job()
        with self._lock:
            self._done += 1
            self._resources += len(found.resources)
            progress = ReadProgress(self._done, self._total, self._resources, self.session.requests)
        if self.on_progress is not None:
            self.on_progress(progress)
        return found

    def _wanted(self, kind: Kind) -> bool:
        return kind not in self.skip

    # -- round 1 -----------------------------------------------------------------------

    def _service_jobs(self) -> list[Job]:
        jobs: list[Job] = [
            _bind(self._list, endpoint, f"/{shape}", kind=endpoint.kind)
            for shape, endpoint in listed_by(None)
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
        what = "the list of policies"
        for item in self._pages(what, resource_url(self.session, "/allPolicies")):
            props = _properties(self.session, what, item)
            reference = props.get("referencePolicyId")
            if not isinstance(reference, str):
                continue  # not a policy of the model
            policy_id = self._checked_id(what, reference)
            if _kind(policy_id) is not Kind.POLICY:
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
            _bind(self._list, endpoint, collection_of(owner.id, shape), kind=endpoint.kind)
            for owner in first.resources
            for shape, endpoint in listed_by(_OWNER_SHAPES.get(owner.kind, "-"))
            if self._lists_under(endpoint, owner, kinds)
        ]
        jobs.extend(
            _bind(self._list, endpoint, f"/{shape}", kind=endpoint.kind)
            for shape, endpoint in listed_by(None)
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

    def _list(self, endpoint: Endpoint, collection: str, **filters: str) -> _Found:
        """Every item of the list at ``collection`` (``/apis/a/operations``)."""
        query = {**endpoint.list_options.get("params", {}), **filters}
        if endpoint.top:
            query["$top"] = str(PAGE_SIZE)
        owner = collection.rsplit("/", 1)[0]
        what = f"the list of {endpoint.kind.label}s" + (f" of '{owner}'" if owner else "")
        found = _Found()
        for item in self._pages(what, resource_url(self.session, collection, **query)):
            resource = self._resource(what, item)
            if resource is None:
                continue
            if _needs_rawxml(endpoint, resource):
                found.fragment_ids.append(resource.id)
            else:
                found.resources.append(resource)
        return found

    def _pages(self, what: str, url: str) -> list[dict[str, Any]]:
        """Every item of a paged list from its first page's ``url``, as the raw JSON the
        server sent. Each page is one retried call, so a throttled page does not start the
        list again."""
        session = self.session
        endpoint = session.target.endpoint
        items: list[dict[str, Any]] = []
        followed: set[str] = set()
        while True:
            page = _as_page(session, what, get_json(session, url, what).body)
            items.extend(page.items)
            if page.next_link is None:
                return items
            url = page.next_link
            if not same_origin(url, endpoint):
                raise BadAnswer(endpoint, what, "a next-page link to another host")
            if url in followed:
                raise BadAnswer(endpoint, what, "a next-page link back to an earlier page")
            followed.add(url)

    def _get(self, resource_id: str) -> _Found:
        query = {key: str(value) for key, value in endpoint_of(resource_id).get_options.items()}
        what = f"'{resource_id}'"
        answer = get_json(self.session, resource_url(self.session, resource_id, **query), what)
        found = _Found()
        found.resources.append(self._from_answer(resource_id, answer.body))
        if answer.etag:
            found.etags[resource_id] = answer.etag
        return found

    def _from_answer(self, resource_id: str, body: Mapping[str, Any]) -> Resource:
        """The resource a GET of ``resource_id`` answered."""
        what = f"'{resource_id}'"
        properties = relativize(self.service_path, _properties(self.session, what, body))
        if _is_document(endpoint_of(resource_id)):
            return self._policy(resource_id, properties)
        if properties.get("secret") is True:
            properties.pop("value", None)
        return make_resource(resource_id, properties)

    # -- conversion -------------------------------------------------------------------

    def _resource(self, what: str, item: Mapping[str, Any]) -> Resource | None:
        """The model resource for one raw item; None for kinds the model does not hold."""
        resource_id = self._checked_id(what, item.get("id"))
        if _kind(resource_id) is None:
            return None
        properties = relativize(self.service_path, _properties(self.session, what, item))
        if properties.get("secret") is True:
            properties.pop("value", None)
        return make_resource(resource_id, properties)

    def _checked_id(self, what: str, raw: Any) -> str:
        """The service-relative id of a resource the instance named; :class:`BadAnswer`
        for an id outside the service or with an unsafe name."""
        endpoint = self.session.target.endpoint
        if not isinstance(raw, str):
            raise BadAnswer(endpoint, what, "an item without an id")
        resource_id = relative_id(self.service_path, raw)
        if resource_id is None:
            shown = _shown(raw)
            raise BadAnswer(endpoint, what, f"{shown} is not a resource of this service")
        for name in resource_id.strip("/").split("/"):
            if _unsafe_name(name):
                raise BadAnswer(endpoint, what, f"the resource name {_shown(name)} is not safe")
        return resource_id

    def _policy(self, resource_id: str, properties: Mapping[str, Any]) -> Resource:
        """A policy or fragment: its document as sent (``rawxml`` asked), other keys kept."""
        value = properties.get("value")
        if not isinstance(value, str):
            what = f"'{resource_id}'"
            raise BadAnswer(self.session.target.endpoint, what, "a policy without a document")
        kept = dict(properties) if kind_of(resource_id) is Kind.POLICY_FRAGMENT else {}
        kept.update(format=properties.get("format") or "rawxml", value=value)
        return make_resource(resource_id, freeze(kept))


def _bind(
    function: Callable[..., _Found],
    *args: Any,
    kind: Kind | None = None,
    missing_ok: bool = False,
    **options: Any,
) -> Job:
    """A job calling ``function(*args, **options)``; a 501 answer marks ``kind``
    unsupported, and with ``missing_ok`` a 404 finds nothing."""

    def job() -> _Found:
        try:
            return function(*args, **options)
        except CallFailed as failure:
            if missing_ok and failure.status == NOT_FOUND:
                return _Found()
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


def _listed_in(resource_id: str) -> str | None:
    """The collection that lists ``resource_id`` (``/apis/a/operations``); None for
    resources read one by one (policies, service-level resources, portal settings)."""
    owner = parent_id(resource_id)
    if owner is None or endpoint_of(resource_id).list is None:
        return None
    return f"{owner}/{resource_id.rsplit('/', 2)[-2]}"


def _literal(value: str) -> str:
    """``value`` as an OData string literal."""
    return "'" + value.replace("'", "''") + "'"


def collection_of(owner_id: str, shape: str) -> str:
    """The collection of ``shape`` (``apis/operations``) below ``owner_id`` (``/apis/a``)."""
    return f"{owner_id}/{shape.rsplit('/', 1)[-1]}"


def _is_document(endpoint: Endpoint) -> bool:
    return endpoint.kind in (Kind.POLICY, Kind.POLICY_FRAGMENT)


def _needs_rawxml(endpoint: Endpoint, resource: Resource) -> bool:
    """A fragment the list sent in another format than ``rawxml`` is read again."""
    return endpoint.kind is Kind.POLICY_FRAGMENT and resource.get("format") != "rawxml"


@dataclass(frozen=True)
class _Page:
    items: list[dict[str, Any]]
    next_link: str | None


def _as_page(session: Session, what: str, body: Mapping[str, Any]) -> _Page:
    items = body.get("value")
    link = body.get("nextLink")
    if items is None:
        items = []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise BadAnswer(session.target.endpoint, what, "a list whose 'value' is not objects")
    if link is not None and not isinstance(link, str):
        raise BadAnswer(session.target.endpoint, what, "a 'nextLink' that is not a string")
    return _Page(items, link or None)


def _properties(session: Session, what: str, item: Mapping[str, Any]) -> dict[str, Any]:
    properties = item.get("properties")
    if properties is None:
        return {}
    if not isinstance(properties, dict):
        raise BadAnswer(session.target.endpoint, what, "'properties' that is not an object")
    return dict(properties)


_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f]")


def _unsafe_name(name: str) -> bool:
    """A name no API Management resource has, and that could mean a path."""
    return (
        name in ("", ".", "..")
        or len(name) > MAX_NAME_LENGTH
        or "\\" in name
        or _CONTROL_CHARACTER.search(name) is not None
    )


def _shown(text: str) -> str:
    """``text`` quoted for a message, control characters escaped, at most 80 characters."""
    quoted = json.dumps(text)
    return quoted if len(quoted) <= 80 else quoted[:76] + '..."'


def read_selected(
    target: Target,
    request: ReadRequest,
    *,
    parallelism: int = 8,
    client: Any = None,
    retry: RetryPolicy = DEFAULT_RETRY,
    on_retry: Callable[[Retry], None] | None = None,
    on_progress: Callable[[ReadProgress], None] | None = None,
) -> LiveState:
    """The resources ``request`` names, read from the instance (for a partial plan).
    ``on_retry`` and ``on_progress`` hear each retry and each finished list or GET."""
    session = Session(target, client, retry, on_retry)
    return InstanceReader(session, frozenset(), parallelism, on_progress).read_selected(request)
