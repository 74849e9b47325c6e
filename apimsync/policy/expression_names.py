"""The types and members a syntactically valid policy expression uses, checked.

:func:`name_problems` walks an expression's tree and reports, at offsets into its code:

* ``expression-type``: a type the documentation's table does not list, named in a type
  position (``new``, a cast, a declaration, a type argument) or as the start of a
  member access (``File.ReadAllText``, ``System.Net.WebClient``);
* ``expression-member``: a member of a restricted type the table does not allow
  (``DateTime.TryParse``), or one the ``context`` model does not have
  (``context.Request.Header``), with the nearest known name as a suggestion.

Where the documentation and practice disagree (a type or an argument count accepted
policies use, a member only the policy toolkit names), the problem is a warning, never an
error. Without a compiler there are no types for locals, so members are followed only
along one chain: from ``context``, a cast, ``new`` or a type name, through members,
calls and indexers.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from apimsync.policy.expression_rules import (
    DOCUMENTED,
    NOT_NAMED,
    TYPE_ARGUMENT,
    DotnetType,
    ExpressionRules,
    ModelMember,
    ModelType,
    TypeStatus,
    generic_base,
)

if TYPE_CHECKING:
    from tree_sitter import Node

    from apimsync.policy.csharp import ParsedCode

EXPRESSION_SYNTAX = "expression-syntax"
EXPRESSION_TYPE = "expression-type"
EXPRESSION_MEMBER = "expression-member"

NAMED_VALUE_MARK = "__nv"
"""How a ``{{named value}}`` is written when the expression is parsed."""

_OBJECT_MEMBERS = frozenset({"ToString", "Equals", "GetHashCode"})
# Where a name declares a local: (node type, field) pairs, and node types whose first
# identifier child is the name.
_DECLARING_FIELDS = frozenset(
    {
        ("variable_declarator", "name"),
        ("parameter", "name"),
        ("local_function_statement", "name"),
        ("declaration_pattern", "name"),
        ("declaration_expression", "name"),
        ("recursive_pattern", "name"),
        ("catch_declaration", "name"),
        ("tuple_pattern", "name"),
        ("from_clause", "name"),
        ("join_clause", "name"),
        ("query_continuation", "name"),
        ("foreach_statement", "left"),
    }
)
_DECLARING_FIRST = frozenset({"let_clause", "parenthesized_variable_designation"})
_NAMES = frozenset({"identifier", "predefined_type", "generic_name", "alias_qualified_name"})
_TYPE_NODES = frozenset(
    {
        "identifier",
        "predefined_type",
        "generic_name",
        "qualified_name",
        "alias_qualified_name",
        "array_type",
        "nullable_type",
        "tuple_type",
        "implicit_type",
    }
)


@dataclass(frozen=True)
class ExpressionProblem:
    """A problem of one expression, ``offset`` characters into the text it was found in
    (its code here; :func:`~apimsync.policy.expression_check.check_expression` counts from
    the ``@``)."""

    offset: int
    code: str
    is_error: bool
    message: str


def name_problems(parsed: ParsedCode, rules: ExpressionRules) -> list[ExpressionProblem]:
    """The type and member problems of a parsed expression without syntax errors, at
    offsets into its code, each once, in order."""
    found = dict.fromkeys(_NameCheck(parsed, rules).run())
    return sorted(found, key=lambda problem: problem.offset)


@dataclass(frozen=True)
class _Method:
    """A method of the model, named but not yet called."""

    member: ModelMember
    name_node: Node


_Value = str | _Method
"""What a step of a member chain holds: the type of its value, or a method to call."""


class _NameCheck:
    """The type and member checks over one parsed, syntactically valid expression."""

    def __init__(self, parsed: ParsedCode, rules: ExpressionRules) -> None:
        self.parsed = parsed
        self.rules = rules
        self.found: list[ExpressionProblem] = []
        self.locals = _declared_names(parsed.root)

    def run(self) -> list[ExpressionProblem]:
        body = _expression_body(self.parsed.root)
        stack: list[tuple[Node, str | None]] = [(body, None)]
        while stack:
            node, field = stack.pop()
            if self._in_type_position(node, field):
                self._type(node)
                continue
            self._visit(node)
            stack.extend(
                (child, node.field_name_for_child(index))
                for index, child in reversed(list(enumerate(node.children)))
            )
        return self.found

    # ------------------------------------------------------------------ dispatch
    @staticmethod
    def _in_type_position(node: Node, field: str | None) -> bool:
        parent = node.parent
        if parent is None or node.type not in _TYPE_NODES:
            return False
        if field == "type":
            return True
        if parent.type == "as_expression" and field == "right":
            return True
        return parent.type == "type_argument_list"

    def _visit(self, node: Node) -> None:
        kind = node.type
        if kind == "member_access_expression":
            head = node.child_by_field_name("expression")
            if head is not None and head.type in _NAMES:
                self._chain_head(head)
        elif kind == "cast_expression":
            self._follow_typed(node, node.child_by_field_name("type"))
        elif kind == "object_creation_expression":
            self._creation(node)
        elif kind == "generic_name":
            self._type_arguments(node)
        elif kind == "constant_pattern":
            named = node.named_children
            if len(named) == 1 and named[0].type == "identifier":
                self._simple_type(named[0], as_value=True)

    # ------------------------------------------------------------------ reporting
    def _report(self, node: Node, code: str, is_error: bool, message: str) -> None:
        self.found.append(ExpressionProblem(self.parsed.start(node), code, is_error, message))

    def _report_type(self, node: Node, name: str, status: TypeStatus) -> None:
        if status in (TypeStatus.ALLOWED, TypeStatus.IMPLIED):
            return
        if status is TypeStatus.UNDOCUMENTED:
            note = self.rules.undocumented.get(name, "")
            self._report(
                node,
                EXPRESSION_TYPE,
                False,
                f"type '{name}' is not in the documented list of types policy expressions "
                f"may use; API Management may still accept it ({note})",
            )
        elif status is TypeStatus.DISALLOWED:
            self._report(
                node,
                EXPRESSION_TYPE,
                True,
                f"type '{name}' is not allowed in policy expressions (API Management accepts "
                "only the .NET types its documentation lists); use an allowed type instead",
            )
        else:
            self._report(
                node,
                EXPRESSION_TYPE,
                False,
                f"'{name}' is not a local variable, 'context' or a type policy expressions may "
                f"use{self._suggest(name, self._usable_names)}",
            )

    @property
    def _usable_names(self) -> list[str]:
        """Simple names of the types an expression may use, for suggestions."""
        rules = self.rules
        usable = [
            simple
            for simple, full in rules.simple_names.items()
            if rules.type_status(full) in (TypeStatus.ALLOWED, TypeStatus.IMPLIED)
        ]
        official = rules.official_sources
        return usable + [key for key, model in rules.model.items() if model.named in official]

    @staticmethod
    def _suggest(name: str, candidates: Iterable[str]) -> str:
        names = list(candidates)
        folded = [c for c in names if c.lower() == name.lower()]
        close = folded or difflib.get_close_matches(name, names, n=1, cutoff=0.75)
        return f": did you mean '{close[0]}'?" if close else ""

    # ------------------------------------------------------------------ types
    def _type(self, node: Node) -> None:
        """Check a type written in a type position, with its type arguments."""
        kind = node.type
        if kind == "implicit_type":
            return
        if kind in ("array_type", "nullable_type"):
            inner = node.child_by_field_name("type")
            if inner is not None:
                self._type(inner)
            return
        if kind == "tuple_type":
            for element in node.named_children:
                inner = element.child_by_field_name("type")
                if inner is not None:
                    self._type(inner)
            return
        self._type_arguments(node)
        if kind == "predefined_type":
            full = self.rules.keywords.get(_text(node))
            if full is not None:
                self._report_type(node, full, self.rules.type_status(full))
        elif kind in ("identifier", "generic_name"):
            self._simple_type(node, as_value=False)
        else:
            full = generic_base(_qualified_text(node))
            self._report_type(node, full, self._qualified_status(full))

    def _type_arguments(self, node: Node) -> None:
        for child in node.named_children:
            if child.type == "type_argument_list":
                for argument in child.named_children:
                    self._type(argument)
            elif child.type in ("qualified_name", "generic_name"):
                self._type_arguments(child)

    def _simple_type(self, node: Node, as_value: bool) -> str | None:
        """Check a type written by its simple name; its full name (or model key) if known."""
        name = _simple_name(node)
        if name in self.locals or name.startswith(NAMED_VALUE_MARK):
            return None
        model = self.rules.named_model_type(name)
        if model is not None:
            self._report_model_name(node, model)
            return model.key
        full = self.rules.simple_names.get(name)
        if full is None:
            if not as_value:
                self._report_type(node, name, TypeStatus.UNKNOWN)
            return None
        self._report_type(node, full, self.rules.type_status(full))
        return full

    def _report_model_name(self, node: Node, model: ModelType) -> None:
        if model.named in self.rules.official_sources:
            return
        self._report(
            node,
            EXPRESSION_TYPE,
            False,
            f"type '{model.key}' is not named in the policy expressions documentation; "
            f"API Management accepts it in practice ({model.note})",
        )

    def _qualified_status(self, full: str) -> TypeStatus:
        status = self.rules.type_status(full)
        if status is TypeStatus.UNKNOWN and full.split(".")[0] in self.rules.namespace_roots:
            return TypeStatus.DISALLOWED
        return status

    # ------------------------------------------------------------------ member chains
    def _chain_head(self, head: Node) -> None:
        """The leftmost name of ``a.b.c``: context, a local, a namespace or a type."""
        if head.type == "predefined_type":
            full = self.rules.keywords.get(_text(head))
            if full is not None:
                self._follow(head, full)
            return
        name = _simple_name(head)
        if head.type == "alias_qualified_name":
            name = _simple_name(head.child_by_field_name("name") or head)
        if name in self.locals or name.startswith(NAMED_VALUE_MARK):
            return
        if name == "context" and head.type == "identifier":
            self._follow(head, "context")
        elif name in self.rules.namespace_roots:
            self._qualified_head(head, name)
        else:
            known = self._simple_type(head, as_value=False)
            if known is not None:
                self._follow(head, known)

    def _qualified_head(self, head: Node, root: str) -> None:
        """``System.IO.File.ReadAllText``: read namespaces, then the type, then members."""
        namespace, node = root, head
        while True:
            access = node.parent
            if access is None or access.type != "member_access_expression":
                return
            name = _simple_name(access.child_by_field_name("name") or access)
            dotted = f"{namespace}.{name}"
            node = access
            if dotted not in self.rules.namespaces:
                break
            namespace = dotted
        # Nested types (TimeZoneInfo.AdjustmentRule) stay part of the type.
        while (parent := node.parent) is not None and parent.type == "member_access_expression":
            nested = f"{dotted}.{_simple_name(parent.child_by_field_name('name') or parent)}"
            if nested not in self.rules.known_types:
                break
            dotted, node = nested, parent
        status = self._qualified_status(dotted)
        self._report_type(head, dotted, status)
        if status is not TypeStatus.DISALLOWED:
            self._follow(node, dotted)

    def _follow_typed(self, node: Node, type_node: Node | None) -> None:
        """Follow the members used on a cast's value, when its type is known."""
        if type_node is None:
            return
        key = self._type_key(type_node)
        if key is not None:
            self._follow(node, key)

    def _type_key(self, type_node: Node) -> str | None:
        """The model key or .NET full name a written type means (no reporting)."""
        if type_node.type == "predefined_type":
            return self.rules.keywords.get(_text(type_node))
        if type_node.type in ("identifier", "generic_name"):
            name = _simple_name(type_node)
            model = self.rules.named_model_type(name)
            return model.key if model is not None else self.rules.simple_names.get(name)
        if type_node.type == "qualified_name":
            return generic_base(_qualified_text(type_node))
        if type_node.type == "array_type":
            element = type_node.child_by_field_name("type")
            key = None if element is None else self._type_key(element)
            return None if key is None else f"{key}[]"
        return None

    def _creation(self, node: Node) -> None:
        """``new T(...)``: T's constructor must be allowed; members used on it are followed."""
        type_node = node.child_by_field_name("type")
        key = None if type_node is None else self._type_key(type_node)
        if key is None or type_node is None:
            return
        dotnet = self.rules.allowed.get(key)
        members = None if dotnet is None else dotnet.members
        if dotnet is not None and members is not None and "(Constructor)" not in members:
            self._report(
                type_node,
                EXPRESSION_MEMBER,
                True,
                f"the constructor of {key} is not allowed in policy expressions; "
                f"{_allowed_list(dotnet)}",
            )
            return
        self._follow(node, key)

    def _follow(self, node: Node, type_key: str) -> None:
        """Walk up from ``node`` (whose value is of ``type_key``) through members, calls,
        indexers and parentheses, checking each member against what the type has."""
        current: str | _Method | None = type_key
        while current is not None:
            parent = node.parent
            if parent is None:
                return
            field = _field_of(parent, node)
            current = self._step(parent, field, current)
            node = parent

    def _step(
        self, parent: Node, field: str | None, current: str | _Method
    ) -> str | _Method | None:
        kind = parent.type
        if isinstance(current, _Method):
            if kind == "invocation_expression" and field == "function":
                return self._call(current, parent)
            return None
        if kind == "member_access_expression" and field == "expression":
            return self._member(current, parent.child_by_field_name("name"))
        if kind == "conditional_access_expression" and field == "condition":
            binding = next(
                (c for c in parent.named_children if c.type.endswith("_binding_expression")), None
            )
            if binding is None:
                return None
            if binding.type == "element_binding_expression":
                return self._indexer(current)
            return self._member(current, binding.child_by_field_name("name"))
        if kind == "element_access_expression" and field == "expression":
            return self._indexer(current)
        if kind == "invocation_expression" and field == "function":
            return current if current in self.rules.allowed else None
        if kind == "parenthesized_expression":
            return current
        return None

    def _member(self, type_key: str, name_node: Node | None) -> str | _Method | None:
        if name_node is None:
            return None
        name = _simple_name(name_node)
        model = self.rules.model.get(type_key)
        if model is not None:
            return self._model_member(model, name, name_node)
        dotnet = self.rules.allowed.get(type_key)
        if dotnet is not None and dotnet.restricted:
            return self._dotnet_member(dotnet, name, name_node)
        return None

    def _model_member(self, model: ModelType, name: str, name_node: Node) -> str | _Method | None:
        member = model.members.get(name)
        if member is None:
            if not model.is_open and name not in _OBJECT_MEMBERS:
                self._report(
                    name_node,
                    EXPRESSION_MEMBER,
                    True,
                    f"'{name}' is not a member of {self._label(name_node, model)}"
                    + (
                        self._suggest(name, model.members)
                        or f"; its members are {', '.join(sorted(model.members))}"
                    ),
                )
            return None
        if member.source != DOCUMENTED:
            self._report(
                name_node,
                EXPRESSION_MEMBER,
                False,
                f"'{name}' of {self._label(name_node, model)} is not in the policy expressions "
                f"documentation ({member.note}; from {self.rules.source_title(member.source)})",
            )
        if member.is_method:
            return _Method(member, name_node)
        return member.type

    @staticmethod
    def _label(name_node: Node, model: ModelType) -> str:
        """How the value whose member is named is written (``context.Request``), or its
        type where that is long."""
        access = name_node.parent
        target = None if access is None else access.named_children[0]
        if access is not None and access.type == "member_binding_expression":
            target = access.parent.named_children[0] if access.parent is not None else None
        text = "" if target is None else " ".join(_text(target).split())
        if 0 < len(text) <= 60:
            return text
        return "this value" if model.named == NOT_NAMED else f"this {model.key}"

    def _call(self, method: _Method, call: Node) -> str | None:
        member, name_node = method.member, method.name_node
        arguments = call.child_by_field_name("arguments")
        count = (
            0
            if arguments is None
            else sum(1 for c in arguments.named_children if c.type == "argument")
        )
        if member.arguments is not None and count not in member.arguments:
            self._report_arguments(method, count)
        result = member.type
        if result == TYPE_ARGUMENT:
            result = self._type_argument_result(member, name_node)
        return result

    def _report_arguments(self, method: _Method, count: int) -> None:
        member = method.member
        expected = " or ".join(str(n) for n in sorted(member.arguments or ()))
        for use in member.undocumented_arguments:
            if count in use.counts:
                self._report(
                    method.name_node,
                    EXPRESSION_MEMBER,
                    False,
                    f"{member.name} with {count} argument(s) is not documented (it takes "
                    f"{expected}), but {use.note}",
                )
                return
        self._report(
            method.name_node,
            EXPRESSION_MEMBER,
            True,
            f"{member.name} takes {expected} argument(s), not {count}",
        )

    def _type_argument_result(self, member: ModelMember, name_node: Node) -> str | None:
        arguments = [
            argument
            for child in name_node.named_children
            if child.type == "type_argument_list"
            for argument in child.named_children
        ]
        if len(arguments) != 1:
            return None
        key = self._type_key(arguments[0])
        if member.type_arguments is not None:
            written = _text(arguments[0])
            if key not in member.type_arguments:
                allowed = ", ".join(sorted(t.rpartition(".")[2] for t in member.type_arguments))
                self._report(
                    arguments[0],
                    EXPRESSION_TYPE,
                    True,
                    f"{member.name}<{written}> is not supported: the documentation lists "
                    f"{member.name}<T> for T one of {allowed}",
                )
        return key

    def _indexer(self, type_key: str) -> str | None:
        dotnet = self.rules.allowed.get(type_key)
        return None if dotnet is None else dotnet.indexer

    def _dotnet_member(self, dotnet: DotnetType, name: str, name_node: Node) -> str | None:
        found: DotnetType | None = dotnet
        while found is not None:
            if _allows(found, name, name_node):
                return found.results.get(name)
            found = self.rules.allowed.get(found.base) if found.base else None
        self._report(
            name_node,
            EXPRESSION_MEMBER,
            True,
            f"{dotnet.name}.{name} is not allowed in policy expressions; {_allowed_list(dotnet)}"
            + self._suggest(name, dotnet.members or ()),
        )
        return None


