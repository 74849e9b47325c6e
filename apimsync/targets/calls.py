"""One conversation with an instance through the SDK: counting, retries and errors.

:class:`Session` wraps an ``ApiManagementClient``. Every SDK call it makes carries
:meth:`Session.options`: a per-call ``raw_request_hook`` that counts requests (and writes)
and ``retry_total=0``, so azure-core never retries on its own and retries are not
multiplied. :meth:`Session.call` retries what is worth retrying (429, 500, 502, 503,
504, 409 ``PessimisticConcurrencyConflict``, dropped connections) with jittered
exponential backoff that honours ``Retry-After``, within :class:`RetryPolicy`'s bounds,
and turns what a user can cause (unreachable endpoint, TLS, 401/403, a missing service)
into one clear :class:`~apimsync.errors.ApimsyncError`. Tokens never enter a message.

Answers no API Management instance sends are refused with :class:`BadAnswer`: redirects
(never followed, so a bearer token cannot follow them), links to another host, bodies
that are cut short, not JSON or of the wrong shape. Polls of long-running writes are
retried one by one and must stay on the endpoint's host.
"""

from __future__ import annotations

import email.utils
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from azure.core.exceptions import (
    ClientAuthenticationError,
    DecodeError,
    DeserializationError,
    HttpResponseError,
    IncompleteReadError,
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)
from azure.mgmt.core.polling.arm_polling import ARMPolling
from urllib3.exceptions import NewConnectionError, ProtocolError

from apimsync.errors import ApimsyncError
from apimsync.targets.connection import Target

T = TypeVar("T")

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
CONFLICT_CODE = "PessimisticConcurrencyConflict"
WRITE_METHODS = frozenset({"PUT", "PATCH", "DELETE", "POST"})
POLL_INTERVAL = 5.0
"""Most seconds between polls of a long-running write when the server sends no Retry-After."""
FIRST_POLL = 0.25
"""Seconds before the first such poll: most writes are done within a second (the
recorded ones name no Retry-After), so each later poll waits twice as long as the one
before, up to :data:`POLL_INTERVAL`."""


# -- errors a user can cause -----------------------------------------------------------


class TargetProblem(ApimsyncError):
    """The instance cannot be used at all; nothing else will work until this is fixed."""


class TargetUnreachable(TargetProblem):
    def __init__(self, target: Target, detail: str) -> None:
        super().__init__(
            f"cannot reach {target.endpoint} ({detail}); check the endpoint and the network"
        )


class TlsFailure(TargetUnreachable):
    def __init__(self, target: Target, detail: str) -> None:
        TargetProblem.__init__(
            self,
            f"TLS with {target.endpoint} failed ({detail}); if the endpoint uses its own "
            "certificate authority, point ca_bundle (--ca-bundle / APIMSYNC_CA_BUNDLE) at it",
        )


class TimedOut(TargetProblem):
    """A request got no connection, or no answer, within the target's timeout."""

    def __init__(self, target: Target, *, connecting: bool) -> None:
        if connecting:
            what = f"could not connect to {target.endpoint} within {target.connect_timeout:g} s"
            setting = "connect-timeout"
        else:
            what = f"{target.endpoint} did not answer within {target.read_timeout:g} s"
            setting = "read-timeout"
        variable = "APIMSYNC_" + setting.replace("-", "_").upper()
        super().__init__(
            f"{what}; check the endpoint and the network (or allow longer with "
            f"--{setting} / {variable})"
        )
        self.connecting = connecting
        """False: the request was sent; a write may have happened."""


class RequestNotSent(TargetProblem):
    """A request cannot be sent at all; trying again cannot help."""

    def __init__(self, target: Target, detail: str) -> None:
        super().__init__(f"cannot send requests to {target.endpoint} ({detail})")


class AccessDenied(TargetProblem):
    def __init__(self, target: Target, status: int, message: str) -> None:
        what = "refused the credential" if status == 401 else "denied access"
        if target.token is not None:  # a fixed token: an emulator's connection file
            what = "refused the token" if status == 401 else "denied the token access"
            advice = (
                "the token comes from the connection file (APIMSYNC_CONNECTION): point it at "
                f"the connection.json of the emulator now serving {target.endpoint}"
            )
        else:
            advice = (
                "sign in (az login) or use an identity with the API Management Service "
                "Contributor role"
            )
        super().__init__(
            f"{target.endpoint} {what} for service '{target.service}' ({status}: {message}); "
            + advice
        )


