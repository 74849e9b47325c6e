"""Rules for API Management policy documents: the schema plus where each policy may go.

:func:`check_policy` appends findings for one parsed document at one scope:

* ``unknown-policy``, ``unknown-attribute``, ``missing-attribute``,
  ``invalid-attribute-value`` and ``schema``: the document against ``schemas/policy.xsd``
  (see :mod:`apimsync.validate.policy_schema`);
* ``policy-section``: a policy in a section that does not run it, also when nested in
  ``retry``, ``choose``, ``limit-concurrency`` or ``wait`` (and ``wait`` holds only
  ``send-request``, ``cache-lookup-value`` and ``choose``);
* ``policy-scope``: a policy not available at the document's scope;
* ``policy-repeated``: a policy used more often than a section or document allows,
  counted along one path of execution (the branches of a ``choose`` are alternatives);
* ``attribute-choice``: attributes of which exactly one, at least one, at most one or all
  together must be given;
* ``base-misuse`` and ``fragment-rule``: ``<base/>`` and policy fragments.

The facts come from the Microsoft Learn policy reference pages, one per policy
(``articles/api-management/<name>-policy.md``), and from ``docs/policies.md``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from apimsync.policy.parser import PolicyDocument, Position
from apimsync.validate.findings import Findings
from apimsync.validate.policy_schema import ProblemKind, SchemaProblem, load_schema, schema_problems


class PolicyScope(enum.Enum):
    GLOBAL = "global"
    PRODUCT = "product"
    API = "API"
    OPERATION = "operation"
    FRAGMENT = "fragment"


UNKNOWN_POLICY = "unknown-policy"
UNKNOWN_ATTRIBUTE = "unknown-attribute"
MISSING_ATTRIBUTE = "missing-attribute"
INVALID_ATTRIBUTE_VALUE = "invalid-attribute-value"
SCHEMA = "schema"
POLICY_SECTION = "policy-section"
POLICY_SCOPE = "policy-scope"
POLICY_REPEATED = "policy-repeated"
ATTRIBUTE_CHOICE = "attribute-choice"
BASE_MISUSE = "base-misuse"
FRAGMENT_RULE = "fragment-rule"

SECTIONS = ("inbound", "backend", "outbound", "on-error")
_SECTION_LETTERS = {"I": "inbound", "B": "backend", "O": "outbound", "E": "on-error"}
_SCOPE_LETTERS = {
    "G": PolicyScope.GLOBAL,
    "P": PolicyScope.PRODUCT,
    "A": PolicyScope.API,
    "O": PolicyScope.OPERATION,
}
# Policies whose children are policies again (choose through its when/otherwise branches).
NESTING = frozenset({"retry", "limit-concurrency", "wait"})
BRANCHES = frozenset({"when", "otherwise"})
WAIT_CHILDREN = frozenset({"send-request", "cache-lookup-value", "choose"})


@dataclass(frozen=True)
class Usage:
    """Where a policy may be used: sections, scopes and how often."""

    sections: frozenset[str]
    scopes: frozenset[PolicyScope]
    per_section: int | None = None
    per_document: int | None = None


def _usage(sections: str, scopes: str = "GPAO", limit: str = "") -> Usage:
    """sections: letters of IBOE; scopes: letters of GPAO ("" = GraphQL resolvers only);
    limit: "section" or "document" for policies allowed once there."""
    return Usage(
        sections=frozenset(_SECTION_LETTERS[s] for s in sections),
        scopes=frozenset(_SCOPE_LETTERS[s] for s in scopes),
        per_section=1 if limit == "section" else None,
        per_document=1 if limit == "document" else None,
    )


USAGE: dict[str, Usage] = {
    "authentication-basic": _usage("I"),
    "authentication-certificate": _usage("I"),
    # The page lists inbound; deployed policies also use it elsewhere to fetch a token.
    "authentication-managed-identity": _usage("IBOE"),
    "azure-openai-emit-token-metric": _usage("I"),
    "azure-openai-semantic-cache-lookup": _usage("I", limit="section"),
    "azure-openai-semantic-cache-store": _usage("O", limit="section"),
    "azure-openai-token-limit": _usage("I"),
    "cache-lookup": _usage("I", limit="section"),
    "cache-lookup-value": _usage("IBOE"),
    "cache-remove-value": _usage("IBOE"),
    "cache-store": _usage("O", limit="section"),
    "cache-store-value": _usage("IBOE"),
    "check-header": _usage("I"),
    "choose": _usage("IBOE"),
    "cors": _usage("I", limit="section"),
    "cosmosdb-data-source": _usage("IBOE", scopes=""),
    "cross-domain": _usage("I", scopes="G"),
    "emit-metric": _usage("IBOE"),
    "find-and-replace": _usage("IBOE"),
    "forward-request": _usage("B"),
    "get-authorization-context": _usage("I"),
    "http-data-source": _usage("IBOE", scopes=""),
    "include-fragment": _usage("IBOE"),
    "invoke-dapr-binding": _usage("IOE"),
    "ip-filter": _usage("I"),
    "json-to-xml": _usage("IOE"),
    "jsonp": _usage("O", limit="section"),
    "limit-concurrency": _usage("IBOE"),
    "llm-content-safety": _usage("IO"),
    "llm-emit-token-metric": _usage("I"),
    "llm-semantic-cache-lookup": _usage("I", limit="section"),
    "llm-semantic-cache-store": _usage("O", limit="section"),
    "llm-token-limit": _usage("I"),
    "log-to-eventhub": _usage("IBOE"),
    "mock-response": _usage("IOE"),
    "proxy": _usage("I"),
    "publish-event": _usage("IBOE", scopes=""),
    "publish-to-dapr": _usage("I"),
    "quota": _usage("I", scopes="P", limit="document"),
    "quota-by-key": _usage("I"),
    "rate-limit": _usage("I", scopes="PAO", limit="document"),
    "rate-limit-by-key": _usage("I"),
    "redirect-content-urls": _usage("IO", limit="section"),
    "retry": _usage("IBOE"),
    "return-response": _usage("IBOE"),
    "rewrite-uri": _usage("I"),
    "send-one-way-request": _usage("IBOE"),
    "send-request": _usage("IBOE"),
    "send-service-bus-message": _usage("IOE"),
    "set-backend-service": _usage("IB"),
    "set-body": _usage("IBO"),
    "set-graphql-resolver": _usage("IBOE"),
    "set-header": _usage("IBOE"),
    "set-method": _usage("IE"),
    "set-query-parameter": _usage("IB"),
    "set-status": _usage("IBOE"),
    "set-variable": _usage("IBOE"),
    "sql-data-source": _usage("IBOE", scopes=""),
    "trace": _usage("IBOE"),
    "validate-azure-ad-token": _usage("I"),
    "validate-client-certificate": _usage("I"),
    "validate-content": _usage("IOE"),
    "validate-graphql-request": _usage("I"),
    "validate-headers": _usage("OE", limit="section"),
    "validate-jwt": _usage("I"),
    "validate-odata-request": _usage("I", scopes="GPA", limit="section"),
    "validate-parameters": _usage("I", limit="section"),
    "validate-status-code": _usage("OE"),
    "wait": _usage("IBO"),
    "xml-to-json": _usage("IOE"),
    "xsl-transform": _usage("IO"),
}


LIMITED = frozenset(n for n, u in USAGE.items() if u.per_section or u.per_document)


class Choice(enum.Enum):
    EXACTLY_ONE = "exactly one of"
    AT_LEAST_ONE = "at least one of"
    AT_MOST_ONE = "at most one of"
    ALL_OR_NONE = "all or none of"

    def violated(self, present: int, total: int) -> bool:
        if self is Choice.EXACTLY_ONE:
            return present != 1
        if self is Choice.AT_LEAST_ONE:
            return present == 0
        if self is Choice.AT_MOST_ONE:
            return present > 1
        return present not in (0, total)


@dataclass(frozen=True)
class AttributeChoice:
    kind: Choice
    attributes: tuple[str, ...]


def _choice(kind: Choice, names: str) -> AttributeChoice:
    return AttributeChoice(kind, tuple(names.split()))


_TOKEN_LIMIT_CHOICES = (
    _choice(Choice.AT_LEAST_ONE, "tokens-per-minute token-quota"),
    _choice(Choice.ALL_OR_NONE, "token-quota token-quota-period"),
)
_QUOTA_CHOICES = (_choice(Choice.AT_LEAST_ONE, "calls bandwidth"),)
_API_OR_OPERATION = (_choice(Choice.AT_LEAST_ONE, "name id"),)

# Keyed by element path below a policy ("rate-limit/api" is the api child of rate-limit).
ATTRIBUTE_CHOICES: dict[str, tuple[AttributeChoice, ...]] = {
    "validate-jwt": (_choice(Choice.EXACTLY_ONE, "header-name query-parameter-name token-value"),),
    "validate-azure-ad-token": (
        _choice(Choice.AT_MOST_ONE, "header-name query-parameter-name token-value"),
    ),
    "set-backend-service": (_choice(Choice.EXACTLY_ONE, "base-url backend-id"),),
    "quota": _QUOTA_CHOICES,
    "quota/api": _QUOTA_CHOICES + _API_OR_OPERATION,
    "quota/api/operation": _QUOTA_CHOICES + _API_OR_OPERATION,
    "quota-by-key": _QUOTA_CHOICES,
    "rate-limit/api": _API_OR_OPERATION,
    "rate-limit/api/operation": _API_OR_OPERATION,
    "azure-openai-token-limit": _TOKEN_LIMIT_CHOICES,
    "llm-token-limit": _TOKEN_LIMIT_CHOICES,
    "authentication-certificate": (
        _choice(Choice.AT_LEAST_ONE, "thumbprint certificate-id body"),
        _choice(Choice.AT_MOST_ONE, "thumbprint certificate-id"),
    ),
    "log-to-eventhub": (_choice(Choice.AT_MOST_ONE, "partition-id partition-key"),),
    "forward-request": (_choice(Choice.AT_MOST_ONE, "timeout timeout-ms"),),
    "send-service-bus-message": (_choice(Choice.EXACTLY_ONE, "queue-name topic-name"),),
}


# Every path in ATTRIBUTE_CHOICES and its prefixes ("quota", "quota/api", ...).
_CHOICE_PATHS = frozenset(
    "/".join(parts[:n]) for parts in (p.split("/") for p in ATTRIBUTE_CHOICES) for n in (1, 2, 3)
)


def check_policy(doc: PolicyDocument, scope: PolicyScope, findings: Findings) -> None:
    """Append every finding about one policy document used at the given scope."""
    checker = _Checker(doc, scope, findings)
    if checker.check_root():
        checker.check_schema()
        checker.check_structure()


class _Checker:
    def __init__(self, doc: PolicyDocument, scope: PolicyScope, findings: Findings) -> None:
        self.doc = doc
        self.scope = scope
        self.findings = findings
        self.is_fragment = scope is PolicyScope.FRAGMENT

    # ------------------------------------------------------------------ reporting
    def report(self, element: Element, code: str, message: str, attribute: str = "") -> None:
        position = self._position(element, attribute)
        self.findings.error(self.doc.path, position.line, position.column, code, message)

    def _position(self, element: Element, attribute: str) -> Position:
        try:
            if attribute:
                return self.doc.attribute_position(element, attribute)
            return self.doc.position(element)
        except ValueError:  # an element not read from this document (never expected)
            return Position(1, 1)

    # ------------------------------------------------------------------ root
    def check_root(self) -> bool:
        tag = self.doc.root.tag
        expected = "fragment" if self.is_fragment else "policies"
        if tag == expected:
            return True
        if self.is_fragment:
            message = f"a policy fragment's root element must be <fragment>, not <{tag}>"
            self.report(self.doc.root, FRAGMENT_RULE, message)
        else:
            message = f"the root element of a policy document must be <policies>, not <{tag}>"
            self.report(self.doc.root, SCHEMA, message)
        return False

    # ------------------------------------------------------------------ schema
    def check_schema(self) -> None:
        for problem in schema_problems(self.doc.root):
            self._report_problem(problem)

    def _report_problem(self, problem: SchemaProblem) -> None:
        kind = problem.kind
        if kind is ProblemKind.UNKNOWN_ELEMENT:
            self._report_unknown_element(problem)
        elif kind is ProblemKind.UNKNOWN_ATTRIBUTE:
            self.report(problem.element, UNKNOWN_ATTRIBUTE, problem.message, problem.name)
        elif kind is ProblemKind.MISSING_ATTRIBUTE:
            self.report(problem.element, MISSING_ATTRIBUTE, problem.message)
        elif kind is ProblemKind.INVALID_VALUE:
            self.report(problem.element, INVALID_ATTRIBUTE_VALUE, problem.message, problem.name)
        else:
            self.report(problem.element, SCHEMA, problem.message)

    def _report_unknown_element(self, problem: SchemaProblem) -> None:
        finding = self._unknown_element_finding(problem)
        if finding is not None:
            self.report(problem.element, *finding)

    def _unknown_element_finding(self, problem: SchemaProblem) -> tuple[str, str] | None:
        """The code and message for an element the schema does not allow where it is."""
        name, parent = problem.name, problem.parent
        parent_tag = "" if parent is None else parent.tag
        if name in SECTIONS and parent_tag != "policies":
            if self.is_fragment and parent is self.doc.root:
                return None  # reported as a fragment rule
            return SCHEMA, f"<{name}> is a section; sections belong directly in <policies>"
        if parent_tag == "policies" and name == "base":
            return BASE_MISUSE, "<base/> must be a direct child of a section, not of <policies>"
        if parent_tag == "policies" and name in _policy_names():
            return POLICY_SECTION, (
                f"<{name}> must be inside a section (inbound, backend, outbound or on-error), "
                "not directly in <policies>"
            )
        if problem.policy_position:
            return UNKNOWN_POLICY, problem.message
        return SCHEMA, problem.message

    # ------------------------------------------------------------------ structure
    def check_structure(self) -> None:
        root = self.doc.root
        if self.is_fragment:
            self._check_fragment(root)
            self._check_container(root, None, None)
            self._check_repeats([root], "a policy fragment", per_document=True)
            self._check_repeats([root], "a policy fragment", per_document=False)
        else:
            sections = [section for section in root if section.tag in SECTIONS]
            for section in sections:
                self._check_section(section)
            self._check_repeats(sections, "a policy document", per_document=True)
        self._check_attribute_choices(root)

    def _check_section(self, section: Element) -> None:
        bases = [child for child in section if child.tag == "base"]
        for extra in bases[1:]:
            message = f"<base/> appears more than once in <{section.tag}>; keep only one"
            self.report(extra, BASE_MISUSE, message)
        self._check_container(section, str(section.tag), None)
        self._check_repeats([section], f"the {section.tag} section", per_document=False)

    def _check_fragment(self, root: Element) -> None:
        for child in root:
            if child.tag in SECTIONS:
                message = (
                    f"a policy fragment cannot contain the section <{child.tag}>; put the "
                    "policies directly in <fragment>"
                )
                self.report(child, FRAGMENT_RULE, message)

    def _check_container(self, container: Element, section: str | None, holder: str | None) -> None:
        """Check the policies in a section, fragment, or nesting policy, and below."""
        for policy in container:
            if not isinstance(policy.tag, str) or policy.tag in SECTIONS:
                continue
            self._check_policy(policy, container, section, holder)
            self._descend(policy, section)

    def _descend(self, policy: Element, section: str | None) -> None:
        if policy.tag in NESTING:
            self._check_container(policy, section, str(policy.tag))
        elif policy.tag == "choose":
            for branch in policy:
                if branch.tag in BRANCHES:
                    self._check_container(branch, section, "choose")

    def _check_policy(
        self, policy: Element, container: Element, section: str | None, holder: str | None
    ) -> None:
        name = str(policy.tag)
        if name == "base":
            self._check_base(policy, container, section)
            return
        if self.is_fragment and name in ("include-fragment", "cache-lookup"):
            message = (
                f"<{name}> cannot be used in a policy fragment; use it in the including policy"
            )
            self.report(policy, FRAGMENT_RULE, message)
        if holder == "wait" and name not in WAIT_CHILDREN:
            message = (
                f"<{name}> cannot be a direct child of <wait>; <wait> holds only "
                "send-request, cache-lookup-value and choose"
            )
            self.report(policy, POLICY_SECTION, message)
        usage = USAGE.get(name)
        if usage is None or self.is_fragment:
            return
        if not self._check_scope(policy, name, usage) and section is not None:
            self._check_placement(policy, name, usage, section)

    def _check_base(self, policy: Element, container: Element, section: str | None) -> None:
        if self.is_fragment:
            message = "<base/> cannot be used in a policy fragment; remove it"
            self.report(policy, BASE_MISUSE, message)
        elif container.tag not in SECTIONS:
            message = (
                f"<base/> must be a direct child of the {section} section, not inside "
                f"<{container.tag}>; move it up"
            )
            self.report(policy, BASE_MISUSE, message)

    def _check_scope(self, policy: Element, name: str, usage: Usage) -> bool:
        """Report a policy unavailable at this scope; True when reported."""
        if self.scope in usage.scopes:
            return False
        if not usage.scopes:
            message = f"<{name}> is only used in GraphQL resolver policies, not in scope policies"
        else:
            allowed = _join(s.value for s in PolicyScope if s in usage.scopes)
            message = (
                f"<{name}> is not allowed at {self.scope.value} scope; use it at {allowed} scope"
            )
        self.report(policy, POLICY_SCOPE, message)
        return True

    def _check_placement(self, policy: Element, name: str, usage: Usage, section: str) -> None:
        if section in usage.sections:
            return
        allowed = _join(s for s in SECTIONS if s in usage.sections)
        where = "section" if len(usage.sections) == 1 else "sections"
        message = (
            f"<{name}> is not allowed in the {section} section; move it to the {allowed} {where}"
        )
        self.report(policy, POLICY_SECTION, message)

    # ------------------------------------------------------------------ repeats
    def _check_repeats(self, containers: list[Element], where: str, per_document: bool) -> None:
        """Report a limited policy that can run more often than allowed in containers."""
        for name, uses in _limited_uses(containers).items():
            usage = USAGE[name]
            limit = usage.per_document if per_document else usage.per_section
            if limit is None or len(uses) <= limit:
                continue
            if sum(_most_on_a_path(c, name) for c in containers) > limit:
                message = (
                    f"<{name}> can be used only once in {where}; remove or merge the extra one"
                )
                self.report(uses[limit], POLICY_REPEATED, message)

    # ------------------------------------------------------------------ attribute choices
    def _check_attribute_choices(self, root: Element) -> None:
        for element in root.iter():
            if element.tag in _CHOICE_PATHS:
                self._check_choices_below(element, str(element.tag))

    def _check_choices_below(self, element: Element, path: str) -> None:
        for choice in ATTRIBUTE_CHOICES.get(path, ()):
            self._check_choice(element, choice)
        for child in element:
            child_path = f"{path}/{child.tag}"
            if child_path in _CHOICE_PATHS:
                self._check_choices_below(child, child_path)

    def _check_choice(self, element: Element, choice: AttributeChoice) -> None:
        present = [a for a in choice.attributes if a in element.attrib]
        if not choice.kind.violated(len(present), len(choice.attributes)):
            return
        names = ", ".join(choice.attributes)
        has = f"it has {_join(present)}" if present else "it has none of them"
        message = f"<{element.tag}> needs {choice.kind.value} {names}; {has}"
        self.report(element, ATTRIBUTE_CHOICE, message)


def _policy_names() -> frozenset[str]:
    return load_schema().policy_names


def _join(items: Iterable[str]) -> str:
    words = list(items)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def _most_on_a_path(container: Element, name: str) -> int:
    """How many times name can run in one pass through container (choose: one branch)."""
    total = 0
    for child in container:
        if child.tag == name:
            total += 1
        elif child.tag in NESTING:
            total += _most_on_a_path(child, name)
        elif child.tag == "choose":
            total += max((_most_on_a_path(b, name) for b in child if b.tag in BRANCHES), default=0)
    return total


def _limited_uses(containers: list[Element]) -> dict[str, list[Element]]:
    """Every use of a policy with a usage limit, by name, in document order."""
    uses: dict[str, list[Element]] = {}
    for container in containers:
        _collect_limited(container, uses)
    return uses


def _collect_limited(container: Element, uses: dict[str, list[Element]]) -> None:
    for child in container:
        tag = child.tag
        if tag in LIMITED:
            uses.setdefault(str(tag), []).append(child)
        elif tag in NESTING or tag == "choose" or tag in BRANCHES:
            _collect_limited(child, uses)
