"""The HTTP session under the SDK client: answers larger than :data:`MAX_ANSWER_BYTES`
are refused while they arrive, so a hostile or broken endpoint cannot fill the memory.

azure-core reads a whole body before any pipeline policy sees it, so the limit sits one
level lower, in a ``requests`` response hook: it runs before the body is read, refuses a
``Content-Length`` over the limit at once and otherwise counts the (decompressed) bytes
as they are read. The refusal is an :class:`AnswerTooLarge`, which azure-core does not
wrap, so it reaches the command as one clear message.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

import requests
from requests.adapters import HTTPAdapter
from requests.hooks import dispatch_hook
from requests.structures import CaseInsensitiveDict
from requests.utils import select_proxy
from urllib3.util.retry import Retry

from apimsync.targets.calls import TargetProblem

MAX_ANSWER_BYTES = 64 * 1024 * 1024
"""No management API answer comes near this (a page of 100 resources, one policy)."""


POOL_SIZE = 64
"""Connections kept per host: one per worker at the largest ``--parallelism``."""


class AnswerTooLarge(TargetProblem):
    def __init__(self, url: str, limit: int) -> None:
        parts = urlsplit(url)
        super().__init__(
            f"{parts.scheme}://{parts.netloc} sent an answer larger than "
            f"{limit // (1024 * 1024)} MiB; refusing it (no API Management answer is that "
            "large; check the endpoint)"
        )


class _Session(requests.Session):
    """Reads the environment's proxy and CA bundle settings once per host and options,
    and sends azure-core's requests without the parts of ``requests`` it never uses.

    ``requests`` reads the settings again for every request (walking ``os.environ`` and
    matching ``no_proxy``): a tenth of the CPU a pull spends, for settings that cannot
    change while apimsync runs. azure-core asks for no redirects and sends no cookies,
    auth or parameters of its own, so :meth:`request` prepares the request and hands it
    to the adapter directly, with the session's headers, hooks and settings: a quarter of
    the CPU of a request, without the cookie jar, redirect and netrc machinery."""

    def __init__(self) -> None:
        super().__init__()
        self._environment_settings: dict[Hashable, dict[str, Any]] = {}

    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
        files: Any = None,
        timeout: Any = None,
        allow_redirects: bool = True,
        proxies: Any = None,
        stream: bool | None = None,
        verify: Any = None,
        cert: Any = None,
        **other: Any,
    ) -> requests.Response:
        if files or allow_redirects or other:
            return super().request(
                method,
                url,
                headers=headers,
                data=data,
                files=files,
                timeout=timeout,
                allow_redirects=allow_redirects,
                proxies=proxies,
                stream=stream,
                verify=verify,
                cert=cert,
                **other,
            )
        merged = CaseInsensitiveDict(self.headers)
        merged.update(headers or {})
        prepared = _prepared(method, url, merged, data, self.hooks)
        # As Session.request: no proxies given means the environment's.
        settings = self.merge_environment_settings(
            prepared.url or url, proxies or {}, stream, verify, cert
        )
        response = self.get_adapter(prepared.url or url).send(prepared, timeout=timeout, **settings)
        response = dispatch_hook("response", prepared.hooks, response)
        if not settings["stream"]:
            _ = response.content
        return response

    def merge_environment_settings(
        self, url: str, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        parts = urlsplit(url)
        given = None if proxies is None else tuple(sorted(proxies.items()))
        key = (parts.scheme, parts.netloc, given, stream, verify, cert)
        try:
            settings = self._environment_settings.get(key)
        except TypeError:  # an unhashable option: nothing to reuse
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        if settings is None:
            fresh = None if proxies is None else dict(proxies)
            settings = super().merge_environment_settings(url, fresh, stream, verify, cert)
            self._environment_settings[key] = settings
        return {**settings, "proxies": dict(settings["proxies"])}


class _PoolPerHostAdapter(HTTPAdapter):
    """Finds a host's connection pool, and sets up its certificate checks, once.

    ``HTTPAdapter`` does both again for every request: it parses the URL, builds the
    pool's key and looks the CA bundle up on the file system three times, for answers
    that cannot change while apimsync runs. A request through a proxy, or with an option
    that cannot be a key, goes the adapter's own way."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._pools: dict[Hashable, Any] = {}
        self._checked: WeakKeyDictionary[Any, tuple[Any, ...]] = WeakKeyDictionary()

    def get_connection_with_tls_context(
        self, request: requests.PreparedRequest, verify: Any, proxies: Any = None, cert: Any = None
    ) -> Any:
        url = request.url or ""
        if proxies and select_proxy(url, proxies):
            return super().get_connection_with_tls_context(request, verify, proxies, cert)
        parts = urlsplit(url)
        key = (parts.scheme.lower(), parts.netloc.lower(), verify, cert)
        try:
            pool = self._pools.get(key)
        except TypeError:  # an unhashable option
            return super().get_connection_with_tls_context(request, verify, proxies, cert)
        if pool is None or pool.pool is None:  # none yet, or closed (the adapter was)
            pool = super().get_connection_with_tls_context(request, verify, proxies, cert)
            self._pools[key] = pool
        return pool

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        settings = (url.lower().startswith("https"), verify, cert)
        if self._checked.get(conn) != settings:
            super().cert_verify(conn, url, verify, cert)
            self._checked[conn] = settings