class SignInFailed(TargetProblem):
    """No credential could get a token (nothing signed in, no managed identity...)."""

    def __init__(self, target: Target) -> None:
        super().__init__(
            f"could not sign in to {target.endpoint}: no Azure credential is available. "
            "Run 'az login', or set up workload identity or a managed identity "
            "(see DefaultAzureCredential); for the emulator, set APIMSYNC_CONNECTION"
        )


class ServiceNotFound(TargetProblem):
    def __init__(self, target: Target, message: str) -> None:
        super().__init__(
            f"there is no API Management service '{target.service}' in resource group "
            f"'{target.resource_group}' of subscription '{target.subscription}' "
            f"at {target.endpoint} ({message})"
        )


class BadAnswer(TargetProblem):
    """The endpoint answered with something no API Management instance sends."""

    def __init__(self, endpoint: str, what: str, problem: str) -> None:
        super().__init__(
            f"{endpoint} sent an answer apimsync refuses ({what}: {problem}); "
            "check that the endpoint is an API Management management endpoint"
        )


_DEFAULT_PORTS = {"https": 443, "http": 80}


def same_origin(url: str, endpoint: str) -> bool:
    """Whether ``url`` is on the scheme, host and port of ``endpoint``, compared as URLs:
    ARM spells the default port out in the links it writes
    (``https://management.azure.com:443/...``), so the port is compared with defaults
    applied, not as text. Credentials in a URL make it another origin."""
    theirs = _origin(url)
    return theirs is not None and theirs == _origin(endpoint)


def _origin(url: str) -> tuple[str, str, int] | None:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None  # a port that is not a number
    host = (parts.hostname or "").rstrip(".")
    if not host or port is None or parts.username is not None or parts.password is not None:
        return None
    return scheme, host, port


class CallCancelled(ApimsyncError):
    """The run is stopping (Ctrl-C, or the instance became unusable): no new attempt."""

    def __init__(self, what: str, after_lost_answer: bool) -> None:
        super().__init__(f"{what}: cancelled")
        self.after_lost_answer = after_lost_answer


class CallFailed(ApimsyncError):
    """One call failed for a reason of its own (validation, 412, retries exhausted...)."""

    def __init__(
        self, what: str, status: int | None, code: str, detail: str, note: str = ""
    ) -> None:
        answer = f"{status} {code}" if status else code
        self.reason = f"{answer}: {detail}{note}"
        """The message without ``what`` (for a report that names the change already)."""
        super().__init__(f"{what}: {self.reason}")
        self.what = what
        self.status = status
        self.code = code
        self.detail = detail
        self.after_lost_answer = False
        """Set when an earlier attempt's answer was lost: a write may have happened."""

    def noted(self, note: str) -> CallFailed:
        return CallFailed(self.what, self.status, self.code, self.detail, note)


