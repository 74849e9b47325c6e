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

Each page of a list is fetched (and retried) on its own; a next-page link must stay on
the endpoint's host. An answer that is not a JSON object of the expected shape, or that
names a resource outside the service or with an unsafe name (``..``, control
characters, a backslash, over 256 characters), raises :class:`BadAnswer`: nothing of
such an instance is returned, so ``pull`` writes nothing.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from apimsync.errors import ModelError
from apimsync.jsonvalue import freeze
from apimsync.model import Configuration, Kind, Resource, kind_of, make_resource
from apimsync.targets.armids import path_names, relative_id, relativize
from apimsync.targets.calls import BadAnswer, CallFailed, Session, same_origin
from apimsync.targets.endpoints import SINGLETONS, Endpoint, endpoint_of, listed_by
from apimsync.targets.workers import Workers

PAGE_SIZE = 100
"""The largest ``$top`` the management API honours; longer lists come in pages."""


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
        what = "the list of policies"
        for item in self._pages(what, "all_policies", "list_by_service", ()):
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
            resource = self._resource(what, item)
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
        """Every item of a paged list, as the raw JSON the server sent. Each page is one
        retried call, so a throttled page does not start the list again."""
        session = self.session
        endpoint = session.target.endpoint
        items: list[dict[str, Any]] = []
        link: str | None = None
        followed: set[str] = set()
        while True:
            page = session.call(
                what, _bind_page(session, what, group, method, names, link, options)
            )
            items.extend(page.items)
            link = page.next_link
            if link is None:
                return items
            if not same_origin(link, endpoint):
                raise BadAnswer(endpoint, what, "a next-page link to another host")
            if link in followed:
                raise BadAnswer(endpoint, what, "a next-page link back to an earlier page")
            followed.add(link)

    def _get(self, resource_id: str) -> _Found:
        endpoint = endpoint_of(resource_id)
        session = self.session

        def fetch() -> tuple[Any, str | None]:
            method = session.operations(endpoint.group).get
            options = session.options(**endpoint.get_options, cls=_raw_and_etag)
            answer: tuple[Any, str | None] = method(
                session.rg, session.service, *path_names(resource_id), **options
            )
            return answer

        what = f"'{resource_id}'"
        body, etag = session.call(what, fetch)
        if not isinstance(body, dict):
            raise BadAnswer(session.target.endpoint, what, "the answer is not a JSON object")
        found = _Found()
        properties = relativize(self.service_path, _properties(session, what, body))
        resource = self._policy(resource_id, properties) if _is_document(endpoint) else None
        found.resources.append(resource or make_resource(resource_id, properties))
        if etag:
            found.etags[resource_id] = etag
        return found

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


@dataclass(frozen=True)
class _Page:
    items: list[dict[str, Any]]
    next_link: str | None


def _bind_page(
    session: Session,
    what: str,
    group: str,
    method: str,
    names: tuple[str, ...],
    link: str | None,
    options: Mapping[str, Any],
) -> Callable[[], _Page]:
    """One call fetching the page at ``link`` (None: the first) of a list."""

    def fetch() -> _Page:
        pages: list[_Page] = []

        def collect(response: Any) -> None:
            http = response.http_response
            if 200 <= http.status_code < 300:
                pages.append(_as_page(session, what, _json_object(session, what, http)))

        call = getattr(session.operations(group), method)
        pager = call(
            session.rg,
            session.service,
            *names,
            **session.options(**options),
            raw_response_hook=collect,
        )
        next(pager.by_page(continuation_token=link), None)
        if not pages:
            raise BadAnswer(session.target.endpoint, what, "no page was sent")
        return pages[-1]

    return fetch


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


def _json_object(session: Session, what: str, http: Any) -> dict[str, Any]:
    """The JSON object an answer holds ({} for an empty body); :class:`BadAnswer` else."""
    try:
        text = http.text()
        body = json.loads(text) if text and text.strip() else {}
    except (ValueError, RecursionError):
        raise BadAnswer(session.target.endpoint, what, "the answer is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadAnswer(session.target.endpoint, what, "the answer is not a JSON object")
    return body


def _properties(session: Session, what: str, item: Mapping[str, Any]) -> dict[str, Any]:
    properties = item.get("properties")
    if properties is None:
        return {}
    if not isinstance(properties, dict):
        raise BadAnswer(session.target.endpoint, what, "'properties' that is not an object")
    return dict(properties)


def _unsafe_name(name: str) -> bool:
    """A name no API Management resource has, and that could mean a path."""
    return (
        name in ("", ".", "..")
        or len(name) > MAX_NAME_LENGTH
        or "\\" in name
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in name)
    )


def _shown(text: str) -> str:
    """``text`` quoted for a message, control characters escaped, at most 80 characters."""
    quoted = json.dumps(text)
    return quoted if len(quoted) <= 80 else quoted[:76] + '..."'


def _raw_and_etag(
    pipeline_response: Any, deserialized: Any, headers: Mapping[str, Any]
) -> tuple[Any, str | None]:
    http = pipeline_response.http_response
    try:
        text = http.text()
        body = json.loads(text) if text and text.strip() else {}
    except (ValueError, RecursionError):
        body = None  # the caller refuses it with the resource named
    etag = headers.get("ETag") or http.headers.get("ETag")
    return body, (str(etag) if etag else None)
