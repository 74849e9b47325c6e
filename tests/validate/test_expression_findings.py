"""Expression findings on real policies: none on what API Management accepted, and each
mutation of a real expression reported at the right line and column of its file."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from apimsync.policy.csharp import leaves, parse_code
from apimsync.policy.expressions import LineIndex, raw_offset
from apimsync.policy.parser import PolicySyntaxError, parse_policy
from apimsync.validate.expressions import check_expressions
from apimsync.validate.findings import Finding, Findings, Severity
from apimsync.validate.tree import validate_tree
from tests.conftest import CORPUS, EXPORTS, REPO

STARTER = REPO / "examples" / "openai-usage"
APIOPS = CORPUS.parent / "corpus-apiops"
SEED_OPERATIONS = "api-management/policies/apis/Open_AI__1[Current]_open-166H7PW/operations/"
EXPRESSION_CODES = ("expression-syntax", "expression-unbalanced", "expression-type")
SYNTAX_CODES = ("expression-syntax", "expression-unbalanced")


def document_findings(text: str, path: str = "policy.xml") -> list[Finding]:
    """What validate reports about the expressions of one policy document."""
    findings = Findings()
    try:
        document = parse_policy(text, path)
    except PolicySyntaxError as error:
        return [Finding(path, error.line, error.column, Severity.ERROR, error.code, error.detail)]
    check_expressions(document, findings)
    return findings.sorted()


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.is_error]


def offset_of(text: str, finding: Finding) -> int:
    lines = LineIndex(text)
    starts = [0, *(m.end() for m in re.finditer(r"\r\n?|\n", text))]
    offset = starts[finding.line - 1] + finding.column - 1
    position = lines.position(offset)
    assert (position.line, position.column) == (finding.line, finding.column)
    return offset


def position_of(text: str, offset: int) -> tuple[int, int]:
    position = LineIndex(text).position(offset)
    return position.line, position.column


# --------------------------------------------------------------------- real policies
@pytest.mark.parametrize("tree", [*(CORPUS / name for name in EXPORTS), STARTER], ids=str)
def test_real_exports_and_the_starter_have_no_expression_error(tree: Path) -> None:
    report = validate_tree(tree)
    expression_errors = [f.render() for f in report.errors if f.code.startswith("expression")]
    assert expression_errors == []


def test_real_exports_warn_where_they_use_what_the_documentation_lacks() -> None:
    report = validate_tree(CORPUS / "seed-openai-v17")
    warnings = {(f.path, f.line, f.column, f.code) for f in report.warnings}
    assert (
        SEED_OPERATIONS + "POST__{_path}_open-aipost-query.xml",
        79,
        66,
        "expression-type",
    ) in warnings  # ((IResponse)context.Variables["response"]).StatusCode
    assert (
        SEED_OPERATIONS + "POST__retry_open-aipost-retry.xml",
        16,
        72,
        "expression-member",
    ) in warnings  # context.Request.Url.Query.GetValueOrDefault("BackendIndex")


APIOPS_POLICIES = sorted(APIOPS.rglob("*.xml")) if APIOPS.is_dir() else []


@pytest.mark.skipif(not APIOPS_POLICIES, reason="no APIOps corpus beside the checkout")
def test_real_apiops_policies_have_no_expression_error() -> None:
    checked = 0
    for path in APIOPS_POLICIES:
        text = path.read_text(encoding="utf-8-sig")
        found = errors(document_findings(text, str(path)))
        assert [f.render() for f in found] == []
        checked += "@(" in text or "@{" in text
    assert checked >= 20


# --------------------------------------------------------------------- mutations
@dataclass(frozen=True)
class Mutant:
    """A real policy file with one character of one expression deleted."""

    name: str
    original: str
    text: str
    at: int  # where the deleted character was (and what now follows it)
    deleted: str
    partner: int | None  # in the mutated text: the other bracket or quote of the pair


PAIRS = {"(": ")", "[": "]", "{": "}", ")": "(", "]": "[", "}": "{"}


def real_policy_files() -> list[Path]:
    files = [p for name in EXPORTS for p in (CORPUS / name / "api-management").rglob("*.xml")]
    files += sorted((STARTER / "api-management").rglob("*.xml"))
    return sorted(
        p for p in files if "@(" in p.read_text("utf-8-sig") or "@{" in p.read_text("utf-8-sig")
    )


def mutants() -> Iterator[Mutant]:
    """One deletion of each kind (bracket, ';', quote) per distinct real expression."""
    seen: set[str] = set()
    for path in real_policy_files():
        text = path.read_text(encoding="utf-8-sig")
        for expression in parse_policy(text).expressions:
            if expression.text in seen:
                continue
            seen.add(expression.text)
            parsed = parse_code(expression.text[1:])
            kinds: set[str] = set()
            for leaf in leaves(parsed.root):
                kind = leaf.type
                inside = parsed.start(leaf) > 0 and parsed.end(leaf) < len(parsed.code)
                if kind not in '()[]{};"' or kind in kinds or not inside:
                    continue
                offset = parsed.start(leaf) + 1  # in the expression's text (from its '@')
                kinds.add(kind)
                at = expression.start + raw_offset(expression.raw, offset)
                width = raw_offset(expression.raw, offset + 1) - raw_offset(expression.raw, offset)
                partner = partner_offset(parsed, leaf, expression.raw, expression.start, at)
                name = (
                    f"{path.relative_to(path.parents[3]).as_posix()}:{position_of(text, at)}:{kind}"
                )
                yield Mutant(name, text, text[:at] + text[at + width :], at, kind, partner)


def partner_offset(parsed, leaf, raw: str, start: int, at: int) -> int | None:  # type: ignore[no-untyped-def]
    """Where the other token of the deleted one's pair is, in the mutated text."""
    siblings = [c for c in leaf.parent.children if c.type in (leaf.type, PAIRS.get(leaf.type))]
    others = [
        c
        for c in siblings
        if (c != leaf and c.type != leaf.type) or (leaf.type == '"' and c != leaf)
    ]
    if not others:
        return None
    other = start + raw_offset(raw, parsed.start(others[0]) + 1)
    return other - 1 if other > at else other


