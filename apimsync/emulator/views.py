"""Relationship views: the older ``products/{id}/apis/{apiId}`` style of links and lists.

Links are stored once, as link resources (``products/{p}/apiLinks/{l}``,
``tags/{t}/apiLinks/{l}``, ``groups/{g}/users/{u}`` ...) whose ``ref`` names the linked
resource. A :class:`LinkView` reads and writes the same links through the older paths,
answering with the linked resource itself, so both styles always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apimsync.emulator.core import Ctx, Reply, not_found
from apimsync.emulator.handlers import fill, page, require_owner
from apimsync.emulator.kinds import KINDS, T
from apimsync.emulator.odata import rules
from apimsync.emulator.resources import api_base_path, shape
from apimsync.emulator.store import Row

TITLES = {k.collection.lower(): k.title for k in KINDS.values() if "/" not in k.collection}


@dataclass(frozen=True)
class LinkView:
    """``{owner}/{segment}/{targetId}``: the targets linked to an owner."""

    name: str
    owner: str
    target: str
    link_kind: str
    links_under: str
    link_field: str
    shown_type: str
    filters: str
    head_status: int = 204

    @property
    def template(self) -> str:
        return f"{self.owner}/{self.target.split('/')[0]}/{self.target.split('/')[1]}"

    @property
    def collection(self) -> str:
        return f"{self.owner}/{self.target.split('/')[0]}"


VIEWS: tuple[LinkView, ...] = (
    LinkView(
        "productApis",
        "products/{productId}",
        "apis/{apiId}",
        "productApiLink",
        "owner",
        "apiId",
        f"{T}/products/apis",
        "name displayName description serviceUrl path",
    ),
    LinkView(
        "productGroups",
        "products/{productId}",
        "groups/{groupId}",
        "productGroupLink",
        "owner",
        "groupId",
        f"{T}/products/groups",
        "name:cmp displayName:eqne description:eqne",
    ),
    LinkView(
        "apiTags",
        "apis/{apiId}",
        "tags/{tagId}",
        "tagApiLink",
        "target",
        "apiId",
        f"{T}/apis/tags",
        "displayName name",
        head_status=200,
    ),
    LinkView(
        "operationTags",
        "apis/{apiId}/operations/{operationId}",
        "tags/{tagId}",
        "tagOperationLink",
        "target",
        "operationId",
        f"{T}/apis/operations/tags",
        "displayName name",
        head_status=200,
    ),
    LinkView(
        "productTags",
        "products/{productId}",
        "tags/{tagId}",
        "tagProductLink",
        "target",
        "productId",
        f"{T}/products/tags",
        "displayName name",
        head_status=200,
    ),
    LinkView(
        "groupUsers",
        "groups/{groupId}",
        "users/{userId}",
        "groupUser",
        "owner",
        "",
        f"{T}/groups/users",
        "name firstName lastName email registrationDate:cmp note",
    ),
)
VIEW_BY_NAME = {v.name: v for v in VIEWS}


def _ref_path(row: Row) -> str:
    return api_base_path(row) if row.kind == "api" else row.path


def _resolve(ctx: Ctx, template: str) -> Row:
    path = fill(ctx, template)
    row = ctx.store.get(ctx.service, path)
    if row is None:
        raise not_found(TITLES.get(template.split("/")[-2].lower(), "Resource"))
    return row


def _owner(ctx: Ctx, view: LinkView) -> Row:
    return _resolve(ctx, view.owner)


def _links(ctx: Ctx, view: LinkView, owner: Row, target: Row | None) -> list[Row]:
    """Link rows between ``owner`` and ``target`` (every target when None)."""
    if view.links_under == "owner":
        rows = ctx.store.children(ctx.service, owner.key, view.link_kind)
        if target is None:
            return rows
        return [r for r in rows if r.ref == _ref_path(target).lower()]
    if target is None:
        return ctx.store.referencing(ctx.service, _ref_path(owner), view.link_kind)
    rows = ctx.store.children(ctx.service, target.key, view.link_kind)
    return [r for r in rows if r.ref == _ref_path(owner).lower()]


def _target_of(ctx: Ctx, view: LinkView, link: Row) -> Row | None:
    if view.links_under == "target":
        return ctx.store.get(ctx.service, link.parent_key)
    if view.target.startswith("apis/"):
        api = ctx.api(link.ref.split("/", 1)[1])
        return ctx.store.get(ctx.service, api.rev_path) if api.exists else None
    return ctx.store.get(ctx.service, link.ref)


def _shown(ctx: Ctx, view: LinkView, owner: Row, target: Row) -> dict[str, Any]:
    """The linked entity under the link's nested id (``.../products/p/groups/guests``,
    §8.2 [PRDG e3], §9 [TAG19 e5])."""
    body = shape(ctx, KINDS[target.kind], target)
    body["type"] = view.shown_type
    name = _ref_path(target).rsplit("/", 1)[-1]
    segment = view.target.split("/")[0]
    body["id"] = ctx.arm_id(f"{ctx.display_path(_ref_path(owner))}/{segment}/{name}")
    return body


def list_view(ctx: Ctx, view: LinkView) -> Reply:
    owner = _owner(ctx, view)
    targets = [_target_of(ctx, view, link) for link in _links(ctx, view, owner, None)]
    items = [_shown(ctx, view, owner, t) for t in targets if t is not None]
    items.sort(key=lambda item: str(item["name"]).lower())
    return page(ctx, items, rules(view.filters))


def _pair(ctx: Ctx, view: LinkView) -> tuple[Row, Row]:
    return _owner(ctx, view), _resolve(ctx, view.target)


def head_view(ctx: Ctx, view: LinkView) -> Reply:
    owner, target = _pair(ctx, view)
    links = _links(ctx, view, owner, target)
    if not links:
        raise not_found(KINDS[target.kind].title)
    return Reply(view.head_status, None, {"ETag": target.etag})


def get_view(ctx: Ctx, view: LinkView) -> Reply:
    owner, target = _pair(ctx, view)
    links = _links(ctx, view, owner, target)
    if not links:
        raise not_found(KINDS[target.kind].title)
    return Reply(200, _shown(ctx, view, owner, target), {"ETag": target.etag})


def _link_path(ctx: Ctx, view: LinkView, owner: Row, target: Row) -> str:
    collection = KINDS[view.link_kind].collection.rsplit("/", 1)[-1]
    if view.links_under == "owner":
        return f"{owner.path}/{collection}/{_ref_path(target).rsplit('/', 1)[-1]}"
    name = _ref_path(owner).rsplit("/", 1)[-1]
    path = f"{target.path}/{collection}/{name}"
    suffix = 1
    while ctx.store.get(ctx.service, path) is not None:
        suffix += 1
        path = f"{target.path}/{collection}/{name}-{suffix}"
    return path


def put_view(ctx: Ctx, view: LinkView) -> Reply:
    with ctx.store.transaction():
        owner, target = _pair(ctx, view)
        existing = _links(ctx, view, owner, target)
        if not existing:
            linked = target if view.links_under == "owner" else owner
            props = {view.link_field: ctx.display_id(_ref_path(linked))} if view.link_field else {}
            link = Row(view.link_kind, _link_path(ctx, view, owner, target), props)
            link.ref = _ref_path(linked)
            ctx.store.put(ctx.service, link)
    shown = _shown(ctx, view, owner, target)
    if view.name == "productApis":  # the link answer's projection (§3.2 [PRDA e8])
        shown["properties"].update(
            protocols=None, authenticationSettings=None, subscriptionKeyParameterNames=None
        )
    # the linked entity's ETag (§8.2 [PRDG e8], §8.3 [PRDA e8], §9 [TAG19 e5])
    return Reply(200 if existing else 201, shown, {"ETag": target.etag})


def delete_view(ctx: Ctx, view: LinkView) -> Reply:
    with ctx.store.transaction():
        owner = _owner(ctx, view)
        target_path = fill(ctx, view.target)
        target = ctx.store.get(ctx.service, target_path)
        links = _links(ctx, view, owner, target) if target is not None else []
        for link in links:
            ctx.store.delete_tree(ctx.service, link.key)
    return Reply(200 if links else 204)


# -- reverse lists ---------------------------------------------------------------------


def list_api_products(ctx: Ctx) -> Reply:
    require_owner(ctx, fill(ctx, "apis/{apiId}", api_level=True))
    base = fill(ctx, "apis/{apiId}", api_level=True)
    links = ctx.store.referencing(ctx.service, base, "productApiLink")
    products = {link.parent_key: ctx.store.get(ctx.service, link.parent_key) for link in links}
    items = [_typed(ctx, p, f"{T}/apis/products") for p in products.values() if p is not None]
    return page(ctx, items, rules("displayName"))


def list_user_groups(ctx: Ctx) -> Reply:
    user = _resolve(ctx, "users/{userId}")
    memberships = ctx.store.referencing(ctx.service, user.key, "groupUser")
    groups = [ctx.store.get(ctx.service, m.parent_key) for m in memberships]
    items = [_typed(ctx, g, f"{T}/users/groups", True) for g in groups if g is not None]
    return page(ctx, items, rules("name displayName description"))


def _typed(ctx: Ctx, row: Row, arm_type: str, nested: bool = False) -> dict[str, Any]:
    body = shape(ctx, KINDS[row.kind], row)
    body["type"] = arm_type
    if nested:
        body["id"] = ctx.arm_id(f"{ctx.rel_path}/{row.name}")
    return body


def _subscriptions(ctx: Ctx, owner_field: str, owner: Row) -> list[dict[str, Any]]:
    kind = KINDS["subscription"]
    out = []
    for row in ctx.store.of_kind(ctx.service, "subscription"):
        ref = ctx.relative_ref(str(row.props.get(owner_field) or ""))
        if ref is not None and ref.lower() == owner.key:
            out.append(shape(ctx, kind, row))
    return out


SUBSCRIPTION_FILTERS = "name displayName stateComment ownerId scope userId productId"


def list_product_subscriptions(ctx: Ctx) -> Reply:
    product = _resolve(ctx, "products/{productId}")
    items = _subscriptions(ctx, "scope", product)
    return page(ctx, items, rules(SUBSCRIPTION_FILTERS + " state:eq"))


def list_user_subscriptions(ctx: Ctx) -> Reply:
    user = _resolve(ctx, "users/{userId}")
    return page(ctx, _subscriptions(ctx, "ownerId", user), rules(SUBSCRIPTION_FILTERS))


def get_user_subscription(ctx: Ctx) -> Reply:
    user = _resolve(ctx, "users/{userId}")
    row = _resolve(ctx, "subscriptions/{sid}")
    owner = ctx.relative_ref(str(row.props.get("ownerId") or ""))
    if owner is None or owner.lower() != user.key:
        raise not_found("Subscription")
    body = shape(ctx, KINDS["subscription"], row)
    return Reply(200, body, {"ETag": row.etag})


def list_operations_by_tags(ctx: Ctx) -> Reply:
    api_path = fill(ctx, "apis/{apiId}")
    api = ctx.store.get(ctx.service, api_path)
    if api is None:
        raise not_found("Api")
    items: list[dict[str, Any]] = []
    for operation in ctx.store.children(ctx.service, api.key, "operation"):
        for link in ctx.store.referencing(ctx.service, operation.key, "tagOperationLink"):
            tag = ctx.store.get(ctx.service, link.parent_key)
            if tag is not None:
                items.append(_tag_resource(ctx, api, operation, tag))
    record_fields = "name displayName apiName description method urlTemplate"
    return page(ctx, items, rules(record_fields), record=lambda i: i["operation"])


def _compact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items() if v is not None}
    return value


def _tag_resource(ctx: Ctx, api: Row, operation: Row, tag: Row) -> dict[str, Any]:
    shown_api = ctx.display_path(api.path)
    resource: dict[str, Any] = {
        "tag": {"id": f"/{tag.path}", "name": tag.props.get("displayName")},
        "operation": {
            "id": f"/{ctx.display_path(operation.path)}",
            "name": operation.props.get("displayName"),
            "apiName": api.props.get("displayName"),
            "apiRevision": api.props.get("apiRevision"),
            "apiVersion": api.props.get("apiVersion"),
            "description": operation.props.get("description"),
            "method": operation.props.get("method"),
            "urlTemplate": operation.props.get("urlTemplate"),
        },
        "api": {"id": f"/{shown_api}", "name": api.props.get("displayName")},
    }
    return dict(_compact(resource))
