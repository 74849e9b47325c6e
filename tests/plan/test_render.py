"""Text, JSON and Markdown renderings of a plan; secrets never show in any of them."""

from __future__ import annotations

import json
import re

import pytest

from apimsync.model import Configuration, make_resource
from apimsync.plan import Plan, compute_plan
from apimsync.plan.render import NO_CHANGES, render_json, render_markdown, render_text
from apimsync.plan.secrets import SENSITIVE
from tests.plan.conftest import SECRETS, load, resource, secret_scenario

POLICY_ID = "/apis/open-ai/operations/chat-completions-round-robin/policies/policy"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _mixed_plan(*, prune: bool = True) -> Plan:
    """One create, two updates (a backend URL and a policy) and a delete with cascade."""
    desired = load("example")
    policy = resource("example", POLICY_ID)
    live = desired.with_resources(
        resource("example", "/backends/openaione").with_properties(url="https://old.example"),
        policy.with_properties(value=policy.xml.replace('template="/', 'template="/old/')),
        make_resource("/apis/legacy", {"displayName": "Legacy", "path": "legacy"}),
    ).with_resources(
        make_resource("/apis/legacy/operations/get", {"displayName": "g", "method": "GET"}),
    )
    desired = desired.with_resources(make_resource("/tags/new", {"displayName": "New"}))
    return compute_plan(desired, live, prune=prune)


# -- text --------------------------------------------------------------------------------


def test_text_shows_one_line_per_resource_grouped_by_kind() -> None:
    text = render_text(_mixed_plan(), color=False)

    assert "  + /tags/new\n" in text
    assert "  ~ /backends/openaione\n" in text
    new_url = "https://openaione.openai.azure.com/openai"
    assert f'      /url: "https://old.example" → "{new_url}"' in text
    assert "  - /apis/legacy\n      - /apis/legacy/operations/get\n" in text
    assert "\nbackend\n" in text and "\ntag\n" in text
    assert text.index("\nbackend\n") < text.index("\ntag\n")
    assert text.endswith("Plan: 1 to add, 2 to change, 1 to destroy.\n")
    assert "\x1b[" not in text


def test_text_shows_a_policy_change_as_a_unified_diff_of_the_documents_own_lines() -> None:
    text = render_text(_mixed_plan(), color=False)

    assert "  ~ " + POLICY_ID + "\n      --- live\n      +++ desired\n      @@ " in text
    assert '\n      -\t\t<rewrite-uri template="/old/deployments/' in text  # the file's tabs
    assert '\n      +\t\t<rewrite-uri template="/deployments/' in text


def test_text_colours_only_when_asked() -> None:
    plain = render_text(_mixed_plan(), color=False)
    coloured = render_text(_mixed_plan(), color=True)

    assert "\x1b[32m+\x1b[0m /tags/new" in coloured and "\x1b[31m-\x1b[0m /apis/legacy" in coloured
    assert ANSI.sub("", coloured) == plain


def test_text_lists_unmanaged_resources_with_the_prune_hint() -> None:
    text = render_text(_mixed_plan(prune=False), color=False)

    assert "--prune" in text
    assert "\n  /apis/legacy\n  /apis/legacy/operations/get\n" in text
    assert text.endswith("Plan: 1 to add, 2 to change, 0 to destroy.\n")


def test_an_empty_plan_says_so() -> None:
    plan = compute_plan(load("example"), load("example"))

    assert render_text(plan, color=False) == NO_CHANGES + "\n"
    assert NO_CHANGES in render_markdown(plan)


# -- JSON --------------------------------------------------------------------------------


def test_json_has_the_documented_shape() -> None:
    plan = _mixed_plan()

    document = json.loads(render_json(plan))

    assert set(document) == {"format_version", "changes", "unmanaged", "summary"}
    assert document["format_version"] == "1"
    assert document["summary"] == {"add": 1, "change": 2, "destroy": 1}
    assert document["unmanaged"] == []
    assert [c["id"] for c in document["changes"]] == [c.resource_id for c in plan.changes]
    by_id = {c["id"]: c for c in document["changes"]}
    for entry in document["changes"]:
        assert {"action", "type", "id", "changed_paths", "before", "after"} <= set(entry)
    backend = by_id["/backends/openaione"]
    assert backend["action"] == "update" and backend["type"] == "backend"
    assert backend["changed_paths"] == ["/url"]
    assert backend["before"]["url"] == "https://old.example"
    assert by_id["/tags/new"]["before"] is None and by_id["/tags/new"]["after"]
    deleted = by_id["/apis/legacy"]
    assert deleted["after"] is None and deleted["cascade"] == ["/apis/legacy/operations/get"]


# -- Markdown ----------------------------------------------------------------------------


def test_markdown_has_a_summary_a_table_and_folded_policy_diffs() -> None:
    markdown = render_markdown(_mixed_plan(prune=False))

    assert markdown.startswith("**Plan: 1 to add, 2 to change, 0 to destroy.**\n")
    assert "| action | type | id | details |\n|---|---|---|---|\n" in markdown
    assert "| update | backend | `/backends/openaione` | `/url` |" in markdown
    assert "| create | tag | `/tags/new` |  |" in markdown
    assert f"<details><summary>policy diff: <code>{POLICY_ID}</code></summary>" in markdown
    diff = markdown.split("```diff\n", 1)[1].split("\n```", 1)[0]
    assert "--- live" in diff and '+\t\t<rewrite-uri template="/deployments/' in diff
    assert markdown.count("<details>") == markdown.count("</details>") == 2
    assert "- `/apis/legacy`" in markdown