MUTANTS = list(mutants())


def test_the_mutants_cover_every_kind_of_deletion() -> None:
    kinds = {mutant.deleted for mutant in MUTANTS}
    assert kinds == set('()[]{};"')
    assert len(MUTANTS) > 150


def suggested_fix(text: str, offset: int, message: str) -> str | None:
    """The text with what the message says done at the offset, if it says one thing."""
    expected = re.search(r"'(.)' expected", message)
    if expected:
        return text[:offset] + expected.group(1) + text[offset:]
    unexpected = re.search(r"unexpected '(.)'", message)
    if unexpected and text[offset] == unexpected.group(1):
        return text[:offset] + text[offset + 1 :]
    return None


def is_quote(text: str, offset: int) -> bool:
    return text.startswith('"', offset) or text.startswith("&quot;", offset)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_a_deleted_bracket_semicolon_or_quote_is_reported_where_it_is(mutant: Mutant) -> None:
    found = [f for f in errors(document_findings(mutant.text)) if f.code in SYNTAX_CODES]
    assert found, f"deleting {mutant.deleted!r} was not reported"
    first = found[0]
    offset = offset_of(mutant.text, first)
    if offset == mutant.at:
        return  # exactly where the character was
    if mutant.deleted == '"':
        # The string literal that lost its quote: its other quote, or the one where
        # the literal now ends (where a compiler sees it go wrong).
        assert is_quote(mutant.text, offset), first.render()
        assert offset >= min(mutant.at, mutant.partner or mutant.at), first.render()
        return
    if mutant.deleted in "([{" and first.message.endswith(f"unexpected '{PAIRS[mutant.deleted]}'"):
        # The bracket left without its partner, where a compiler finds it.
        assert offset >= mutant.at, first.render()
        return
    if mutant.deleted in ")]}" and first.message.endswith(f"unexpected '{PAIRS[mutant.deleted]}'"):
        assert offset == mutant.partner, first.render()
        return
    # Otherwise the message names what is missing here, and doing it repairs the file
    # (at or after the deletion, or separated from it by spaces only).
    fixed = suggested_fix(mutant.text, offset, first.message)
    assert fixed is not None, first.render()
    assert offset >= mutant.at or not mutant.text[offset : mutant.at].strip(), first.render()
    assert errors(document_findings(fixed)) == [], first.render()