def _allows(dotnet: DotnetType, name: str, name_node: Node) -> bool:
    if dotnet.members is not None:
        return name in dotnet.members
    if name in dotnet.excluded:
        return False
    if f"{name}()" in dotnet.excluded:
        return not _called_without_arguments(name_node)
    return True


def _called_without_arguments(name_node: Node) -> bool:
    access = name_node.parent
    call = None if access is None else access.parent
    return call is not None and call.type == "invocation_expression" and not _argument_count(call)


def _argument_count(call: Node) -> int:
    arguments = call.child_by_field_name("arguments")
    return 0 if arguments is None else sum(c.type == "argument" for c in arguments.named_children)


def _binding(conditional: Node) -> Node | None:
    """The ``.Member`` or ``[index]`` of ``value?.Member`` / ``value?[index]``."""
    return next(
        (c for c in conditional.named_children if c.type.endswith("_binding_expression")), None
    )


def _allowed_list(dotnet: DotnetType) -> str:
    if dotnet.members is None:
        excluded = ", ".join(sorted(dotnet.excluded))
        return f"{dotnet.name} allows every member except {excluded}"
    members = ", ".join(sorted(m for m in dotnet.members if m != "(Constructor)"))
    constructor = "its constructor and " if "(Constructor)" in dotnet.members else ""
    return f"{dotnet.name} allows only {constructor}{members}"


