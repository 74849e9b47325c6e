"""Per-kind behaviour: validation, defaults, response shaping, delete guards, seeding.

The kinds themselves are data (:mod:`apimsync.emulator.kinds`); what data cannot express
sits in small hooks registered per kind in :data:`PREPARE` (validate and transform what
a PUT/PATCH stores), :data:`SHAPE` (fill server-computed fields, hide secrets) and
:data:`GUARD` (refuse or extend a delete). Properties whose name starts with ``_`` are
private: stored, never shown.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from apimsync.emulator import policydocs, policyxml
from apimsync.emulator.core import Ctx, not_found, validation_error
from apimsync.emulator.kinds import Kind
from apimsync.emulator.store import Row
from apimsync.emulator.tokens import new_key

MAX_GIT_TOKEN_DAYS = 30

Prepare = Callable[[Ctx, Kind, Row, "Row | None"], None]
Shape = Callable[[Ctx, Row, dict[str, Any]], None]
Guard = Callable[[Ctx, Row], None]


# -- helpers ---------------------------------------------------------------------------


def public(props: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``props`` without private (``_``) keys."""
    return {k: copy.deepcopy(v) for k, v in props.items() if not k.startswith("_")}


def require(props: Mapping[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        if props.get(name) in (None, ""):
            raise validation_error(f"'{name}' is required.", target=name)


def _one_of(props: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> None:
    value = props.get(name)
    if value is not None and value not in allowed:
        raise validation_error(
            f"'{name}' must be one of {', '.join(allowed)}, not '{value}'.", target=name
        )


def resolve_ref(ctx: Ctx, value: Any, collection: str, target: str) -> Row:
    """The stored resource an id in a body names (``/x/y`` or a full ARM id); 400 if none."""
    path = ctx.relative_ref(value) if isinstance(value, str) else None
    parts = path.split("/") if path else []
    if len(parts) < 2 or parts[0].lower() != collection.lower():
        raise validation_error(f"'{target}' must be the id of a {collection} entity.", target)
    if collection == "apis" and len(parts) == 2:
        ref = ctx.api(parts[1])
        row = ctx.store.get(ctx.service, ref.rev_path) if ref.exists else None
    elif collection == "apis":
        ref = ctx.api(parts[1])
        parts[1] = f"{ref.base};rev={ref.rev}"
        row = ctx.store.get(ctx.service, "/".join(parts)) if ref.exists else None
    else:
        row = ctx.store.get(ctx.service, path or "")
    if row is None:
        raise validation_error(f"'{value}' referenced by '{target}' was not found.", target)
    return row


def api_base_path(row: Row) -> str:
    """``apis/echo`` for the revision row ``apis/echo;rev=2``."""
    return row.path.split(";rev=")[0]


def _named_value_names(ctx: Ctx) -> set[str]:
    values = ctx.store.property_values(ctx.service, "namedValue", "displayName")
    return {str(name or "").lower() for _, name in values}


def _check_policy_references(ctx: Ctx, text: str, root: Any) -> None:
    refs = policydocs.references(text, root)
    known = _named_value_names(ctx) if refs.named_values else set()
    missing = sorted(n for n in refs.named_values if n.lower() not in known)
    if missing:
        raise validation_error(f"Cannot find a property '{missing[0]}'.", target="value")
    collections = {"fragment": "policyFragments", "backend": "backends", "logger": "loggers"}
    for kind, names in refs.by_kind.items():
        for name in sorted(names):
            if ctx.store.get(ctx.service, f"{collections[kind]}/{name}") is None:
                raise validation_error(f"The {kind} '{name}' was not found.", target="value")


def _policy_format(props: dict[str, Any]) -> None:
    fmt = props.get("format") or "xml"
    if fmt in policydocs.LINK_FORMATS:
        raise validation_error(
            "The emulator cannot fetch policy documents from a link; send the document inline.",
            target="format",
        )
    if fmt not in policydocs.INLINE_FORMATS:
        raise validation_error(f"'{fmt}' is not a policy format.", target="format")
    props["format"] = fmt


def _validate_document(ctx: Ctx, props: dict[str, Any], root_names: tuple[str, ...]) -> None:
    _policy_format(props)
    text = props.get("value")
    if not isinstance(text, str):
        raise validation_error("'value' must be a string.", target="value")
    last: policydocs.PolicyDocumentError | None = None
    for root_name in root_names:
        try:
            root = policydocs.validate(text, props["format"], root_name)
        except policydocs.PolicyDocumentError as exc:
            last = exc
            continue
        _check_policy_references(ctx, text, root)
        return
    raise validation_error(str(last), target="value")


# -- prepare hooks (validate and complete what a write stores) -------------------------


def _reserialise(props: dict[str, Any]) -> None:
    """Store the document as the service writes it back (tabs, CRLF; catalogue §2.5), in
    the format it was sent in: the re-indenting works on the escaped form."""
    text = str(props["value"])
    written = policyxml.reserialise(
        policydocs.to_xml(text) if props["format"] == "rawxml" else text
    )
    props["value"] = policydocs.to_rawxml(written) if props["format"] == "rawxml" else written


def prepare_policy(ctx: Ctx, kind: Kind, row: Row, old: Row | None) -> None:
    _validate_document(ctx, row.props, ("policies",))
    _reserialise(row.props)


def prepare_resolver_policy(ctx: Ctx, kind: Kind, row: Row, old: Row | None) -> None:
    roots = ("http-data-source", "sql-data-source", "cosmosdb-data-source", "policies")
    _validate_document(ctx, row.props, roots)
    _reserialise(row.props)


def prepare_fragment(ctx: Ctx, kind: Kind, row: Row, old: Row | None) -> None:
    _validate_document(ctx, row.props, ("fragment",))


def _parameter_lists(props: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """(holder, key) of every parameter list of an operation."""
    found: list[tuple[dict[str, Any], str]] = [(props, "templateParameters")]
    request = props.get("request")
    if isinstance(request, dict):
        found += [(request, "queryParameters"), (request, "headers")]
    responses = props.get("responses")
    for response in responses if isinstance(responses, list) else []:
        if isinstance(response, dict):
            found.append((response, "headers"))
    return found


def normalise_operation(props: dict[str, Any]) -> None:
    """§7 [REV20 p@68000], [REV23 p@84000]: empty lists filled in and ``policies: null``;
    a missing ``request`` stays missing [POL20 e17]."""
    for holder, key in _parameter_lists(props):
        if not isinstance(holder.get(key), list):
            holder[key] = []
    for holder in [props.get("request"), *(props.get("responses") or [])]:
        if isinstance(holder, dict):
            holder.setdefault("representations", [])
    props.setdefault("policies", None)


def shape_operation(ctx: Ctx, row: Row, props: dict[str, Any]) -> None:
    """A parameter stored with ``"required": false`` is shown without the key (§7); the
    scm export still writes it, as the real exports do."""
    for holder, key in _parameter_lists(props):
        parameters = holder.get(key)
        if isinstance(parameters, list):
            holder[key] = [
                {k: v for k, v in p.items() if not (k == "required" and v is False)}
                if isinstance(p, dict)
                else p
                for p in parameters
            ]


def prepare_operation(ctx: Ctx, kind: Kind, row: Row, old: Row | None) -> None:
    props = row.props
    normalise_operation(props)
    template = str(props.get("urlTemplate", ""))
    declared = {
        str(p.get("name", "")).lower()
        for p in props.get("templateParameters") or []
        if isinstance(p, dict)
    }
    used = re.findall(r"\{\*?([^{}]+)\}", template)
    if any(name.lower() not in declared for name in used):
        raise validation_error(
            "All template parameters used in the UriTemplate must be defined in the Operation",
            target="templateParameters",
        )
    if not template.startswith("/"):
        props["urlTemplate"] = "/" + template


def prepare_named_value(ctx: Ctx, kind: Kind, row: Row, old: Row | None) -> None:
    props = row.props
    name = str(props.get("displayName", ""))
    if not re.fullmatch(r"[A-Za-z0-9\-._]{1,256}", name):
        raise validation_error(
            "'displayName' may contain only letters, digits, '-', '.' and '_'.",
            target="displayName",
        )
    key_vault = props.get("keyVault")
    if isinstance(key_vault, dict) and key_vault.get("secretIdentifier"):
        props["secret"] = True
        props.pop("value", None)
        key_vault.setdefault("identityClientId", None)  # §12 [NV23 p@60000]
        key_vault["lastStatus"] = {"code": "Success", "timeStampUtc": _now_iso()}
        return
    props.pop("keyVault", None)
    value = props.get("value")
    if not isinstance(value, str) or value == "":
        raise validation_error("'value' is required.", target="value")
    if len(value) > 4096:
        raise validation_error("'value' may be at most 4096 characters long.", target="value")


def prepare_logger(ctx: Ctx, kind: Kind, row: Row, old: Row | None) -> None:
    props = row.props
    _one_of(props, "loggerType", ("azureEventHub", "applicationInsights", "azureMonitor"))
    credentials = props.get("credentials")
    if not isinstance(credentials, dict):
        return
    for key in ("instrumentationKey", "connectionString"):
        value = credentials.get(key)
        if isinstance(value, str) and value and not re.fullmatch(r"\{\{[^{}]+\}\}", value):
            credentials[key] = "{{" + _store_logger_secret(ctx, value) + "}}"


def _store_logger_secret(ctx: Ctx, value: str) -> str:
    name = f"Logger-Credentials--{secrets.token_hex(12)}"
    props = {"displayName": name, "value": value, "secret": True, "tags": []}
    ctx.store.put(ctx.service, Row("namedValue", f"namedValues/{name}", props))
    return name


def _diagnostic_side() -> dict[str, Any]:
    masking = {"queryParams": [{"value": "*", "mode": "Hide"}]}
    return {"request": {"headers": None, "body": None, "dataMasking": masking}, "response": None}


def prepare_diagnostic(ctx: Ctx, kind: Kind, row: Row, old: Row | None) -> None:
    """Defaults as 2022-08-01 filled them for an API diagnostic ([ADIAG23 p@14000]); the
    service-level ones were recorded only at 2019-01-01, so the newest recording serves
    both. ``loggerId`` may be a full ARM id or ``/loggers/x``."""
    resolve_ref(ctx, row.props.get("loggerId"), "loggers", "loggerId")
    if old is None:
        defaults = {
            "alwaysLog": None,
            "httpCorrelationProtocol": "Legacy",
            "logClientIp": True,
            "sampling": None,
            "frontend": _diagnostic_side(),
            "backend": _diagnostic_side(),
        }
        row.props = {**defaults, **row.props}
    else:
        row.props.setdefault("logClientIp", old.props.get("logClientIp", True))


def prepare_backend(ctx: Ctx, kind: Kind, row: Row, old: Row | None) -> None:
    props = row.props
    _one_of(props, "type", ("Single", "Pool"))
    if props.get("type") != "Pool":
        require(props, ("url", "protocol"))
        _one_of(props, "protocol", ("http", "soap"))
        return
    pool = props.get("pool")
    services = pool.get("services") if isinstance(pool, dict) else None
    if not isinstance(services, list) or not services:
        raise validation_error("A pool backend needs 'pool.services'.", target="pool")
    for entry in services:
        member = resolve_ref(ctx, (entry or {}).get("id"), "backends", "pool.services.id")
        if member.props.get("type") == "Pool":
            raise validation_error("A pool cannot contain another pool.", target="pool")


def prepare_version_set(ctx: Ctx, kind: Kind, row: Row, old: Row | None) -> None:
    props = row.props
    _one_of(props, "versioningScheme", ("Segment", "Query", "Header"))
    needs = {"Query": "versionQueryName", "Header": "versionHeaderName"}
    needed = needs.get(str(props.get("versioningScheme")))
    if needed:
        require(props, (needed,))


def prepare_product(ctx: Ctx, kind: Kind, row: Row, old: Row | None) -> None:
    """A new product is linked to Administrators; only the create answer shows it (§8.1)."""
    _one_of(row.props, "state", ("notPublished", "published"))
    if old is not None:
        return
    group = ctx.store.get(ctx.service, "groups/administrators")
    if group is None:
        return
    link = Row("productGroupLink", f"{row.path}/groupLinks/administrators", {}, ref=group.path)
    link.props["groupId"] = ctx.arm_id(group.path)
    ctx.store.put(ctx.service, link)
    row.extra["groups"] = [_group_contract(ctx, group)]


def _group_contract(ctx: Ctx, group: Row) -> dict[str, Any]:
    props = group.props
    return {
        "id": ctx.arm_id(group.path),
        "name": props.get("displayName"),
        "description": props.get("description"),
        "builtIn": bool(props.get("builtIn")),
        "type": props.get("type"),
        "externalId": props.get("externalId"),
    }


BUILT_IN_FIELDS = ("displayName", "description", "externalId", "type")


def prepare_group(ctx: Ctx, kind: Kind, row: Row, old: Row | None) -> None:
    if old is not None and old.props.get("builtIn"):
        _keep_built_in(ctx, row, old)
        return
    _one_of(row.props, "type", ("custom", "external"))
    row.props["builtIn"] = False
    if row.props.get("type") == "external":
        require(row.props, ("externalId",))


def _keep_built_in(ctx: Ctx, row: Row, old: Row) -> None:
    """A built-in group written back unchanged is accepted (issue 11 e); a change is not."""
    body = ctx.body if isinstance(ctx.body, dict) else {}
    given = body.get("properties")
    given = given if isinstance(given, dict) else {}
    sent = {k: v for k, v in given.items() if k in BUILT_IN_FIELDS and v is not None}
    changed = sorted(k for k, v in sent.items() if old.props.get(k) != v)
    if changed:
        raise validation_error(
            f"A built-in group cannot be changed ('{changed[0]}' differs).", target=changed[0]
        )
    row.props = dict(old.props)


def _link(target_kind: str, field_name: str, collection: str) -> Prepare:
    def prepare(ctx: Ctx, kind: Kind, row: Row, old: Row | None) -> None:
        target = resolve_ref(ctx, row.props.get(field_name), collection, field_name)
        path = api_base_path(target) if target.kind == "api" else target.path
        row.ref = path
        row.props[field_name] = ctx.display_id(path)

    return prepare


def prepare_release(ctx: Ctx, kind: Kind, row: Row, old: Row | None) -> None:
    base = ctx.api(ctx.params["apiId"])
    given = row.props.get("apiId")
    target = (
        resolve_ref(ctx, given, "apis", "apiId")
        if given
        else ctx.store.get(ctx.service, base.rev_path)
    )
    if target is None or api_base_path(target).lower() != base.base_path.lower():
        raise validation_error("'apiId' must name a revision of this API.", target="apiId")
    make_current(ctx, target)
    row.props["apiId"] = ctx.display_id(api_base_path(target))


def make_current(ctx: Ctx, target: Row) -> None:
    """Make one revision of an API its current revision."""
    if target.props.get("isCurrent"):
        return
    for revision in ctx.store.group(ctx.service, api_base_path(target)):
        if revision.props.get("isCurrent") or revision.key == target.key:
            revision.props["isCurrent"] = revision.key == target.key
            ctx.store.put(ctx.service, revision)
    ctx.forget_apis()


def prepare_tag_description(ctx: Ctx, kind: Kind, row: Row, old: Row | None) -> None:
    tag = ctx.store.get(ctx.service, f"tags/{row.name}")
    if tag is None:
        raise not_found("Tag")
    row.ref = tag.path


SWAGGER_DEFINITIONS = "application/vnd.ms-azure-apim.swagger.definitions+json"


def prepare_schema(ctx: Ctx, kind: Kind, row: Row, old: Row | None) -> None:
    """§6 [SCH20 e8, e9]: swagger definitions sent as text are parsed into
    ``document.definitions`` (so text that has its own ``definitions`` key nests twice);
    other documents keep their ``value`` text exactly as sent."""
    document = row.props.get("document")
    if not isinstance(document, dict):
        raise validation_error("'document' must be an object.", target="document")
    text = document.get("value")
    if row.props.get("contentType") == SWAGGER_DEFINITIONS and isinstance(text, str):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise validation_error(f"'document.value' is not JSON: {exc}", "document") from exc
        row.props["document"] = {"definitions": parsed}


def prepare_global_schema(ctx: Ctx, kind: Kind, row: Row, old: Row | None) -> None:
    _one_of(row.props, "schemaType", ("xml", "json"))
    if row.props.get("value") is None and row.props.get("document") is None:
        raise validation_error("A schema needs 'value' or 'document'.", target="value")


def prepare_user(ctx: Ctx, kind: Kind, row: Row, old: Row | None) -> None:
    props = row.props
    for secret_field in ("password", "confirmation", "appType"):
        props.pop(secret_field, None)
    if old is None:
        require(props, ("email", "firstName", "lastName"))
    _one_of(props, "state", ("active", "blocked", "pending", "deleted"))
    props.setdefault("identities", [{"provider": "Basic", "id": props.get("email")}])


def _scope_exists(ctx: Ctx, path: str) -> bool:
    parts = path.split("/")
    if path.lower() == "apis":
        return True
    if len(parts) == 2 and parts[0].lower() == "apis":
        return ctx.api(parts[1]).exists
    return bool(path) and ctx.store.get(ctx.service, path) is not None


def prepare_subscription(ctx: Ctx, kind: Kind, row: Row, old: Row | None) -> None:
    props = row.props
    scope = str(props.get("scope", ""))
    path = ctx.relative_ref(scope) or ""
    if not _scope_exists(ctx, path):
        raise validation_error(f"The scope '{scope}' was not found.", target="scope")
    row.ref = path if path.lower() != "apis" else ""
    if props.get("ownerId"):
        resolve_ref(ctx, props["ownerId"], "users", "ownerId")
    props.setdefault("state", "submitted" if old is None else "active")
    _one_of(
        props, "state", ("suspended", "active", "expired", "submitted", "rejected", "cancelled")
    )
    previous = old.props if old else {}
    props["_primaryKey"] = props.pop("primaryKey", None) or previous.get("_primaryKey") or new_key()
    secondary = props.pop("secondaryKey", None)
    props["_secondaryKey"] = secondary or previous.get("_secondaryKey") or new_key()


def prepare_issue(ctx: Ctx, kind: Kind, row: Row, old: Row | None) -> None:
    _one_of(row.props, "state", ("proposed", "open", "removed", "resolved", "closed"))
    row.props.setdefault("apiId", ctx.display_id(ctx.api(ctx.params["apiId"]).base_path))


def prepare_tenant_access(ctx: Ctx, kind: Kind, row: Row, old: Row | None) -> None:
    previous = old.props if old else {}
    for key in ("_primaryKey", "_secondaryKey"):
        row.props[key] = previous.get(key) or new_key()
    row.props.pop("primaryKey", None)
    row.props.pop("secondaryKey", None)
    row.props.setdefault("enabled", previous.get("enabled", True))


PREPARE: dict[str, Prepare] = {
    "policy": prepare_policy,
    "apiPolicy": prepare_policy,
    "operationPolicy": prepare_policy,
    "productPolicy": prepare_policy,
    "resolverPolicy": prepare_resolver_policy,
    "policyFragment": prepare_fragment,
    "operation": prepare_operation,
    "namedValue": prepare_named_value,
    "logger": prepare_logger,
    "diagnostic": prepare_diagnostic,
    "apiDiagnostic": prepare_diagnostic,
    "backend": prepare_backend,
    "versionSet": prepare_version_set,
    "product": prepare_product,
    "group": prepare_group,
    "productApiLink": _link("api", "apiId", "apis"),
    "productGroupLink": _link("group", "groupId", "groups"),
    "tagApiLink": _link("api", "apiId", "apis"),
    "tagOperationLink": _link("operation", "operationId", "apis"),
    "tagProductLink": _link("product", "productId", "products"),
    "release": prepare_release,
    "tagDescription": prepare_tag_description,
    "apiSchema": prepare_schema,
    "globalSchema": prepare_global_schema,
    "user": prepare_user,
    "subscription": prepare_subscription,
    "issue": prepare_issue,
    "tenantAccess": prepare_tenant_access,
}


# -- shape hooks (what a reader sees) --------------------------------------------------


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def wanted_policy_format(ctx: Ctx) -> str:
    fmt = ctx.query.get("format", "xml")
    if fmt not in policydocs.INLINE_FORMATS:
        raise validation_error(f"'{fmt}' is not a format policies can be read in.", "format")
    return fmt


def shape_policy(ctx: Ctx, row: Row, props: dict[str, Any]) -> None:
    wanted = wanted_policy_format(ctx)
    props["value"] = policydocs.render(row.props["value"], row.props.get("format", "xml"), wanted)
    props["format"] = wanted  # "xml" also when the request sent no format [POL20 e4]


def shape_fragment(ctx: Ctx, row: Row, props: dict[str, Any]) -> None:
    wanted = wanted_policy_format(ctx)
    props["value"] = policydocs.render(row.props["value"], row.props.get("format", "xml"), wanted)
    props["format"] = wanted
    props["provisioningState"] = "Succeeded"


def shape_api(ctx: Ctx, row: Row, props: dict[str, Any]) -> None:
    """§3.1, §4: ``description: null`` when there is none; a non-current revision has no
    ``isCurrent`` key at all; a GET (not a PUT answer) lists the two empty arrays of
    ``authenticationSettings`` that 2022-08-01 added [GQL23 p@13000]."""
    props.setdefault("description", None)
    if row.props.get("isCurrent"):
        props["isCurrent"] = True
    else:
        props.pop("isCurrent", None)
    settings = props.get("authenticationSettings")
    if ctx.method == "GET" and isinstance(settings, dict):
        settings.setdefault("oAuth2AuthenticationSettings", [])
        settings.setdefault("openidAuthenticationSettings", [])
    props["isOnline"] = True
    props["provisioningState"] = "Succeeded"
    if ctx.query.get("expandApiVersionSet", "").lower() == "true":
        _expand_version_set(ctx, props)


def _expand_version_set(ctx: Ctx, props: dict[str, Any]) -> None:
    path = ctx.relative_ref(str(props.get("apiVersionSetId") or ""))
    version_set = ctx.store.get(ctx.service, path) if path else None
    if version_set is None:
        return
    details = {
        k: version_set.props[k]
        for k in ("description", "versioningScheme", "versionQueryName", "versionHeaderName")
        if k in version_set.props
    }
    props["apiVersionSet"] = {
        "id": ctx.arm_id(version_set.path),
        "name": version_set.props.get("displayName"),
        **details,
    }


def shape_product(ctx: Ctx, row: Row, props: dict[str, Any]) -> None:
    """The groups a create linked (§8.1 [PRD20 e3]); 2022-08-01 PATCH shows ``[]``."""
    if "groups" in row.extra:
        props["groups"] = row.extra["groups"]
    elif ctx.method == "PATCH":
        props["groups"] = []


def shape_resolver(ctx: Ctx, row: Row, props: dict[str, Any]) -> None:
    """§16 [GQL23 p@29000]: a resolver answers ``internalId`` and ``publicId``, not its
    ``displayName``."""
    props.pop("displayName", None)
    props["internalId"] = hashlib.sha256(row.key.encode("utf-8")).hexdigest()[:24]
    props["publicId"] = row.name


def shape_release(ctx: Ctx, row: Row, props: dict[str, Any]) -> None:
    props["createdDateTime"] = row.created
    props["updatedDateTime"] = row.updated


def shape_named_value(ctx: Ctx, row: Row, props: dict[str, Any]) -> None:
    if props.get("secret") or props.get("keyVault"):
        props.pop("value", None)
    props["provisioningState"] = "Succeeded"


def shape_provisioned(ctx: Ctx, row: Row, props: dict[str, Any]) -> None:
    props["provisioningState"] = "Succeeded"


def shape_tag_description(ctx: Ctx, row: Row, props: dict[str, Any]) -> None:
    tag = ctx.store.get(ctx.service, row.ref)
    props["tagId"] = ctx.arm_id(row.ref)
    props["displayName"] = tag.props.get("displayName") if tag else row.name


def shape_user(ctx: Ctx, row: Row, props: dict[str, Any]) -> None:
    props["registrationDate"] = row.created
    props["groups"] = [public(g.props) for g in groups_of_user(ctx, row)]


def groups_of_user(ctx: Ctx, user: Row) -> list[Row]:
    memberships = ctx.store.referencing(ctx.service, user.key, "groupUser")
    groups = [ctx.store.get(ctx.service, m.parent_key) for m in memberships]
    return [g for g in groups if g is not None]


def shape_subscription(ctx: Ctx, row: Row, props: dict[str, Any]) -> None:
    props["createdDate"] = row.created


def shape_dated(ctx: Ctx, row: Row, props: dict[str, Any]) -> None:
    props.setdefault("createdDate", row.created)


def shape_tenant_access(ctx: Ctx, row: Row, props: dict[str, Any]) -> None:
    props["principalId"] = "git" if row.name.lower() == "gitaccess" else "integration"
    props["id"] = row.name


SHAPE: dict[str, Shape] = {
    "policy": shape_policy,
    "apiPolicy": shape_policy,
    "operationPolicy": shape_policy,
    "productPolicy": shape_policy,
    "resolverPolicy": shape_policy,
    "policyFragment": shape_fragment,
    "api": shape_api,
    "resolver": shape_resolver,
    "operation": shape_operation,
    "product": shape_product,
    "release": shape_release,
    "namedValue": shape_named_value,
    "apiSchema": shape_provisioned,
    "globalSchema": shape_provisioned,
    "tagDescription": shape_tag_description,
    "user": shape_user,
    "subscription": shape_subscription,
    "issue": shape_dated,
    "issueComment": shape_dated,
    "tenantAccess": shape_tenant_access,
}


# -- delete guards ---------------------------------------------------------------------


def guard_group(ctx: Ctx, row: Row) -> None:
    if row.props.get("builtIn"):
        raise validation_error("A built-in group cannot be deleted.")


def guard_user(ctx: Ctx, row: Row) -> None:
    if row.name == "1":
        raise validation_error("The administrator account cannot be deleted.")
    for subscription in ctx.store.of_kind(ctx.service, "subscription"):
        owner = ctx.relative_ref(str(subscription.props.get("ownerId") or ""))
        if owner and owner.lower() == row.key:
            ctx.store.delete_tree(ctx.service, subscription.key)


GUARD: dict[str, Guard] = {"group": guard_group, "user": guard_user}


def shape(ctx: Ctx, kind: Kind, row: Row) -> dict[str, Any]:
    """The resource as the API returns it."""
    props = public(row.props)
    hook = SHAPE.get(kind.name)
    if hook is not None:
        hook(ctx, row, props)
    shown = ctx.display_path(row.path)
    return {
        "id": ctx.arm_id(shown),
        "type": kind.arm_type,
        "name": shown.rsplit("/", 1)[-1],
        "properties": props,
    }


def git_token_expiry(value: Any) -> dt.datetime:
    """The expiry a token request asks for; 400 unless a UTC time at most 30 days ahead."""
    if not isinstance(value, str):
        raise validation_error("'expiry' is required.", target="expiry")
    text = value.strip().replace("Z", "+00:00")
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        expiry = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise validation_error(f"'{value}' is not a date and time.", target="expiry") from exc
    if expiry.tzinfo is None:
        expiry = expiry.replace(tzinfo=dt.UTC)
    limit = dt.datetime.now(dt.UTC) + dt.timedelta(days=MAX_GIT_TOKEN_DAYS, minutes=5)
    if expiry > limit:
        raise validation_error(
            f"'expiry' may be at most {MAX_GIT_TOKEN_DAYS} days ahead.", target="expiry"
        )
    return expiry