def test_a_deleted_semicolon_is_reported_right_after_its_statement() -> None:
    path = (
        CORPUS
        / "eshop-v15"
        / "api-management/policies/apis/Catalog_API_v1_1[Current]/operations/GET__catalogbrands.xml"
    )
    text = path.read_text("utf-8-sig")
    statement = 'newResponseBody["error"]["code"] = "InvalidErrorResponseBody";'
    at = text.index(statement) + len(statement) - 1
    found = errors(document_findings(text[:at] + text[at + 1 :]))
    assert [(f.line, f.column, f.code) for f in found] == [
        (*position_of(text, at), "expression-syntax")
    ]
    assert "';' expected" in found[0].message


# --------------------------------------------------------------------- named things
@dataclass(frozen=True)
class Replacement:
    name: str
    file: str
    old: str
    new: str
    marker: str  # where in ``new`` the finding must be
    code: str


SEED = CORPUS / "seed-openai-v17"
REPLACEMENTS = [
    Replacement(
        "misspelled context member",
        SEED_OPERATIONS + "POST__{_path}_open-aipost-query.xml",
        "@(context.Subscription.Id)",
        "@(context.Subscripton.Id)",
        "Subscripton",
        "expression-member",
    ),
    Replacement(
        "misspelled member of a part of context",
        SEED_OPERATIONS + "GET__backend_open-aibackend.xml",
        'context.Request.Headers.GetValueOrDefault("Authorization","scheme param")',
        'context.Request.Header.GetValueOrDefault("Authorization","scheme param")',
        "Header.",
        "expression-member",
    ),
    Replacement(
        "System.IO.File",
        SEED_OPERATIONS + "POST__{_path}_open-aipost-query.xml",
        "@(context.Subscription.Id)",
        '@(System.IO.File.ReadAllText("/etc/passwd"))',
        "System.IO.File",
        "expression-type",
    ),
    Replacement(
        "System.Net.WebClient",
        SEED_OPERATIONS + "GET__backend_open-aibackend.xml",
        '@((string)context.Variables["token"])',
        '@{\n\t\t\t\t\tvar client = new System.Net.WebClient();\n\t\t\t\t\treturn client.DownloadString("http://example.test");\n\t\t\t\t}',
        "System.Net.WebClient",
        "expression-type",
    ),
    Replacement(
        "Process",
        SEED_OPERATIONS + "POST__retry_open-aipost-retry.xml",
        '@((int)context.Variables["backendIndex"] % 3 == 2)',
        '@(Process.Start("sh").Id % 3 == 2)',
        "Process",
        "expression-type",
    ),
]


@pytest.mark.parametrize("case", REPLACEMENTS, ids=lambda c: c.name)
def test_a_misspelled_member_or_a_disallowed_type_is_an_error_at_its_name(
    case: Replacement, copy_export: Callable[[str], Path]
) -> None:
    root = copy_export("seed-openai-v17")
    path = root / case.file
    text = path.read_text("utf-8-sig")
    assert case.old in text
    changed = text.replace(case.old, case.new, 1)
    path.write_text(changed, "utf-8")
    where = position_of(changed, changed.index(case.new) + case.new.index(case.marker))

    report = validate_tree(root)

    found = [f for f in report.errors if f.code.startswith("expression")]
    assert [(f.path, f.line, f.column, f.code) for f in found] == [(case.file, *where, case.code)]