# -- retries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds of the retries of one call."""

    attempts: int = 12
    """Like azure-core's default (10 retries): enough for a write to get through an
    instance that throttles or conflicts a third of the time."""
    base_delay: float = 0.5
    max_delay: float = 8.0
    """The longest wait the backoff chooses; a ``Retry-After`` may ask for longer."""
    total: float = 180.0
    """Seconds one call may take, waits included, before it is given up."""

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry ``attempt`` (1 = the first retry): what the server
        asked for (``Retry-After``, plus up to 10% so waiting clients spread out), else
        jittered exponential backoff."""
        if retry_after is not None:
            return retry_after * random.uniform(1.0, 1.1)
        backoff = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return backoff * random.uniform(0.5, 1.0)


DEFAULT_RETRY = RetryPolicy()


@dataclass(frozen=True)
class Retry:
    """One retry about to happen (what, which attempt comes next, wait, why)."""

    what: str
    attempt: int
    delay: float
    reason: str
    subject: str = ""
    """The id of the resource the call is about, if any."""


@dataclass(frozen=True)
class _Transient:
    """A failure worth retrying."""

    reason: str
    retry_after: float | None
    failure: CallFailed
    lost_answer: bool = False


# -- the session -----------------------------------------------------------------------


class Session:
    """An SDK client for one target, with counters and the retry loop."""

    def __init__(
        self,
        target: Target,
        client: Any = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        on_retry: Callable[[Retry], None] | None = None,
    ) -> None:
        self.target = target
        self.client: Any = client if client is not None else target.client(retry_total=0)
        self.rg = target.resource_group
        self.service = target.service
        self.retry = retry
        self.on_retry = on_retry
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        self.requests = 0
        self.writes = 0
        self.retries = 0

    def cancel(self) -> None:
        """Make every call stop at its next attempt or wait (raising :class:`CallCancelled`);
        a request under way ends when it is answered or times out."""
        self._cancelled.set()

    # -- per-call options -------------------------------------------------------------

    def _count(self, request: Any) -> None:
        method = str(request.http_request.method).upper()
        with self._lock:
            self.requests += 1
            if method in WRITE_METHODS:
                self.writes += 1

    def options(self, **extra: Any) -> dict[str, Any]:
        """Keyword arguments for every SDK call: the counter, no azure-core retries and no
        redirects (the management API never redirects; a token must not follow one)."""
        return {
            "raw_request_hook": self._count,
            "retry_total": 0,
            "permit_redirects": False,
            **extra,
        }

    def polling(self, what: str = "a long-running write", subject: str = "") -> ARMPolling:
        """A poller that waits exactly what ``Retry-After`` says (also 0), retries each
        poll on its own and polls only the endpoint's host."""
        poller = _RetryAfterPolling(
            POLL_INTERVAL, lro_options={"final-state-via": "location"}, **self.options()
        )
        poller.session, poller.what, poller.subject = self, what, subject
        return poller

    def operations(self, group: str) -> Any:
        return getattr(self.client, group)

    # -- the retry loop ---------------------------------------------------------------

    def call(self, what: str, operation: Callable[[], T], subject: str = "") -> T:
        """``operation()`` with retries; user-level problems raise :class:`TargetProblem`,
        other failures :class:`CallFailed` (never retried: 412, 400, 404...)."""
        started = time.monotonic()
        lost_answer = False
        for attempt in range(1, self.retry.attempts + 1):
            if self._cancelled.is_set():
                raise CallCancelled(what, lost_answer)
            try:
                return operation()
            except (HttpResponseError, ServiceRequestError, ServiceResponseError) as error:
                transient = self._transient_or_raise(what, error, lost_answer)
            except DeserializationError as error:
                raise BadAnswer(self.target.endpoint, what, _short(error)) from None
            lost_answer = lost_answer or transient.lost_answer
            delay = self.retry.delay(attempt, transient.retry_after)
            out_of_time = time.monotonic() - started + delay > self.retry.total
            if attempt == self.retry.attempts or out_of_time:
                raise transient.failure.noted(f" (gave up after {attempt} attempts)")
            self._note_retry(Retry(what, attempt + 1, delay, transient.reason, subject))
            self._cancelled.wait(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _note_retry(self, retry: Retry) -> None:
        with self._lock:
            self.retries += 1
        if self.on_retry is not None:
            self.on_retry(retry)

    def _transient_or_raise(self, what: str, error: Exception, lost_answer: bool) -> _Transient:
        try:
            return self._classify(what, error)
        except CallFailed as failure:
            failure.after_lost_answer = lost_answer
            raise

    def _classify(self, what: str, error: Exception) -> _Transient:
        """A :class:`_Transient` to retry (429, 5xx, a dropped connection, the documented
        409), or raise the error it stands for: everything else would fail again."""
        if isinstance(error, ServiceResponseTimeoutError | ServiceRequestTimeoutError):
            # urllib3 reports a TLS handshake that ran out of the connect timeout as a read
            # timeout; the chain says which it was
            handshake = any("handshake" in str(e) for e in _chain(error))
            connecting = handshake or isinstance(error, ServiceRequestTimeoutError)
            raise TimedOut(self.target, connecting=connecting) from None
        if isinstance(error, ServiceResponseError):
            failure = CallFailed(what, None, "ConnectionDropped", "the connection was dropped")
            return _Transient("connection dropped", None, failure, lost_answer=True)
        if isinstance(error, ServiceRequestError):
            self._raise_unusable(error)
            if not any(isinstance(e, ConnectionError | ProtocolError) for e in _chain(error)):
                raise RequestNotSent(self.target, _short(error)) from None
            failure = CallFailed(what, None, "ConnectionFailed", _short(error))
            return _Transient("connection failed", None, failure)
        assert isinstance(error, HttpResponseError)
        if isinstance(error, ClientAuthenticationError) and error.status_code is None:
            raise SignInFailed(self.target) from None
        self._raise_bad_answer(what, error)
        status = int(error.status_code or 0)
        code = _error_code(error)
        message = _error_message(error)
        self._raise_target_problem(status, code, message)
        failure = CallFailed(what, status, code, message)
        if status in RETRIED_STATUSES or (status == 409 and code == CONFLICT_CODE):
            return _Transient(f"{status} {code}".strip(), _retry_after(error), failure)
        raise failure

    def _raise_bad_answer(self, what: str, error: HttpResponseError) -> None:
        endpoint = self.target.endpoint
        status = int(error.status_code or 0)
        if isinstance(error, IncompleteReadError):
            raise BadAnswer(endpoint, what, "the answer was cut short") from None
        if isinstance(error, DecodeError) and status < 300:
            raise BadAnswer(endpoint, what, "the answer is not valid JSON") from None
        if 300 <= status < 400:
            headers = getattr(error.response, "headers", None) or {}
            location = urlsplit(str(headers.get("Location") or ""))
            where = f" to {location.scheme}://{location.netloc}" if location.netloc else ""
            raise BadAnswer(
                endpoint, what, f"a redirect ({status}){where}, which apimsync never follows"
            ) from None

    def _raise_target_problem(self, status: int, code: str, message: str) -> None:
        if status in (401, 403):
            raise AccessDenied(self.target, status, message)
        if status == 404 and self._is_service_missing(code, message):
            raise ServiceNotFound(self.target, message)

    def _is_service_missing(self, code: str, message: str) -> bool:
        if code in ("SubscriptionNotFound", "ResourceGroupNotFound"):
            return True
        marker = f"/service/{self.service}'".casefold()
        return code == "ResourceNotFound" and marker in message.casefold()

    def _raise_unusable(self, error: ServiceRequestError) -> None:
        """Raise for a connection that cannot succeed: TLS refused, nobody listening."""
        chain = list(_chain(error))
        text = " ".join(str(e) for e in chain)
        if any(isinstance(e, ssl.SSLError) for e in chain) or any(s in text for s in _TLS_SIGNS):
            raise TlsFailure(self.target, _short(error))
        refused = any(isinstance(e, ConnectionRefusedError | socket.gaierror) for e in chain)
        if refused or any(sign in text for sign in _REFUSED_SIGNS):
            raise TargetUnreachable(self.target, "connection refused or unknown host")
        if any(isinstance(e, NewConnectionError) for e in chain):
            raise TargetUnreachable(self.target, _short(error))


class _RetryAfterPolling(ARMPolling):
    """ARM polling that takes ``Retry-After: 0`` at its word (azure-core waits the
    default interval then); without the header it waits :func:`poll_delay`.

    Each poll goes through :meth:`Session.call` (a throttled or dropped poll is retried
    alone, not the whole operation), and only to the endpoint's host."""

    session: Session
    what: str
    subject: str
    polls: int = 0

    def _extract_delay(self) -> float:
        headers = self._pipeline_response.http_response.headers
        delay = poll_delay(headers.get("Retry-After"), self.polls)
        self.polls += 1
        return delay

    def request_status(self, status_link: str) -> Any:
        session = self.session
        if urlsplit(status_link).netloc and not same_origin(status_link, session.target.endpoint):
            raise BadAnswer(session.target.endpoint, self.what, "a status link to another host")

        def poll() -> Any:
            response = super(_RetryAfterPolling, self).request_status(status_link)
            status = response.http_response.status_code
            if status in RETRIED_STATUSES:
                raise HttpResponseError(response=response.http_response)
            return response

        return session.call(self.what, poll, self.subject)


_TLS_SIGNS = ("CERTIFICATE_VERIFY_FAILED", "SSLError", "WRONG_VERSION_NUMBER")
_REFUSED_SIGNS = ("Connection refused", "Name or service not known", "getaddrinfo failed")


def _chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and the exceptions it wraps (azure-core's ``inner_exception``, causes)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        inner = getattr(current, "inner_exception", None)
        wrapped = inner if isinstance(inner, BaseException) else None
        current = wrapped or current.__cause__ or current.__context__


def _short(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:200]


def _error_code(error: HttpResponseError) -> str:
    inner = getattr(error, "error", None)
    code = getattr(inner, "code", None)
    return str(code) if code else ""


def _error_message(error: HttpResponseError) -> str:
    inner = getattr(error, "error", None)
    message = getattr(inner, "message", None)
    if message:
        return str(message)
    return str(error.reason or error.message or "").splitlines()[0][:300]


def _retry_after(error: HttpResponseError) -> float | None:
    headers = getattr(error.response, "headers", None) or {}
    return parse_retry_after(headers.get("Retry-After"))


def poll_delay(retry_after: str | None, polls: int) -> float:
    """Seconds to wait before the next poll of a long-running write, ``polls`` polls into
    it: what ``Retry-After`` says, else :data:`FIRST_POLL` doubled each poll, at most
    :data:`POLL_INTERVAL`."""
    asked = parse_retry_after(retry_after)
    if asked is not None:
        return asked
    return min(POLL_INTERVAL, FIRST_POLL * float(2 ** min(polls, 16)))


def parse_retry_after(value: str | None) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
