"""SemEval-2014 Task 4 (ABSA) XML: one task per aspect category, label = its polarity."""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET  # never xml.etree directly: entity expansion, external entities
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from mtl_core.data.corpus import Corpus, make_corpus
from mtl_core.data.loaders.text_io import UTF16_BOMS, line_at, read_bytes
from mtl_core.errors import DataError

TASK_NAMES = {"anecdotes/miscellaneous": "misc"}  # category -> task name, where the category is unwieldy
POLARITIES = ("positive", "negative", "neutral", "conflict")
ABSENT = "absent"  # what a category not mentioned by a sentence means
NO_DTD_FIX = ("Remove the <!DOCTYPE ...> block and its <!ENTITY ...> declarations; "
              "SemEval files need none.")


def _parse(raw: bytes, path: str | Path) -> Any:
    """The XML root, parsed with defusedxml; every parser failure is a DataError."""
    declaration = raw.find(b"<!ENTITY")
    try:
        # entity declarations get their own message (below); any other DTD is refused as such
        return SafeET.fromstring(raw, forbid_dtd=declaration < 0)
    except EntitiesForbidden as e:
        raise DataError(path, f"the XML declares the entity '{e.name}'. Entity declarations can expand to "
                        "gigabytes (the 'billion laughs' attack) or read other files (external "
                        "entities), so MTL Lab refuses them.", NO_DTD_FIX,
                        line=line_at(raw, declaration) if declaration >= 0 else None) from None
    except ExternalReferenceForbidden as e:
        raise DataError(path, f"the XML refers to an external resource ({e.sysid or e.pubid}), which MTL Lab "
                        "refuses to fetch or read.", NO_DTD_FIX) from None
    except DTDForbidden:
        doctype = raw.find(b"<!DOCTYPE")
        raise DataError(path, "the XML has a document type declaration (<!DOCTYPE>), which MTL Lab refuses.",
                        NO_DTD_FIX, line=line_at(raw, doctype) if doctype >= 0 else None) from None
    except SafeET.ParseError as e:
        line = e.position[0] if getattr(e, "position", None) else None
        declared = raw[:200].split(b"?>")[0].lower()
        if not raw.startswith(UTF16_BOMS) and (b"encoding" not in declared or b"utf-8" in declared):
            try:
                raw.decode("utf-8-sig")  # a parse error from Latin-1 bytes in a UTF-8 file gets its own message
            except UnicodeDecodeError as bad:
                raise DataError(path, "the XML is not valid UTF-8 (Latin-1 or Windows text?).",
                                "Re-save it as UTF-8, or name its encoding in the first line, e.g. "
                                '<?xml version="1.0" encoding="ISO-8859-1"?>.',
                                line=line_at(raw, bad.start)) from None
        raise DataError(path, f"cannot parse the XML: {e}.",
                        "Fix the XML at that line (an unclosed tag, or a bare '&' or '<' in the text "
                        "that should be written &amp; or &lt;).", line=line) from None


def load_semeval(path: str | Path, *, max_bytes: int | None = None) -> Corpus:
    """``<sentences><sentence><text/><aspectCategories/>`` -> one task per category.

    A sentence that does not mention a category is absent (``None``) for that task; the task's
    ``absent_label`` records this as "absent". ``anecdotes/miscellaneous`` becomes task ``misc``.
    """
    root = _parse(read_bytes(path, max_bytes), path)
    name = Path(path).name
    if root.tag != "sentences":
        raise DataError(path, f"the root element is <{root.tag}>, but SemEval-2014 ABSA files have "
                        "<sentences> holding <sentence> elements.",
                        "Load a SemEval-2014 Task 4 XML file, or convert the data to CSV with a text "
                        "column and one column per aspect.")
    sentences = root.findall("sentence")
    if not sentences:
        raise DataError(path, "no <sentence> elements under <sentences>.",
                        "Load a SemEval-2014 Task 4 XML file that holds the sentences.")
    texts: list[str] = []
    found: list[dict[str, str]] = []
    warnings, repeated, unknown = [], [], Counter()
    for number, sentence in enumerate(sentences, 1):
        ident = sentence.get("id") or f"#{number}"
        text = sentence.find("text")
        if text is None:
            raise DataError(path, f"<sentence id=\"{ident}\"> has no <text> element.",
                            "Give every <sentence> a <text> element.")
        aspects: dict[str, str] = {}
        for aspect in sentence.iter("aspectCategory"):
            category, polarity = aspect.get("category"), aspect.get("polarity")
            if not category or not polarity:
                raise DataError(path, f"an <aspectCategory> of sentence {ident} lacks its 'category' "
                                "or 'polarity' attribute.",
                                'Write it as <aspectCategory category="food" polarity="positive"/>.')
            task = TASK_NAMES.get(category, category)
            if task in aspects:
                repeated.append(ident + ("" if aspects[task] == polarity else " (different polarity)"))
                continue
            if polarity not in POLARITIES:
                unknown[polarity] += 1
            aspects[task] = polarity
        texts.append(text.text or "")
        found.append(aspects)
    counts = Counter(task for aspects in found for task in aspects)
    if not counts:
        raise DataError(path, f"none of the {len(sentences)} sentence(s) has an <aspectCategory>: no task to learn.",
                        'Load a file whose sentences list their aspects, e.g. <aspectCategories><aspectCategory '
                        'category="food" polarity="positive"/></aspectCategories>.')
    tasks = sorted(counts, key=lambda t: (-counts[t], t))
    annotations = {t: [aspects.get(t) for aspects in found] for t in tasks}
    if repeated:
        warnings.append(f"{name}: sentence(s) {', '.join(repeated[:10])} list an aspect category twice; "
                        "the first is kept (counts are per sentence).")
    if unknown:
        warnings.append(f"{name}: unusual polarity values {dict(unknown)} (expected {', '.join(POLARITIES)}).")
    ids = Counter(s.get("id") for s in sentences if s.get("id"))
    if any(n > 1 for n in ids.values()):
        warnings.append(f"{name}: {sum(n > 1 for n in ids.values())} sentence id(s) occur more than once.")
    corpus = make_corpus(texts, annotations, [str(path)], absent_label=ABSENT)
    corpus.report.warnings += warnings
    return corpus