# -- secrets -----------------------------------------------------------------------------


@pytest.mark.parametrize("prune", [False, True])
def test_no_secret_appears_in_any_rendering(prune: bool) -> None:
    desired, live = secret_scenario()
    plan = compute_plan(desired, live, prune=prune)
    assert plan.summary()["change"] >= 3

    outputs = [
        render_text(plan, color=False),
        render_text(plan, color=True),
        render_json(plan),
        render_markdown(plan),
    ]

    for output in outputs:
        for secret in SECRETS:
            assert secret not in output
    text = outputs[0]
    assert f"/value: {SENSITIVE} → (absent)" in text  # the named value that became secret
    assert f"/credentials/header/api-key/0: {SENSITIVE} → {SENSITIVE}" in text
    assert "visible-query-value" in outputs[2]  # only key-like names are masked


def test_secrets_of_an_instance_read_from_scratch_stay_hidden() -> None:
    desired, live = secret_scenario()

    for plan in (compute_plan(desired, Configuration()), compute_plan(Configuration(), live)):
        output = render_json(plan) + render_text(plan, color=False) + render_markdown(plan)
        assert not [secret for secret in SECRETS if secret in output]


# -- what a change shows -----------------------------------------------------------------

OPERATION_ID = "/apis/echo/operations/647da85f0190a96bdaa61571"


def _creates() -> Plan:
    desired = Configuration(
        [
            make_resource("/apis/echo", {"displayName": "Echo API", "path": "echo"}),
            make_resource(
                OPERATION_ID,
                {"displayName": "Get item", "method": "GET", "urlTemplate": "/items/{id}"},
            ),
            make_resource("/backends/stock", {"url": "https://stock.example", "protocol": "http"}),
            make_resource(
                "/namedValues/db-password",
                {"displayName": "DbPassword", "secret": True, "value": "S3cr3t-create"},
            ),
            make_resource(
                "/namedValues/vault",
                {
                    "displayName": "vault",
                    "secret": True,
                    "keyVault": {"secretIdentifier": "https://kv.vault.azure.net/secrets/a"},
                },
            ),
            make_resource("/namedValues/plain", {"displayName": "Plain", "value": "hello"}),
        ]
    )
    return compute_plan(desired, Configuration())


def test_a_create_shows_its_display_name_and_key_attributes() -> None:
    text = render_text(_creates(), color=False)

    assert f'  + {OPERATION_ID} "Get item"\n      method: "GET"\n' in text
    assert '      urlTemplate: "/items/{id}"\n' in text
    assert '  + /apis/echo "Echo API"\n      path: "echo"\n' in text
    assert '  + /backends/stock\n      url: "https://stock.example"\n' in text
    assert '  + /namedValues/db-password "DbPassword"\n      secret: true\n' in text
    assert f"      value: {SENSITIVE}" in text and "S3cr3t-create" not in text
    assert 'keyVault: {"secretIdentifier": "https://kv.vault.azure.net/secrets/a"}' in text
    assert '  + /namedValues/plain\n      value: "hello"\n' in text  # its name says it


def test_json_and_markdown_show_the_same_names_and_attributes() -> None:
    plan = _creates()

    document = json.loads(render_json(plan))
    markdown = render_markdown(plan)

    by_id = {c["id"]: c for c in document["changes"]}
    operation = by_id[OPERATION_ID]
    assert operation["display_name"] == "Get item"
    assert operation["attributes"] == {"method": "GET", "urlTemplate": "/items/{id}"}
    assert by_id["/namedValues/db-password"]["attributes"] == {"secret": True, "value": SENSITIVE}
    assert by_id["/backends/stock"]["display_name"] is None
    row = f"| create | operation | `{OPERATION_ID}` Get item | method: `GET`, urlTemplate: "
    assert row + "`/items/{id}` |" in markdown
    assert "S3cr3t-create" not in markdown + render_json(plan)


def test_a_policy_diff_shows_the_files_lines_not_the_normalised_form() -> None:
    mine = (
        "<policies>\n\t<inbound>\n\t\t<base />\n"
        '\t\t<set-header exists-action="override" name="x-team">\n'
        "\t\t\t<value>blue</value>\n\t\t</set-header>\n\t</inbound>\n"
        "\t<backend><base /></backend>\n\t<outbound><base /></outbound>\n"
        "\t<on-error><base /></on-error>\n</policies>"
    )
    theirs = (  # what the service sent back: its own layout, an older value
        "<policies>\r\n  <inbound>\r\n    <base />\r\n"
        '    <set-header name="x-team" exists-action="override">\r\n'
        "      <value>red</value>\r\n    </set-header>\r\n  </inbound>\r\n"
        "  <backend>\r\n    <base />\r\n  </backend>\r\n  <outbound>\r\n    <base />\r\n"
        "  </outbound>\r\n  <on-error>\r\n    <base />\r\n  </on-error>\r\n</policies>"
    )
    policy = "/apis/echo/policies/policy"
    plan = compute_plan(
        Configuration([make_resource(policy, {"format": "rawxml", "value": mine})]),
        Configuration([make_resource(policy, {"format": "rawxml", "value": theirs})]),
    )

    text = render_text(plan, color=False)
    markdown = render_markdown(plan)

    assert [c.resource_id for c in plan.changes] == [policy]
    for output in (text, markdown):
        assert "+\t\t\t<value>blue</value>" in output  # the line as the file has it
        assert '+\t\t<set-header exists-action="override" name="x-team">' in output
        assert "-      <value>red</value>" in output
