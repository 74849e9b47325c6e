"""A plan as text for terminals, as JSON for machines and as Markdown for pull requests.

Every renderer masks secrets through :mod:`apimsync.plan.secrets`.

The JSON document (``render_json``), format version "1"::

    {
      "format_version": "1",
      "changes": [                       # in apply order
        {
          "action": "create" | "update" | "delete",
          "type": "backend",             # the kind's label (apimsync.model.Kind)
          "id": "/backends/openaione",   # service-relative ARM id
          "display_name": "..." | null,  # when it says more than the id
          "attributes": {"url": ...},    # a create's key attributes (masked; else {}):
                                         # an operation's method and urlTemplate...
          "changed_paths": ["/url"],     # JSON pointers into before/after; for a create
                                         # or delete, every top-level property
          "before": {...} | null,        # live properties, normalized; null for a create
          "after": {...} | null,         # desired properties, normalized; null for a delete
          "cascade": ["/apis/x/operations/y", ...]   # deleted along with it (deletes only)
        }
      ],
      "unmanaged": ["/apis/legacy", ...],   # live only, not deleted (no --prune)
      "summary": {"add": 1, "change": 2, "destroy": 0},
      "partial": {"since": "REF", "commit": "<sha>"}   # only in a partial plan
    }

"Normalized" is the compared form (:func:`apimsync.plan.normalize.normalize`): no
read-only properties, server defaults filled in, policies in canonical form. Sensitive
values read ``"(sensitive)"``.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from apimsync.jsonvalue import thaw
from apimsync.model import Kind, Resource
from apimsync.plan.changes import MISSING, Action, Change, FieldChange, Plan
from apimsync.plan.normalize import normalize
from apimsync.plan.order import stage_of
from apimsync.plan.secrets import SENSITIVE, is_secret, mask_value

FORMAT_VERSION = "1"
POLICY_KINDS = frozenset({Kind.POLICY, Kind.POLICY_FRAGMENT})
NO_CHANGES = "No changes. The instance matches the configuration."

_SYMBOLS = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-"}

KEY_ATTRIBUTES: dict[Kind, tuple[str, ...]] = {
    Kind.API: ("path", "serviceUrl", "protocols", "apiVersion"),
    Kind.OPERATION: ("method", "urlTemplate"),
    Kind.API_SCHEMA: ("contentType",),
    Kind.API_RELEASE: ("apiId", "notes"),
    Kind.API_VERSION_SET: ("versioningScheme",),
    Kind.BACKEND: ("url", "protocol"),
    Kind.PRODUCT: ("state",),
    Kind.PRODUCT_API_LINK: ("apiId",),
    Kind.PRODUCT_GROUP_LINK: ("groupId",),
    Kind.TAG_API_LINK: ("apiId",),
    Kind.TAG_OPERATION_LINK: ("operationId",),
    Kind.TAG_PRODUCT_LINK: ("productId",),
    Kind.NAMED_VALUE: ("secret", "keyVault", "value"),
    Kind.POLICY_FRAGMENT: ("description",),
    Kind.LOGGER: ("loggerType",),
    Kind.DIAGNOSTIC: ("loggerId",),
}
"""What a created resource shows besides its id and display name, like the attributes
``terraform plan`` lists: an operation's method and URL template, a backend's
URL, whether a named value is secret or in Key Vault..."""
_COLOURS = {"+": "32", "~": "33", "-": "31", "@": "36", "bold": "1", "dim": "2"}


# -- shared ----------------------------------------------------------------------------


def summary_line(plan: Plan) -> str:
    if plan.is_empty:
        return NO_CHANGES
    counts = plan.summary()
    return (
        f"Plan: {counts['add']} to add, {counts['change']} to change, "
        f"{counts['destroy']} to destroy."
    )


def partial_note(plan: Plan) -> str | None:
    """What a partial plan did not look at; None for a full plan."""
    if plan.partial is None:
        return None
    since, commit = plan.partial.since, plan.partial.commit
    named = since if commit.startswith(since) else f"{since} ({commit[:12]})"
    return (
        f"Partial plan: only the resources the files changed since {named} were read and "
        "planned; changes made on the instance to anything else (drift) are not seen."
    )


def _secret(change: Change) -> bool:
    return is_secret(change.before) or is_secret(change.after)


def masked_field(change: Change, field: FieldChange) -> tuple[Any, Any]:
    """A field's before and after values, masked, as plain JSON (or MISSING)."""
    secret = _secret(change)

    def mask(value: Any) -> Any:
        if value is MISSING:
            return MISSING
        return mask_value(change.kind, field.path, thaw(value), secret=secret)

    return mask(field.before), mask(field.after)