def _expression_body(root: Node) -> Node:
    """The node that holds the expression's own code inside the wrapper."""
    method = next(_descendants(root, "method_declaration"), None)
    body = None if method is None else method.child_by_field_name("body")
    return root if body is None else body


def _descendants(node: Node, kind: str) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == kind:
            yield current
        stack.extend(reversed(current.children))


def _declared_names(root: Node) -> frozenset[str]:
    """Every name the expression declares anywhere (locals, parameters, functions)."""
    names: set[str] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "implicit_parameter":
            names.add(_text(node))
        first = node.type in _DECLARING_FIRST
        for index, child in enumerate(node.children):
            if child.type != "identifier":
                continue
            if first or (node.type, node.field_name_for_child(index)) in _DECLARING_FIELDS:
                names.add(_text(child))
                first = first and node.type != "let_clause"
        stack.extend(node.children)
    return frozenset(names)


def _field_of(parent: Node, child: Node) -> str | None:
    for index, candidate in enumerate(parent.children):
        if candidate == child:
            return parent.field_name_for_child(index)
    return None


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", errors="replace")


def _simple_name(node: Node) -> str:
    """The name of an identifier, or of a generic name without its type arguments."""
    if node.type == "generic_name":
        identifier = next((c for c in node.children if c.type == "identifier"), None)
        return "" if identifier is None else _text(identifier)
    return _text(node)


def _qualified_text(node: Node) -> str:
    """``System.Text.StringBuilder`` from a qualified name, ``global::`` dropped."""
    text = "".join(_text(node).split())
    return text.removeprefix("global::")
