"""W(N): the synthetic instance the benchmark deploys, plans, pulls and validates.

N APIs with 10 operations each, an API policy on every API and an operation policy on
half the operations, N/5 backends, N/5 named values, N/10 products each linked to 10
APIs, 3 groups. Policy documents are the seed export's, varied per resource, with their
backend and named-value references pointed at resources of W(N) (the emulator checks
references). Written with apimsync's own writer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from apimsync.formats.scm.writer import write_tree
from apimsync.model import Configuration, Resource, make_resource
from bench.corpus import corpus_dir

OPERATIONS_PER_API = 10
APIS_PER_PRODUCT = 10
GROUPS = 3
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")

_CORPUS = corpus_dir()
SEED_POLICIES = None if _CORPUS is None else _CORPUS / "seed-openai-v17/api-management/policies"

_BACKEND_ID = re.compile(r'backend-id="([^"@][^"]*)"')
_NAMED_VALUE = re.compile(r"\{\{([^{}]+)\}\}")

_FALLBACK_API_POLICY = """<policies>
\t<inbound>
\t\t<base />
\t\t<set-backend-service backend-id="{{backend}}" />
\t\t<set-header name="api-key" exists-action="override">
\t\t\t<value>{{secret}}</value>
\t\t</set-header>
\t\t<rate-limit calls="100" renewal-period="60" />
\t</inbound>
\t<backend>
\t\t<base />
\t</backend>
\t<outbound>
\t\t<base />
\t</outbound>
\t<on-error>
\t\t<base />
\t</on-error>
</policies>
"""

_FALLBACK_OPERATION_POLICY = """<policies>
\t<inbound>
\t\t<base />
\t\t<set-query-parameter name="code" exists-action="override">
\t\t\t<value>{{secret}}</value>
\t\t</set-query-parameter>
\t</inbound>
\t<backend>
\t\t<base />
\t</backend>
\t<outbound>
\t\t<base />
\t\t<set-header name="x-served-by" exists-action="override">
\t\t\t<value>@(context.Deployment.Region)</value>
\t\t</set-header>
\t</outbound>
\t<on-error>
\t\t<base />
\t</on-error>
</policies>
"""


@dataclass(frozen=True)
class Templates:
    """Policy documents to vary: API-scope ones and operation-scope ones."""

    api: tuple[str, ...]
    operation: tuple[str, ...]


def seed_templates(folder: Path | None = SEED_POLICIES) -> Templates:
    """The seed export's API and operation policies (fallbacks if it is not there)."""
    if folder is None:
        return Templates((_FALLBACK_API_POLICY,), (_FALLBACK_OPERATION_POLICY,))
    apis = folder / "apis"
    api = tuple(p.read_text(encoding="utf-8-sig") for p in sorted(apis.glob("*.xml")))
    operation = tuple(
        p.read_text(encoding="utf-8-sig") for p in sorted(apis.glob("*/operations/*.xml"))
    )
    return Templates(api or (_FALLBACK_API_POLICY,), operation or (_FALLBACK_OPERATION_POLICY,))


def _retarget(document: str, backends: list[str], named_values: list[str], salt: int) -> str:
    """The document with each backend and named-value reference pointed at W(N)'s own."""

    def backend(match: re.Match[str]) -> str:
        return f'backend-id="{backends[(salt + hash_of(match.group(1))) % len(backends)]}"'

    def named_value(match: re.Match[str]) -> str:
        name = named_values[(salt + hash_of(match.group(1))) % len(named_values)]
        return "{{" + name + "}}"

    return _NAMED_VALUE.sub(named_value, _BACKEND_ID.sub(backend, document))


def hash_of(text: str) -> int:
    """A small hash stable across runs (``hash`` of a str is salted per process)."""
    return sum((i + 1) * ord(c) for i, c in enumerate(text))


def _vary(document: str, label: str) -> str:
    """A distinct document per resource: a comment naming it, before ``<policies>``."""
    at = document.find("<policies")
    return f"{document[:at]}<!-- apimsync bench: {label} -->\n{document[at:]}"