def _masked_normalized(change: Change, side: str) -> dict[str, Any] | None:
    resource = change.before if side == "before" else change.after
    if resource is None:
        return None
    masked: dict[str, Any] = mask_value(
        change.kind, "", thaw(normalize(resource)), secret=_secret(change)
    )
    return masked


def _is_policy_text(change: Change, field: FieldChange) -> bool:
    return change.kind in POLICY_KINDS and field.path == "/value"


def policy_diff(change: Change, field: FieldChange) -> list[str]:
    """The unified diff of a policy document, live -> desired, in the texts themselves: the
    lines the user wrote and the lines the service sent. (Whether the policy changed at
    all was decided on the canonical forms, ``field``, which stand in for a missing text.)"""
    before = _document(change.before, field.before)
    after = _document(change.after, field.after)
    return list(
        difflib.unified_diff(
            before.splitlines(), after.splitlines(), "live", "desired", lineterm="", n=3
        )
    )


def _document(resource: Resource | None, canonical: Any) -> str:
    value = resource.properties.get("value") if resource is not None else None
    if isinstance(value, str):
        return value
    return canonical if isinstance(canonical, str) else ""


def display_name(change: Change) -> str | None:
    """The resource's display name, when it says more than its id."""
    name = change.resource.properties.get("displayName")
    if not isinstance(name, str) or not name or name.casefold() == change.resource.name.casefold():
        return None
    return name


def key_attributes(change: Change) -> dict[str, Any]:
    """The :data:`KEY_ATTRIBUTES` of a created resource, masked."""
    if change.action is not Action.CREATE:
        return {}
    properties = change.resource.properties
    return {
        key: mask_value(change.kind, f"/{key}", thaw(properties[key]), secret=_secret(change))
        for key in KEY_ATTRIBUTES.get(change.kind, ())
        if properties.get(key) not in (None, "", [], {})
    }


def _policy_size(change: Change) -> str | None:
    """ "(12 lines)" for a created or deleted policy or fragment."""
    if change.action is Action.UPDATE or change.kind not in POLICY_KINDS:
        return None
    document = _document(change.resource, None)
    count = len(document.splitlines())
    return f"({count} line{'' if count == 1 else 's'})" if document else None


def _show(value: Any) -> str:
    if value is MISSING:
        return "(absent)"
    if value == SENSITIVE:
        return SENSITIVE
    return json.dumps(value, ensure_ascii=False)


def _sections(plan: Plan) -> list[tuple[Kind, list[Change]]]:
    """The changes grouped by kind, kinds in apply order."""
    groups: dict[Kind, list[Change]] = {}
    for change in plan.changes:
        groups.setdefault(change.kind, []).append(change)
    return sorted(groups.items(), key=lambda item: stage_of(item[1][0].resource_id))


# -- text ------------------------------------------------------------------------------


def render_text(plan: Plan, *, color: bool, part: bool = False) -> str:
    """Terraform-like text: one line per resource, changed fields and policy diffs, then
    the summary line (``part``: a plan shown as part of another, without the heading and
    the summary line)."""
    paint = _painter(color)
    note = partial_note(plan)
    lines: list[str] = [paint("dim", note), ""] if note else []
    if not plan.is_empty:
        if not part:
            lines += ["apimsync will perform the following actions:", ""]
        for kind, changes in _sections(plan):
            lines.append(paint("bold", kind.label))
            for change in changes:
                lines.extend(_text_change(change, paint))
            lines.append("")
    if plan.unmanaged:
        lines.extend(_text_unmanaged(plan, paint))
    if not part:
        lines.append(paint("bold", summary_line(plan)))
    return "\n".join(lines).rstrip("\n") + "\n"


Painter = Callable[[str, str], str]


def _painter(color: bool) -> Painter:
    def paint(style: str, text: str) -> str:
        code = _COLOURS.get(style)
        return f"\x1b[{code}m{text}\x1b[0m" if color and code else text

    return paint


def _text_change(change: Change, paint: Painter) -> Iterator[str]:
    symbol = _SYMBOLS[change.action]
    title = [part for part in (_quoted(display_name(change)), _policy_size(change)) if part]
    yield " ".join([f"  {paint(symbol, symbol)} {change.resource_id}", *title])
    for key, value in key_attributes(change).items():
        yield f"      {key}: {_show(value)}"
    if change.action is Action.UPDATE:
        for field in change.fields:
            if _is_policy_text(change, field):
                yield from (_text_diff_line(line, paint) for line in policy_diff(change, field))
            else:
                before, after = masked_field(change, field)
                yield f"      {field.path or '(all)'}: {_show(before)} → {_show(after)}"
    for child in change.cascade:
        yield paint("dim", f"      - {child}")


