"""The tolerant policy parser: real exports, restored expressions, positions and errors."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apimsync.policy import (
    EXPRESSION_UNBALANCED,
    XML_FORBIDDEN,
    XML_SYNTAX,
    PolicyDocument,
    PolicySyntaxError,
    Position,
    parse_policy,
)
from tests.conftest import CORPUS

POLICY_FILES = sorted(CORPUS.glob("*/api-management/policies/**/*.xml"))


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")  # keeps CRLF as it is


def corpus_id(path: Path) -> str:
    return path.relative_to(CORPUS).as_posix()


def is_well_formed(path: Path) -> bool:
    try:
        ET.fromstring(read(path))
    except ET.ParseError:
        return False
    return True


WELL_FORMED_FILES = [path for path in POLICY_FILES if is_well_formed(path)]


def test_the_corpus_is_there_and_needs_a_tolerant_parser() -> None:
    assert len(POLICY_FILES) >= 50
    assert len(POLICY_FILES) - len(WELL_FORMED_FILES) >= 15


@pytest.mark.parametrize("path", POLICY_FILES, ids=corpus_id)
def test_every_real_policy_parses(path: Path) -> None:
    document = parse_policy(read(path), corpus_id(path))
    assert document.root.tag in ("policies", "fragment")
    assert document.path == corpus_id(path)


@pytest.mark.parametrize("path", POLICY_FILES, ids=corpus_id)
def test_positions_point_at_each_start_tag_and_attribute_name(path: Path) -> None:
    text = read(path)
    lines = text.replace("\r\n", "\n").split("\n")
    document = parse_policy(text)
    for element, _parent in document.iter_with_parents():
        at = document.position(element)
        local = element.tag.rpartition("}")[2]
        tag = re.match(r"<([^\s/>]+)", lines[at.line - 1][at.column - 1 :])
        assert tag is not None and tag.group(1).rpartition(":")[2] == local
        for name in element.attrib:
            at = document.attribute_position(element, name)
            written = lines[at.line - 1][at.column - 1 :].split("=")[0].strip()
            assert written.rpartition(":")[2] == name.rpartition("}")[2]


@pytest.mark.parametrize("path", WELL_FORMED_FILES, ids=corpus_id)
def test_well_formed_files_give_the_same_tree_as_elementtree(path: Path) -> None:
    text = read(path)
    assert tree_of(parse_policy(text).root) == tree_of(ET.fromstring(text))


def tree_of(element: ET.Element) -> tuple[object, ...]:
    children = tuple(tree_of(child) for child in element)
    return (element.tag, element.attrib, element.text, element.tail, children)


RAW = """<policies>
  <inbound>
    <set-variable name="gpt4" value="@(context.Request.Url.Path.Contains("gpt-4"))" />
    <set-body>@{ var b = context.Request.Body.As<JObject>(); return b["a"] > 1 && true; }</set-body>
  </inbound>