def workload(apis: int, templates: Templates | None = None) -> Configuration:
    """The configuration W(``apis``)."""
    templates = templates or seed_templates()
    count = max(1, apis)
    backends = [f"backend-{k:05d}" for k in range(max(1, count // 5))]
    named_values = [f"nv-{k:05d}" for k in range(max(1, count // 5))]
    resources: list[Resource] = []
    for k, name in enumerate(backends):
        resources.append(
            make_resource(
                f"/backends/{name}",
                {
                    "url": f"https://svc-{k}.backend.example.test/api",
                    "protocol": "http",
                    "description": f"Backend {k}",
                    "tls": {"validateCertificateChain": True, "validateCertificateName": True},
                },
            )
        )
    for k, name in enumerate(named_values):
        resources.append(
            make_resource(
                f"/namedValues/{name}",
                {"displayName": name, "value": f"value-{k}", "tags": ["bench"], "secret": False},
            )
        )
    for g in range(GROUPS):
        resources.append(
            make_resource(
                f"/groups/team-{g}",
                {"displayName": f"Team {g}", "description": f"Bench group {g}", "type": "custom"},
            )
        )
    for i in range(count):
        resources.extend(_api(i, templates, backends, named_values))
    for p in range(count // APIS_PER_PRODUCT):
        product = f"/products/product-{p:04d}"
        resources.append(
            make_resource(
                product,
                {
                    "displayName": f"Product {p}",
                    "description": f"Bench product {p}",
                    "subscriptionRequired": True,
                    "approvalRequired": False,
                    "state": "published",
                },
            )
        )
        for a in range(p * APIS_PER_PRODUCT, (p + 1) * APIS_PER_PRODUCT):
            api_id = f"/apis/api-{a:05d}"
            resources.append(make_resource(f"{product}/apiLinks/api-{a:05d}", {"apiId": api_id}))
    return Configuration(resources)


def _api(
    i: int, templates: Templates, backends: list[str], named_values: list[str]
) -> list[Resource]:
    api_id = f"/apis/api-{i:05d}"
    resources = [
        make_resource(
            api_id,
            {
                "displayName": f"API {i}",
                "apiRevision": "1",
                "description": f"Synthetic API {i} of the apimsync benchmark.",
                "subscriptionRequired": True,
                "path": f"bench/api-{i:05d}",
                "protocols": ["https"],
                "isCurrent": True,
                "subscriptionKeyParameterNames": {
                    "header": "Ocp-Apim-Subscription-Key",
                    "query": "subscription-key",
                },
            },
        )
    ]
    api_document = templates.api[i % len(templates.api)]
    resources.append(
        make_resource(
            f"{api_id}/policies/policy",
            {
                "format": "rawxml",
                "value": _vary(_retarget(api_document, backends, named_values, i), f"api {i}"),
            },
        )
    )
    for j in range(OPERATIONS_PER_API):
        operation_id = f"{api_id}/operations/op-{j:02d}"
        resources.append(
            make_resource(
                operation_id,
                {
                    "displayName": f"Operation {j} of API {i}",
                    "method": METHODS[j % len(METHODS)],
                    "urlTemplate": f"/items-{j}/{{id}}",
                    "templateParameters": [
                        {"name": "id", "type": "string", "required": True, "values": []}
                    ],
                    "description": f"Operation {j}",
                    "request": {"queryParameters": [], "headers": [], "representations": []},
                    "responses": [],
                },
            )
        )
        if j % 2 == 0:
            document = templates.operation[(i + j) % len(templates.operation)]
            salt = i * OPERATIONS_PER_API + j
            value = _vary(_retarget(document, backends, named_values, salt), f"api {i} op {j}")
            resources.append(
                make_resource(
                    f"{operation_id}/policies/policy", {"format": "rawxml", "value": value}
                )
            )
    return resources


def write_workload(configuration: Configuration, root: Path) -> int:
    """Write ``configuration`` below ``root``; the number of files written."""
    return len(write_tree(configuration, root).written)