def _quoted(text: str | None) -> str | None:
    return None if text is None else json.dumps(text, ensure_ascii=False)


def _text_diff_line(line: str, paint: Painter) -> str:
    style = line[:1] if line[:1] in "+-@" and not line.startswith(("+++", "---")) else "dim"
    return "      " + paint(style, line)


def _text_unmanaged(plan: Plan, paint: Painter) -> list[str]:
    heading = (
        f"Unmanaged: {len(plan.unmanaged)} live resource(s) not in the configuration "
        "(run with --prune to delete them):"
    )
    return [paint("bold", heading), *(f"  {resource_id}" for resource_id in plan.unmanaged), ""]


# -- JSON ------------------------------------------------------------------------------


def render_json(plan: Plan) -> str:
    """The versioned JSON document described in this module's docstring."""
    document = {
        "format_version": FORMAT_VERSION,
        "changes": [_json_change(change) for change in plan.changes],
        "unmanaged": list(plan.unmanaged),
        "summary": plan.summary(),
    }
    if plan.partial is not None:
        document["partial"] = {"since": plan.partial.since, "commit": plan.partial.commit}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _json_change(change: Change) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "action": change.action.value,
        "type": change.kind.label,
        "id": change.resource_id,
        "display_name": display_name(change),
        "attributes": key_attributes(change),
        "changed_paths": [field.path for field in change.fields],
        "before": _masked_normalized(change, "before"),
        "after": _masked_normalized(change, "after"),
    }
    if change.action is Action.DELETE:
        entry["cascade"] = list(change.cascade)
    return entry


# -- Markdown --------------------------------------------------------------------------


def render_markdown(plan: Plan) -> str:
    """A pull-request comment: summary, a table of changes, policy diffs folded away."""
    note = partial_note(plan)
    lines = [f"**{summary_line(plan)}**", "", *([f"_{note}_", ""] if note else [])]
    if not plan.is_empty:
        lines += ["| action | type | id | details |", "|---|---|---|---|"]
        lines += [_markdown_row(change) for change in plan.changes]
        lines.append("")
        for change in plan.changes:
            lines.extend(_markdown_policy_diffs(change))
    if plan.unmanaged:
        lines += _markdown_unmanaged(plan)
    return "\n".join(lines).rstrip("\n") + "\n"


def _markdown_row(change: Change) -> str:
    if change.action is Action.UPDATE:
        details = [_code(field.path or "(all)") for field in change.fields]
    else:
        details = [
            f"{key}: {_code(_plain(value))}" for key, value in key_attributes(change).items()
        ]
        details += [size for size in [_policy_size(change)] if size]
    if change.cascade:
        details.append(f"with {len(change.cascade)} resource(s) it holds")
    name = display_name(change)
    shown_id = _code(change.resource_id) + (f" {_markdown_text(name)}" if name else "")
    cells = [change.action.value, change.kind.label, shown_id, ", ".join(details)]
    return "| " + " | ".join(cells) + " |"


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _markdown_text(text: str) -> str:
    """Plain text for a table cell: no markup, no cell breaks."""
    return _html(text).replace("|", "\\|").replace("\n", " ")


def _markdown_policy_diffs(change: Change) -> list[str]:
    lines: list[str] = []
    for field in change.fields:
        if change.action is Action.UPDATE and _is_policy_text(change, field):
            diff = "\n".join(policy_diff(change, field))
            fence = "`" * max(3, _longest_backtick_run(diff) + 1)
            lines += [
                f"<details><summary>{change.kind.label} diff: "
                f"<code>{_html(change.resource_id)}</code></summary>",
                "",
                f"{fence}diff",
                diff,
                fence,
                "",
                "</details>",
                "",
            ]
    return lines


def _markdown_unmanaged(plan: Plan) -> list[str]:
    return [
        f"<details><summary>{len(plan.unmanaged)} unmanaged resource(s): live, not in the "
        "configuration (<code>--prune</code> deletes them)</summary>",
        "",
        *(f"- {_code(resource_id)}" for resource_id in plan.unmanaged),
        "",
        "</details>",
        "",
    ]


def _code(text: str) -> str:
    return "`" + text.replace("|", "\\|") + "`"


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)
