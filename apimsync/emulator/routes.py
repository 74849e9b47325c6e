"""The route table: (method, path template under the service) -> spec operation and handler.

Templates use the spec's parameter names, relative to
``/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/
Microsoft.ApiManagement/service/{serviceName}``. Every resource kind contributes its
standard routes; the rest (API revisions, relationship views, actions) are listed here.
Literal segments match case-insensitively; where two templates match a path, the one
with more literal segments wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from apimsync.emulator import actions, apis, catalogviews, tenant_config, views
from apimsync.emulator.catalog import CATALOG_KINDS
from apimsync.emulator.core import Ctx, Reply
from apimsync.emulator.handlers import GENERIC
from apimsync.emulator.kinds import KINDS, Kind

Handler = Callable[[Ctx], Reply]

VERBS = {
    "list": "GET",
    "head": "HEAD",
    "get": "GET",
    "put": "PUT",
    "patch": "PATCH",
    "delete": "DELETE",
}
API_OVERRIDES: dict[str, Handler] = {
    "get": apis.get_api,
    "put": apis.put_api,
    "patch": apis.patch_api,
    "delete": apis.delete_api,
}
VIEW_OPS: dict[str, dict[str, str]] = {
    "productApis": {
        "list": "ProductApi_ListByProduct",
        "head": "ProductApi_CheckEntityExists",
        "put": "ProductApi_CreateOrUpdate",
        "delete": "ProductApi_Delete",
    },
    "productGroups": {
        "list": "ProductGroup_ListByProduct",
        "head": "ProductGroup_CheckEntityExists",
        "put": "ProductGroup_CreateOrUpdate",
        "delete": "ProductGroup_Delete",
    },
    "apiTags": {
        "list": "Tag_ListByApi",
        "head": "Tag_GetEntityStateByApi",
        "get": "Tag_GetByApi",
        "put": "Tag_AssignToApi",
        "delete": "Tag_DetachFromApi",
    },
    "operationTags": {
        "list": "Tag_ListByOperation",
        "head": "Tag_GetEntityStateByOperation",
        "get": "Tag_GetByOperation",
        "put": "Tag_AssignToOperation",
        "delete": "Tag_DetachFromOperation",
    },
    "productTags": {
        "list": "Tag_ListByProduct",
        "head": "Tag_GetEntityStateByProduct",
        "get": "Tag_GetByProduct",
        "put": "Tag_AssignToProduct",
        "delete": "Tag_DetachFromProduct",
    },
    "groupUsers": {
        "list": "GroupUser_List",
        "head": "GroupUser_CheckEntityExists",
        "put": "GroupUser_Create",
        "delete": "GroupUser_Delete",
    },
}
VIEW_HANDLERS = {
    "list": views.list_view,
    "head": views.head_view,
    "get": views.get_view,
    "put": views.put_view,
    "delete": views.delete_view,
}
SPECIAL: tuple[tuple[str, str, str, Handler], ...] = (
    ("GET", "", "ApiManagementService_Get", actions.get_service),
    ("GET", "apis/{apiId}/revisions", "ApiRevision_ListByService", apis.list_revisions),
    ("GET", "apis/{apiId}/products", "ApiProduct_ListByApis", views.list_api_products),
    ("GET", "apis/{apiId}/operationsByTags", "Operation_ListByTags", views.list_operations_by_tags),
    ("GET", "allPolicies", "AllPolicies_ListByService", actions.list_all_policies),
    (
        "GET",
        "tenant/operationResults/{operationId}",
        "OperationResult_Get",
        actions.get_operation_result,
    ),
    ("POST", "tenant/{configurationName}/save", "TenantConfiguration_Save", tenant_config.save),
    (
        "POST",
        "tenant/{configurationName}/deploy",
        "TenantConfiguration_Deploy",
        tenant_config.deploy,
    ),
    (
        "POST",
        "tenant/{configurationName}/validate",
        "TenantConfiguration_Validate",
        tenant_config.validate,
    ),
    (
        "GET",
        "tenant/{configurationName}/syncState",
        "TenantConfiguration_GetSyncState",
        tenant_config.sync_state,
    ),
    (
        "POST",
        "namedValues/{namedValueId}/listValue",
        "NamedValue_ListValue",
        actions.list_named_value,
    ),
    (
        "POST",
        "namedValues/{namedValueId}/refreshSecret",
        "NamedValue_RefreshSecret",
        actions.refresh_named_value,
    ),
    (
        "POST",
        "policyFragments/{id}/listReferences",
        "PolicyFragment_ListReferences",
        actions.list_fragment_references,
    ),
    ("POST", "backends/{backendId}/reconnect", "Backend_Reconnect", actions.reconnect_backend),
    ("POST", "users/{userId}/token", "User_GetSharedAccessToken", actions.user_token),
    ("POST", "users/{userId}/generateSsoUrl", "User_GenerateSsoUrl", actions.user_sso_url),
    ("GET", "users/{userId}/identities", "UserIdentities_List", actions.user_identities),
    (
        "POST",
        "users/{userId}/confirmations/password/send",
        "UserConfirmationPassword_Send",
        actions.user_password_send,
    ),
    ("GET", "users/{userId}/groups", "UserGroup_List", views.list_user_groups),
    ("GET", "users/{userId}/subscriptions", "UserSubscription_List", views.list_user_subscriptions),
    (
        "GET",
        "users/{userId}/subscriptions/{sid}",
        "UserSubscription_Get",
        views.get_user_subscription,
    ),
    (
        "GET",
        "products/{productId}/subscriptions",
        "ProductSubscriptions_List",
        views.list_product_subscriptions,
    ),
    ("POST", "tenant/{accessName}/listSecrets", "TenantAccess_ListSecrets", actions.tenant_secrets),
    (
        "POST",
        "tenant/{accessName}/regeneratePrimaryKey",
        "TenantAccess_RegeneratePrimaryKey",
        actions.tenant_regenerate("primary"),
    ),
    (
        "POST",
        "tenant/{accessName}/regenerateSecondaryKey",
        "TenantAccess_RegenerateSecondaryKey",
        actions.tenant_regenerate("secondary"),
    ),
    (
        "POST",
        "tenant/{accessName}/git/regeneratePrimaryKey",
        "TenantAccessGit_RegeneratePrimaryKey",
        actions.tenant_regenerate("primary"),
    ),
    (
        "POST",
        "tenant/{accessName}/git/regenerateSecondaryKey",
        "TenantAccessGit_RegenerateSecondaryKey",
        actions.tenant_regenerate("secondary"),
    ),
    (
        "POST",
        "subscriptions/{sid}/listSecrets",
        "Subscription_ListSecrets",
        actions.subscription_secrets,
    ),
    (
        "POST",
        "subscriptions/{sid}/regeneratePrimaryKey",
        "Subscription_RegeneratePrimaryKey",
        actions.subscription_regenerate("primary"),
    ),
    (
        "POST",
        "subscriptions/{sid}/regenerateSecondaryKey",
        "Subscription_RegenerateSecondaryKey",
        actions.subscription_regenerate("secondary"),
    ),
)


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    operation_id: str
    handler: Handler

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.template.split("/")) if self.template else ()

    @property
    def literals(self) -> int:
        return sum(1 for s in self.segments if not s.startswith("{"))

    def match(self, parts: list[str]) -> dict[str, str] | None:
        segments = self.segments
        if len(segments) != len(parts):
            return None
        params: dict[str, str] = {}
        for segment, part in zip(segments, parts, strict=True):
            if segment.startswith("{"):
                if not part:
                    return None
                params[segment[1:-1]] = part
            elif segment.lower() != part.lower():
                return None
        return params


def _generic(operation: Callable[[Ctx, Kind], Reply], kind: Kind, ctx: Ctx) -> Reply:
    return operation(ctx, kind)


def _kind_routes(kind: Kind) -> list[Route]:
    routes = []
    for op, operation_id in kind.ops.items():
        template = kind.collection if op == "list" else kind.template
        handler: Handler = partial(_generic, GENERIC[op], kind)
        if kind.name == "api" and op in API_OVERRIDES:
            handler = API_OVERRIDES[op]
        routes.append(Route(VERBS[op], template, operation_id, handler))
    return routes


def _viewed(
    operation: Callable[[Ctx, views.LinkView], Reply], view: views.LinkView, ctx: Ctx
) -> Reply:
    return operation(ctx, view)


def _view_routes() -> list[Route]:
    routes = []
    for view in views.VIEWS:
        for op, operation_id in VIEW_OPS[view.name].items():
            template = view.collection if op == "list" else view.template
            handler: Handler = partial(_viewed, VIEW_HANDLERS[op], view)
            routes.append(Route(VERBS[op], template, operation_id, handler))
    return routes


def build_routes() -> tuple[Route, ...]:
    routes = [Route(m, t, o, h) for m, t, o, h in (*SPECIAL, *catalogviews.SPECIAL)]
    for kind in (*KINDS.values(), *CATALOG_KINDS):
        routes.extend(_kind_routes(kind))
    routes.extend(_view_routes())
    return tuple(sorted(routes, key=lambda r: -r.literals))


ROUTES = build_routes()


def _index(routes: tuple[Route, ...]) -> dict[tuple[int, str], tuple[Route, ...]]:
    """Routes by segment count and first segment (every template starts with a literal),
    keeping their order: a request is matched against a handful, not all of them."""
    index: dict[tuple[int, str], list[Route]] = {}
    for route in routes:
        segments = route.segments
        index.setdefault((len(segments), segments[0].lower() if segments else ""), []).append(route)
    return {key: tuple(found) for key, found in index.items()}


ROUTE_INDEX = _index(ROUTES)


def find_route(method: str, parts: list[str]) -> tuple[Route, dict[str, str]] | str | None:
    """The route for ``method`` and path ``parts``; "method" when only the method is wrong."""
    path_matched = False
    candidates = ROUTE_INDEX.get((len(parts), parts[0].lower() if parts else ""), ())
    for route in candidates:
        params = route.match(parts)
        if params is None:
            continue
        if route.method == method:
            return route, params
        path_matched = True
    return "method" if path_matched else None
