"""SemEval XML: hostile entities and DTDs, deep nesting, broken markup, wrong structure, odd polarities."""
from __future__ import annotations

from typing import Iterator

from mtl_core.selftest.bad_inputs.cases import (
    Case,
    files_for,
    good_lines,
    join,
    replace_line,
)

XML_HEAD = '<?xml version="1.0"?>\n'
LAUGHS = XML_HEAD + '<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n' + "".join(
    f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10)) + \
    ']>\n<sentences><sentence id="1"><text>&lol9;</text></sentence></sentences>\n'


def xml_cases() -> Iterator[Case]:
    body = '<sentences><sentence id="1"><text>{}</text></sentence></sentences>\n'
    hostile = {
        "billion laughs": (LAUGHS, 3),
        "quadratic blowup": (XML_HEAD + f'<!DOCTYPE s [<!ENTITY a "{"x" * 50000}">]>\n' + body.format("&a;" * 5000), 2),
        "external entity, file": (XML_HEAD + '<!DOCTYPE s [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
                                  + body.format("&xxe;"), 2),
        "external entity, http": (XML_HEAD + '<!DOCTYPE s [<!ENTITY xxe SYSTEM "http://127.0.0.1:1/x">]>\n'
                                  + body.format("&xxe;"), 2),
        "parameter entity": (XML_HEAD + '<!DOCTYPE s [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>\n'
                             + body.format("hi"), 2),
        "external DTD": (XML_HEAD + '<!DOCTYPE sentences SYSTEM "http://127.0.0.1:1/evil.dtd">\n' + body.format("x"),
                         2),
        "internal DTD": (XML_HEAD + "<!DOCTYPE sentences [<!ELEMENT sentences ANY>]>\n" + body.format("x"), 2),
        "public DTD": (XML_HEAD + '<!DOCTYPE sentences PUBLIC "-//x//y" "http://127.0.0.1:1/y.dtd">\n'
                       + body.format("x"), 2),
    }
    for how in ("semeval", "auto", "upload"):
        for what, (xml, line) in hostile.items():
            yield Case(f"{what} / semeval / {how}", files_for("semeval", how, xml.encode()), how, "error", line=line)
        for depth in (1000, 100_000):
            deep = "<sentences>" + "<a>" * depth + "</a>" * depth + "</sentences>"
            yield Case(f"{depth} nested elements / semeval / {how}", files_for("semeval", how, deep.encode()), how,
                       "error")
        deep = '<sentences><sentence id="1"><text>hi</text>' + "<b>" * 50_000 + "</b>" * 50_000 + \
            "</sentence></sentences>"
        yield Case(f"deep nesting in a sentence / semeval / {how}", files_for("semeval", how, deep.encode()), how,
                   "error")
        for k in (3, 6):
            lines = good_lines("semeval")
            for what, bad in (("unclosed tag", lines[k - 1].replace("</text>", "")),
                              ("bare ampersand", lines[k - 1].replace("soup", "soup & bread")),
                              ("bare less-than", lines[k - 1].replace("soup", "soup < bread"))):
                yield Case(f"{what} on line {k} / semeval / {how}",
                           files_for("semeval", how, join(replace_line("semeval", k, bad))), how, "error", line=k)
        for what, xml in (("wrong root", "<reviews><review/></reviews>"), ("no sentences", "<sentences></sentences>"),
                          ("sentence without text", '<sentences><sentence id="9"/></sentences>'),
                          ("aspect without polarity", '<sentences><sentence id="1"><text>hi</text>'
                           '<aspectCategory category="food"/></sentence></sentences>'),
                          ("truncated file", "\n".join(good_lines("semeval"))[:300])):
            yield Case(f"{what} / semeval / {how}", files_for("semeval", how, xml.encode()), how, "error")
        lines = good_lines("semeval")
        yield Case(f"unknown polarity / semeval / {how}",
                   files_for("semeval", how, join([r.replace('"negative"', '"meh"') for r in lines])), how,
                   "warning", text="unusual polarity")
        yield Case(f"repeated aspect / semeval / {how}", files_for("semeval", how, join(
            [r.replace("</aspectCategories>", '<aspectCategory category="food" polarity="neutral"/>'
                       "</aspectCategories>") for r in lines])), how, "warning", text="twice")