def _prepared(
    method: str, url: str, headers: Mapping[str, str], data: Any, hooks: Any
) -> requests.PreparedRequest:
    """The request as ``PreparedRequest.prepare`` makes it, less its cookie and auth
    steps: this session holds no cookies (answers' cookies are never kept), and auth from
    the URL (``https://user:password@host``) would replace the bearer token."""
    prepared = requests.PreparedRequest()
    prepared.prepare_method(method.upper())
    prepared.prepare_url(url, None)
    prepared.prepare_headers(headers)
    prepared.prepare_body(data, None)
    prepared.prepare_hooks(hooks)
    return prepared


def capped_session(limit: int = MAX_ANSWER_BYTES) -> requests.Session:
    """A ``requests`` session (as azure-core would make it) that refuses larger answers."""
    session = _Session()
    adapter = _PoolPerHostAdapter(
        pool_maxsize=POOL_SIZE,
        max_retries=Retry(total=False, redirect=False, raise_on_status=False),
    )
    for scheme in ("https://", "http://"):
        session.mount(scheme, adapter)
    session.hooks["response"].append(_capper(limit))
    session.auth = _bearer_only
    return session


def _bearer_only(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """Leave the request as azure-core signed it. Without an ``auth``, requests looks up
    ``~/.netrc`` on every request (a tenth of a pull's CPU) and, for a host listed there,
    replaces the bearer token with that file's password."""
    return request


def _capper(limit: int) -> Any:
    def cap(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        length = response.headers.get("Content-Length", "")
        head = response.request.method == "HEAD"
        if not head and length.strip().isdigit() and int(length) > limit:
            response.close()
            raise AnswerTooLarge(response.url, limit)
        response.raw = _CappedBody(response.raw, limit, response.url)
        return response

    return cap


class _CappedBody:
    """``urllib3``'s response, whose body may not grow past ``limit`` bytes."""

    def __init__(self, raw: Any, limit: int, url: str) -> None:
        self._raw = raw
        self._limit = limit
        self._url = url

    def stream(self, amt: int | None = None, decode_content: bool | None = None) -> Iterator[bytes]:
        seen = 0
        for chunk in self._raw.stream(amt, decode_content=decode_content):
            seen += len(chunk)
            if seen > self._limit:
                self._raw.close()
                raise AnswerTooLarge(self._url, self._limit)
            yield chunk

    def read(self, amt: int | None = None, *args: Any, **kwargs: Any) -> bytes:
        data: bytes = self._raw.read(amt, *args, **kwargs)
        if amt is None and len(data) > self._limit:
            raise AnswerTooLarge(self._url, self._limit)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)
