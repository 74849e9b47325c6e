"""The azure-core policies of apimsync's ``ApiManagementClient``: only those it uses.

The SDK's default pipeline runs fourteen policies around every request. apimsync
switches azure-core's retries and redirects off on every call (it retries itself, and a
bearer token must never follow a redirect) and configures no tracing, proxies per call
or HTTP logging, yet those policies still ran: a sixth of the CPU of a request. This
pipeline keeps what a request needs, in the SDK's order: the request id and user agent
Azure expects, the decoding the SDK's models read, ARM's resource provider registration,
the bearer token (ARM's challenge policy, which refuses to send a token over plain HTTP)
and the per-call hooks that count requests.
"""

from __future__ import annotations

from typing import Any

from azure.core.pipeline import PipelineRequest
from azure.core.pipeline.policies import (
    ContentDecodePolicy,
    CustomHookPolicy,
    RequestIdPolicy,
    SansIOHTTPPolicy,
    UserAgentPolicy,
)
from azure.mgmt.apimanagement import __version__ as SDK_VERSION
from azure.mgmt.core.policies import (
    ARMAutoResourceProviderRegistrationPolicy,
    ARMChallengeAuthenticationPolicy,
)

SWITCHED_OFF = ("retry_total", "permit_redirects")
"""Per-call options for the policies this pipeline leaves out: with those policies
absent there is nothing to switch off, so they are dropped before the transport."""


class _NothingToSwitchOff(SansIOHTTPPolicy[Any, Any]):
    """Drops :data:`SWITCHED_OFF` options, so the same per-call options serve this
    pipeline and a default one (where they switch retries and redirects off)."""

    def on_request(self, request: PipelineRequest[Any]) -> None:
        for name in SWITCHED_OFF:
            request.context.options.pop(name, None)


def lean_policies(credential: Any, scope: str, **options: Any) -> list[Any]:
    """The policies, in order, for a client that authenticates with ``credential`` for
    ``scope``; ``options`` are the client's keyword arguments."""
    options.setdefault("sdk_moniker", f"mgmt-apimanagement/{SDK_VERSION}")
    return [
        RequestIdPolicy(**options),
        UserAgentPolicy(**options),
        ContentDecodePolicy(**options),
        ARMAutoResourceProviderRegistrationPolicy(),
        ARMChallengeAuthenticationPolicy(credential, scope, **options),
        CustomHookPolicy(**options),
        _NothingToSwitchOff(),
    ]