</policies>"""
ESCAPED = (
    RAW.replace('Contains("gpt-4")', "Contains(&quot;gpt-4&quot;)")
    .replace("As<JObject>", "As&lt;JObject&gt;")
    .replace("> 1 && true", "&gt; 1 &amp;&amp; true")
)


@pytest.mark.parametrize("text", [RAW, ESCAPED], ids=["raw", "entity-escaped"])
def test_expressions_are_restored_verbatim(text: str) -> None:
    inbound = parse_policy(text).root[0]
    assert inbound[0].get("value") == '@(context.Request.Url.Path.Contains("gpt-4"))'
    assert inbound[1].text == (
        '@{ var b = context.Request.Body.As<JObject>(); return b["a"] > 1 && true; }'
    )
    assert inbound[0].get("name") == "gpt4"


def test_multi_line_attribute_expressions_keep_their_line_breaks() -> None:
    text = '<a v="@{\r\n  // note\r\n  return 1;\r\n}" w="plain\ntext" />'
    root = parse_policy(text).root
    assert root.get("v") == "@{\n  // note\n  return 1;\n}"
    assert root.get("w") == "plain text"  # XML normalises literal values


SEVENTH_LINE = (
    "<!-- header -->\n<policies>\n  <inbound>\n    <base />\n"
    '    <set-variable value="@(a > "b")" name="x" />\n  </inbound>\n'
    '  <outbound>\n    <set-header name="@(&quot;a&quot;)"\n        exists-action="override" />'
    "\n  </outbound>\n</policies>"
)


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
def test_element_and_attribute_positions(newline: str) -> None:
    document = parse_policy(SEVENTH_LINE.replace("\n", newline))
    outbound = document.root[1]
    assert document.position(outbound) == Position(7, 3)
    header = outbound[0]
    assert document.position(header) == Position(8, 5)
    assert document.attribute_position(header, "name") == Position(8, 17)
    assert document.attribute_position(header, "exists-action") == Position(9, 9)
    assert document.attribute_position(header, "missing") == Position(8, 5)
    assert document.position(document.root) == Position(2, 1)
    variable = document.root[0][1]
    assert document.attribute_position(variable, "name") == Position(5, 38)
    assert variable.get("value") == '@(a > "b")'


def test_an_element_on_line_7_column_5() -> None:
    lines = ["<policies>", "<inbound>", "", "<!-- x -->", "", "\t<base />", "    <set-body />"]
    for newline in ("\n", "\r\n"):
        text = newline.join([*lines, "</inbound>", "</policies>"])
        document = parse_policy(text)
        assert document.position(document.root[0][1]) == Position(7, 5)


def test_positions_survive_changes_to_the_tree_and_refuse_foreign_elements() -> None:
    document = parse_policy("<policies>\n  <inbound>\n    <base />\n  </inbound>\n</policies>")
    inbound = document.root[0]
    base = inbound[0]
    inbound.remove(base)
    inbound.append(ET.Element("new"))
    assert document.position(base) == Position(3, 5)
    with pytest.raises(ValueError, match="not read from"):
        document.position(inbound[0])


def test_namespaced_attributes_have_positions() -> None:
    text = '<policies xmlns:x="urn:x">\n  <a x:b="1" c="2" xml:lang="en" />\n</policies>'
    document = parse_policy(text)
    element = document.root[0]
    assert document.attribute_position(element, "{urn:x}b") == Position(2, 6)
    assert document.attribute_position(element, "c") == Position(2, 14)
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    assert document.attribute_position(element, lang) == Position(2, 20)
    twice = parse_policy('<a xmlns:p="urn:p" xmlns:q="urn:q" p:b="1" q:b="2" />')
    assert twice.attribute_position(twice.root, "{urn:q}b") == Position(1, 44)


def test_iter_with_parents_walks_in_document_order() -> None:
    document = parse_policy("<policies><inbound><base/><a/></inbound><outbound/></policies>")
    pairs = [(e.tag, None if p is None else p.tag) for e, p in document.iter_with_parents()]
    assert pairs == [
        ("policies", None),
        ("inbound", "policies"),
        ("base", "inbound"),
        ("a", "inbound"),
        ("outbound", "policies"),
    ]


def test_comments_are_kept_aside_with_their_positions() -> None:
    text = "<!-- head -->\r\n<policies>\r\n  <!-- a\r\nb --><inbound />\r\n</policies>"
    document = parse_policy(text)
    assert [(c.position, c.text) for c in document.comments] == [
        (Position(1, 1), " head "),
        (Position(3, 3), " a\nb "),
    ]
    assert [e.tag for e in document.root] == ["inbound"]


def test_xmlschema_validates_the_parsed_tree() -> None:
    schema = xmlschema.XMLSchema(
        """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
          <xs:element name="policies"><xs:complexType><xs:sequence>
            <xs:element name="set-variable" maxOccurs="unbounded"><xs:complexType>
              <xs:attribute name="name" type="xs:string" use="required"/>
              <xs:attribute name="value" use="required"><xs:simpleType>
                <xs:restriction base="xs:string"><xs:pattern value="@\\(.*\\)"/></xs:restriction>
              </xs:simpleType></xs:attribute>
            </xs:complexType></xs:element>
          </xs:sequence></xs:complexType></xs:element>
        </xs:schema>"""
    )
    good = parse_policy('<policies><set-variable name="a" value="@(x < "y")" /></policies>')
    assert schema.is_valid(good.root)
    bad = parse_policy('<policies><set-variable value="@(1)" /></policies>')
    assert not schema.is_valid(bad.root)


def error_of(text: str) -> PolicySyntaxError:
    with pytest.raises(PolicySyntaxError) as raised:
        parse_policy(text, "api-management/policies/global.xml")
    return raised.value


def test_an_unclosed_expression_is_reported_where_it_goes_wrong() -> None:
    error = error_of('<policies>\n  <inbound>\n    <set-body>@{ return "x"; </set-body>\n')
    assert (error.code, error.line, error.column) == (EXPRESSION_UNBALANCED, 3, 29)
    assert str(error).startswith("api-management/policies/global.xml:3:29: ")
    assert "'@{' (line 3, column 15) never closes: '}' expected" in error.message


def test_broken_xml_outside_expressions_is_an_xml_syntax_error() -> None:
    error = error_of(
        '<policies>\r\n  <inbound>\r\n    <base v="@(1)">\r\n  </inbound>\r\n</policies>'
    )
    assert (error.code, error.line, error.column) == (XML_SYNTAX, 4, 5)
    assert "mismatched tag" in error.message


def test_an_xml_error_before_an_unclosed_expression_is_reported_first() -> None:
    error = error_of("<policies>\n  <a></b>\n  <c v='@(' />\n</policies>")
    assert (error.code, error.line) == (XML_SYNTAX, 2)


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("", 1, 1),
        ("<policies>\n<inbound>", 2, 10),
        ("<policies>&nbsp;</policies>", 1, 11),
        ("<policies>\n  <a b=1 />\n</policies>", 2, 8),
        ("<policies>\x01</policies>", 1, 11),
        ("<policies>@(\x01)</policies>", 1, 13),
        ("<policies/>\n<policies/>", 2, 1),
        ("<x:policies/>", 1, 1),
    ],
)
def test_xml_syntax_errors_say_where(text: str, line: int, column: int) -> None:
    error = error_of(text)
    assert (error.code, error.line, error.column) == (XML_SYNTAX, line, column)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<policies><inbound><set-body>&lol9;</set-body></inbound></policies>"""


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        (BILLION_LAUGHS, 2, 1),
        ('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', 1, 1),
        ('<!-- c -->\n<?pi x?>\n  <!doctype policies SYSTEM "http://example.com/p.dtd">', 3, 3),
        ('<!ENTITY e "x"><policies>&e;</policies>', 1, 1),
    ],
    ids=["billion-laughs", "external-entity", "external-dtd", "entity-declaration"],
)
def test_dtds_and_entity_declarations_are_refused(text: str, line: int, column: int) -> None:
    error = error_of(text)
    assert (error.code, error.line, error.column) == (XML_FORBIDDEN, line, column)
    assert "root:" not in error.message


FRAGMENTS = [
    "<policies>", "</policies>", "<inbound>", "</inbound>", "<base />", "<a b='1'>", "</a>",
    '<set-variable name="x" value="', '" />', "@(", "@{", ")", "}", '"', "'", "&quot;", "&",
    "&amp;", "<", ">", "/*", "*/", "//", "\n", "\r\n", "$\"", '@"', "{", "<!--", "-->",
    "<![CDATA[", "]]>", "<?x ?>", "<!DOCTYPE x>", "xmlns:p='u'", "<p:a/>", "&#1;", "\ue000",
    "text", " ",
]  # fmt: skip


@pytest.mark.slow  # a fuzz run: 300 generated texts
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)))
def test_any_text_either_parses_or_raises_a_policy_syntax_error(text: str) -> None:
    try:
        document = parse_policy(text)
    except PolicySyntaxError as error:
        assert error.code in (XML_SYNTAX, EXPRESSION_UNBALANCED, XML_FORBIDDEN)
        assert error.line >= 1 and error.column >= 1
    else:
        assert isinstance(document, PolicyDocument)
        for element, _parent in document.iter_with_parents():
            assert document.position(element).line >= 1