def test_the_command_prints_the_finding_at_its_line_and_column(
    copy_export: Callable[[str], Path],
) -> None:
    root = copy_export("seed-openai-v17")
    case = REPLACEMENTS[0]
    path = root / case.file
    text = path.read_text("utf-8-sig").replace(case.old, case.new, 1)
    path.write_text(text, "utf-8")
    line, column = position_of(text, text.index("Subscripton"))

    result = subprocess.run(
        [sys.executable, "-m", "apimsync", "validate", str(root)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        f"{case.file}:{line}:{column}: error expression-member 'Subscripton' is not a member "
        "of context: did you mean 'Subscription'?"
    ) in result.stdout


# --------------------------------------------------------------------- forms of text
def escape_attribute_expressions(text: str) -> str:
    """The same document with every attribute expression entity-escaped, as a
    well-formed export writes it."""
    document = parse_policy(text)
    pieces, previous = [], 0
    for expression in document.expressions:
        if not expression.in_attribute:
            continue
        escaped = html.escape(expression.text, quote=True).replace("&#x27;", "&apos;")
        pieces += [text[previous : expression.start], escaped]
        previous = expression.start + len(expression.raw)
    return "".join([*pieces, text[previous:]])


def test_escaped_expressions_mean_the_same_and_are_placed_in_the_escaped_text() -> None:
    path = SEED / (SEED_OPERATIONS + "POST__{_path}_open-aipost-query.xml")
    raw = path.read_text("utf-8-sig")
    escaped = escape_attribute_expressions(raw)
    assert "&quot;" in escaped and escaped != raw

    findings = document_findings(escaped)

    assert [(f.code, f.message) for f in findings] == [
        (f.code, f.message) for f in document_findings(raw)
    ]
    cast = next(f for f in findings if "IResponse" in f.message)
    assert escaped[offset_of(escaped, cast) :].startswith("IResponse)context.Variables[&quot;")


def test_a_mistake_after_escaped_quotes_is_placed_in_the_escaped_text() -> None:
    path = SEED / (SEED_OPERATIONS + "GET__backend_open-aibackend.xml")
    escaped = escape_attribute_expressions(path.read_text("utf-8-sig"))
    broken = escaped.replace(
        "GetValueOrDefault(&quot;Authorization&quot;,&quot;scheme param&quot;)",
        "GetValueOrDefault(&quot;Authorization&quot;,&quot;scheme param&quot;).Length",
    )
    broken = broken.replace(
        "context.Request.Headers.GetValueOrDefault(&quot;Auth",
        "context.Request.Headrs.GetValueOrDefault(&quot;Auth",
    )

    found = errors(document_findings(broken))

    assert [(f.code, broken[offset_of(broken, f) :][:6]) for f in found] == [
        ("expression-member", "Headrs")
    ]


def test_columns_count_characters_when_non_ascii_text_comes_first() -> None:
    path = SEED / (SEED_OPERATIONS + "GET__backend_open-aibackend.xml")
    text = path.read_text("utf-8-sig").replace(
        'GetValueOrDefault("Authorization","scheme param")',
        'GetValueOrDefault("Authorization","größe — ünïcödé ✓").Trim().Length.ToString()'
        " + context.Reqest.Method",
    )
    found = errors(document_findings(text))
    assert len(found) == 1
    line_text = text.splitlines()[found[0].line - 1]
    assert line_text[found[0].column - 1 :].startswith("Reqest.Method")


def test_a_mistake_in_a_multi_line_block_with_comments_is_on_its_line() -> None:
    path = SEED / (SEED_OPERATIONS + "GET__backend_open-aibackend.xml")
    text = path.read_text("utf-8-sig")
    start = text.index('value="@{')
    block = text[start : text.index("}", start)]
    assert "\n" in block
    lines = block.splitlines()
    target = next(i for i, line in enumerate(lines) if "context." in line and i > 0)
    broken_line = lines[target].replace("context.", "context.Varables.", 1)
    broken = text.replace(lines[target], '// a comment ) } " with brackets\n' + broken_line, 1)

    found = errors(document_findings(broken))

    assert len(found) == 1
    assert broken.splitlines()[found[0].line - 1] == broken_line
    assert broken_line[found[0].column - 1 :].startswith("Varables")


# --------------------------------------------------------------------- named values
def test_named_values_inside_expressions_still_work(copy_export: Callable[[str], Path]) -> None:
    root = copy_export("seed-openai-v17")
    path = root / SEED_OPERATIONS / "POST__retry_open-aipost-retry.xml"
    text = path.read_text("utf-8-sig")
    old = '@((int)context.Variables["backendIndex"] % 3 == 2)'
    changed = text.replace(
        old, '@((int)context.Variables["backendIndex"] % {{backend-count}} == 2)'
    )
    path.write_text(changed, "utf-8")

    report = validate_tree(root)

    mine = [f for f in report.findings if f.path.endswith("POST__retry_open-aipost-retry.xml")]
    assert [f.code for f in mine if f.code.startswith("expression") and f.is_error] == []
    assert any(f.code == "unknown-named-value" and "'backend-count'" in f.message for f in mine)
