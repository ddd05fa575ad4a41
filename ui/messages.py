"""mtl_core's errors and warnings in the words of a page, in one place: the name of the file the user uploaded, not
the server's path to it, and the page's widgets instead of the command line's options (mtl_core keeps its CLI
wording; the CLI user reads that)."""
from __future__ import annotations

import re
from pathlib import Path

from mtl_core.errors import DataError, MTLLabError
from mtl_core.paths import mtl_home

# (mtl_core's words, a page's words); the Data page shows its column pickers above the check's messages.
PAGE_WORDS = [
    (r"no label column found; the text column is", "this file has no label column; the text column is"),
    (r"[Pp]ass label_columns naming the column\(s\) that hold labels \(at most (\d+) distinct values each are "
     r"detected automatically\)\.",
     r"Pick the label column(s) above, under “Label columns” (columns with at most \1 distinct values are "
     r"picked automatically)."),
    (r"[Pp]ass label_columns without the text column\.", "Pick a text column that is not also a label column above."),
    (r"[Pp]ass text_column naming one of", "Pick the text column above, one of"),
    (r"[Pp]ass label_columns naming one of", "Pick the label columns above, among"),
    (r"[Pp]ass domain_column naming one of", "Pick the domain column above, one of"),
    (r"pass label_columns to use it", "pick it under “Label columns” above to use it"),
    (r"\(for a CSV file: name only the other label columns\)",
     "(for a CSV file: pick only the other label columns above, under “Label columns”)"),
    (r"\bthe (text|label|domain)_columns?\b", r"the \1 column"),
    (r"\(or use --data-dir\)", "(or type the folder in “Folder holding the files”)"),
    (r" or --data-dir\b", " or the “Folder holding the files” box"),
]


def page_message(error: MTLLabError | str) -> str:
    """``error``'s text for a page: server paths under the MTL Lab home shortened to the file's name (an upload's
    name is the name the user gave it), CLI options replaced by the page's widgets, and "Fix:" as "What to do:"."""
    text = error.describe() if isinstance(error, DataError) else str(error)
    home = re.escape(str(mtl_home()))
    text = re.sub(home + r"[^\s'\",;:)\]]*", lambda m: Path(m.group()).name, text)
    for pattern, words in PAGE_WORDS:
        text = re.sub(pattern, words, text)
    return text.replace(" Fix: ", "  \nWhat to do: ")
