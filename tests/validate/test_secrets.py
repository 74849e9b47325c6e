"""``secret-literal``: warnings for secrets written in plain text, never showing them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from apimsync.validate.tree import validate_tree
from tests.conftest import CORPUS, EXPORTS, REPO

STARTER = REPO / "examples" / "openai-usage"
SECRETS = {
    "sas": "sv=2022-11-02&sig=Zm9vYmFyYmF6cXV4cXV1eHh5ejEyMzQ1Njc4OTA%3D",
    "account": "AccountName=a;AccountKey=QWxhZGRpbjpvcGVuIHNlc2FtZQ9876==",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.c2lnbmF0dXJl",
    "hex": "3f2a9c0d4b5e6f708192a3b4c5d6e7f8",
}


def starter_copy(tmp_path: Path) -> Path:
    root = tmp_path / "starter"
    for top in ("api-management", "api-management-extras"):
        shutil.copytree(STARTER / top, root / top)
    return root


def edit_json(path: Path, **changes: object) -> None:
    document = json.loads(path.read_text())
    document.update(changes)
    path.write_text(json.dumps(document, indent=2))


def test_every_kind_of_leak_is_a_warning_without_the_value(tmp_path: Path) -> None:
    root = starter_copy(tmp_path)
    edit_json(
        root / "api-management/backends/openaione/configuration.json",
        credentials={"header": {"api-key": [SECRETS["hex"]]}, "query": {"sv": [SECRETS["sas"]]}},
    )
    edit_json(
        root / "api-management-extras/namedValues/openai-api-audience.json",
        value=SECRETS["account"],
    )
    policy = root / "api-management/policies/apis/open-ai.xml"
    policy.write_text(
        policy.read_text().replace(
            "<base />\n\t\t<authentication-managed-identity",
            '<base />\n\t\t<set-header name="Authorization" exists-action="override">'
            f"<value>Bearer {SECRETS['jwt']}</value></set-header>\n"
            '\t\t<set-header name="Ocp-Apim-Subscription-Key" exists-action="override">'
            f"<value>{SECRETS['hex']}</value></set-header>\n"
            "\t\t<authentication-managed-identity",
            1,
        )
    )

    report = validate_tree(root)

    warnings = [f for f in report.warnings if f.code == "secret-literal"]
    assert {(f.path, f.line) for f in warnings} == {
        ("api-management/backends/openaione/configuration.json", 37),
        ("api-management/backends/openaione/configuration.json", 42),
        ("api-management-extras/namedValues/openai-api-audience.json", 4),
        ("api-management/policies/apis/open-ai.xml", 14),
        ("api-management/policies/apis/open-ai.xml", 15),
    }, [f.render() for f in warnings]
    assert report.errors == []
    rendered = "\n".join(f.render() for f in report.findings)
    assert not any(secret in rendered for secret in SECRETS.values())
    assert not any(secret[:12] in rendered for secret in SECRETS.values())


def test_references_secrets_and_key_vault_are_not_leaks() -> None:
    assert [f for f in validate_tree(STARTER).findings if f.code == "secret-literal"] == []
    for name in EXPORTS:
        report = validate_tree(CORPUS / name)
        assert [f.render() for f in report.findings if f.code == "secret-literal"] == []
