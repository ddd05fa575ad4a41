"""Loaders on the real datasets and on small hand-made good and bad files."""
from __future__ import annotations

import pytest

from mtl_core.data.loaders import FORMATS, detect_format, load_files
from mtl_core.data.loaders.conll import load_conll
from mtl_core.data.loaders.csv_loader import load_csv
from mtl_core.data.loaders.text_io import read_text
from mtl_core.errors import ConfigError, DataError
from mtl_core.tasks import CLASSIFICATION, TAGGING


def write(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


# --- real data ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name, task", [("yelp_labelled.txt", "yelp"), ("amazon_cells_labelled.txt", "amazon"),
                                        ("imdb_labelled.txt", "imdb")])
def test_uci_file_gives_1000_balanced_rows(datasets_dir, name, task):
    path = datasets_dir / "uci_sentiment" / name
    assert detect_format(path) == "uci"
    corpus = load_files([path])  # imdb has unbalanced quotes: a CSV reader would give 748 rows
    assert len(corpus) == 1000 and list(corpus.tasks) == [task]
    assert corpus.report.label_counts[task] == {"0": 500, "1": 500}
    assert corpus.report.files == [str(path)]
    assert all(t and "\t" not in t for t in corpus.texts)


def test_two_uci_files_are_two_tasks_with_disjoint_rows(datasets_dir):
    folder = datasets_dir / "uci_sentiment"
    corpus = load_files([folder / "yelp_labelled.txt", folder / "amazon_cells_labelled.txt"])
    assert list(corpus.tasks) == ["yelp", "amazon"] and len(corpus) == 2000
    yelp, amazon = set(corpus.present("yelp")), set(corpus.present("amazon"))
    assert yelp == set(range(1000)) and amazon == set(range(1000, 2000))
    assert corpus.report.absent_counts == {"yelp": 1000, "amazon": 1000}
    assert corpus.origins[0].endswith("yelp_labelled.txt") and corpus.origins[-1].endswith("amazon_cells_labelled.txt")
    assert any("repeat an earlier text" in w for w in corpus.report.warnings)


def test_semeval_aspects_are_tasks_with_absent_masked(datasets_dir):
    path = datasets_dir / "semeval2014_restaurants" / "Restaurants_Train_v2.xml"
    assert detect_format(path) == "semeval"
    corpus = load_files([path])
    assert len(corpus) == 3041
    assert set(corpus.tasks) == {"food", "service", "price", "ambience", "misc"}
    counts = corpus.report.label_counts
    assert counts["food"] == {"positive": 867, "negative": 209, "neutral": 90, "conflict": 66}
    assert counts["service"] == {"positive": 324, "negative": 218, "neutral": 20, "conflict": 35}
    assert counts["ambience"] == {"positive": 263, "negative": 98, "neutral": 23, "conflict": 47}
    assert counts["price"] == {"positive": 179, "negative": 115, "neutral": 10, "conflict": 17}
    # README: 1132 misc annotations; sentences 3561 and 258 list "anecdotes/miscellaneous positive" twice
    assert counts["misc"] == {"positive": 544, "negative": 199, "neutral": 357, "conflict": 30}
    assert corpus.report.absent_counts["food"] == 3041 - 1232
    assert all(spec.absent_label == "absent" and spec.kind == CLASSIFICATION for spec in corpus.tasks.values())
    assert corpus.texts[0] == "But the staff was so horrible to us."
    assert corpus.annotations["service"][0] == "negative" and corpus.annotations["food"][0] is None
    assert any("3561" in w for w in corpus.report.warnings)


def test_conll_spanish_is_latin1_with_pos_and_ner(datasets_dir):
    path = datasets_dir / "conll2002_spanish" / "esp.testa"
    assert detect_format(path) == "conll"
    corpus = load_files([path])
    assert len(corpus) == 1915 and list(corpus.tasks) == ["pos", "ner"]
    assert all(spec.kind == TAGGING for spec in corpus.tasks.values())
    assert sum(len(t) for t in corpus.tokens) == 52923
    assert len(corpus.tasks["pos"].labels) == 56
    ner = corpus.report.label_counts["ner"]
    assert (ner["B-ORG"], ner["B-PER"], ner["B-LOC"], ner["B-MISC"]) == (1700, 1222, 984, 445)
    assert corpus.tokens[0][:2] == ["Sao", "Paulo"] and corpus.texts[0].startswith("Sao Paulo (")
    assert all(len(tags) == len(toks) for tags, toks in zip(corpus.annotations["ner"], corpus.tokens))
    assert "española" in corpus.texts[2]
    assert any("latin-1" in w for w in corpus.report.warnings)


def test_reuters_tsv_with_quoted_fields(datasets_dir):
    corpus = load_files([datasets_dir / "reuters21578_46topics" / "reuters46_train.tsv"])
    assert len(corpus) == 8982 and len(corpus.tasks["topic"].labels) == 46
    assert corpus.report.label_counts["topic"]["earn"] == 3159
    assert "newid" not in corpus.tasks and "title" not in corpus.tasks  # identifiers and free text
    assert any("'all_topics' not used" in w for w in corpus.report.warnings)


# --- small good files --------------------------------------------------------------------------

def test_csv_with_several_label_columns_and_nan_labels(tmp_path):
    path = write(tmp_path / "absa.csv", 'text,food,service\n"Great pasta, slow waiter.",positive,negative\n'
                 "Lovely pizza.,positive,\nRude staff.,NaN,negative\nOkay place.,neutral,NA\nQuick service.,NA,positive\n")
    corpus = load_files([path])
    assert corpus.texts[0] == "Great pasta, slow waiter."
    assert list(corpus.tasks) == ["food", "service"]
    assert corpus.annotations["food"] == ["positive", "positive", None, "neutral", None]
    assert corpus.annotations["service"] == ["negative", None, "negative", None, "positive"]
    assert corpus.report.absent_counts == {"food": 2, "service": 2}


def test_tsv_without_header_names_columns(tmp_path):
    path = write(tmp_path / "reviews.tsv", "the soup was cold and bland\tneg\ngreat service\tpos\n"
                 "we will come back soon\tpos\nnever again\tneg\n")
    corpus = load_files([path])
    assert list(corpus.tasks) == ["col1"] and len(corpus) == 4
    assert corpus.texts[0] == "the soup was cold and bland"


def test_csv_named_columns_and_per_file_tasks(tmp_path):
    a = write(tmp_path / "hotels_reviews.csv", "id;body;stars\n1;Clean room;good\n2;Dirty sheets;bad\n")
    b = write(tmp_path / "cars_reviews.csv", "id;body;stars\n1;Smooth ride;good\n2;Broke down;bad\n")
    corpus = load_files([a, b], text_column="body", label_columns=["stars"])
    assert list(corpus.tasks) == ["hotels", "cars"]
    assert corpus.present("hotels") == [0, 1] and corpus.present("cars") == [2, 3]


def test_lines_format_one_file_per_label(tmp_path):
    pos = write(tmp_path / "pos.txt", "I loved it\nWonderful\n\n")
    neg = write(tmp_path / "neg.txt", "Awful\nBoring plot\nToo long\n")
    assert detect_format(pos) == "lines"
    corpus = load_files([pos, neg], task_name="sentiment")
    assert list(corpus.tasks) == ["sentiment"] and len(corpus) == 5
    assert corpus.report.label_counts["sentiment"] == {"pos": 2, "neg": 3}
    assert corpus.origins[2] == str(neg)


def test_files_differing_only_by_extension_take_the_extension_as_label(tmp_path):
    # the sentence polarity files: rt-polarity.pos + rt-polarity.neg (latin-1, one sentence per line)
    pos = write(tmp_path / "rt-polarity.pos", "the rock is destined to be great\nsimply a masterpiece\n", "latin-1")
    neg = write(tmp_path / "rt-polarity.neg", "a boring mess\nnot worth the ticket\nflat and dull\n", "latin-1")
    corpus = load_files([pos, neg])
    assert corpus.report.label_counts == {"label": {"pos": 2, "neg": 3}}
    assert corpus.annotations["label"] == ["pos", "pos", "neg", "neg", "neg"]


def test_a_task_with_one_label_is_refused_naming_the_file_and_the_fix(tmp_path):
    pos = write(tmp_path / "rt-polarity.pos", "great\nsuperb\n")
    with pytest.raises(DataError, match="only the label 'rt-polarity'") as caught:
        load_files([pos])
    assert str(pos) in str(caught.value) and "one file per label" in str(caught.value)
    same = write(tmp_path / "uci_labelled.txt", "good soup\t1\nfine place\t1\n")
    with pytest.raises(DataError, match="task 'uci' has only the label '1'.*Fix: Add examples of another label"):
        load_files([same])
    tagged = write(tmp_path / "tags.conll", "Madrid O\nes O\n\ngrande O\nes O\n")
    with pytest.raises(DataError, match="tags.conll: task 'tag' has only the label 'O'"):
        load_files([tagged])


def test_a_column_holding_one_value_beside_real_labels_is_not_a_task(tmp_path):
    path = write(tmp_path / "news.tsv", "body\ttopic\tsplit\n" + "".join(
        f"story number {i} about markets\t{'grain' if i % 2 else 'crude'}\ttrain\n" for i in range(8)))
    corpus = load_files([path])
    assert list(corpus.tasks) == ["topic"]
    assert any("column 'split' holds only 'train'" in w for w in corpus.report.warnings)
    with pytest.raises(DataError, match="task 'split' has only the label 'train'"):  # asked for by name: refused
        load_files([path], label_columns=["topic", "split"])


def test_utf16_bom_and_latin1_files_are_decoded(tmp_path):
    utf16 = write(tmp_path / "u16.txt", "\ufeffcafé crème\t1\nthé froid\t0\n", "utf-16-le")
    corpus = load_files([utf16])
    assert corpus.texts == ["café crème", "thé froid"]
    assert not any("UTF-8" in w for w in corpus.report.warnings)
    latin = write(tmp_path / "latin.txt", "año nuevo\t1\nmañana\t0\n", "latin-1")
    corpus = load_files([latin])
    assert corpus.texts == ["año nuevo", "mañana"]
    assert any("latin-1" in w and "line 1" in w for w in corpus.report.warnings)
    text, warnings = read_text(write(tmp_path / "bom8.txt", "\ufeffhello", "utf-8"))
    assert text == "hello" and warnings == []


def test_conll_column_names_and_docstart(tmp_path):
    path = write(tmp_path / "tiny.conll", "-DOCSTART- O\n\nJohn B-PER\nlives O\n\nin O\nParis B-LOC\n")
    corpus = load_conll(path)
    assert list(corpus.tasks) == ["tag"] and corpus.tokens == [["John", "lives"], ["in", "Paris"]]
    corpus = load_conll(path, columns=["token", "entity"])
    assert corpus.annotations["entity"] == [["B-PER", "O"], ["O", "B-LOC"]]


def test_detect_format_by_content(tmp_path):
    assert detect_format(write(tmp_path / "tags.txt", "John\tB-PER\nran\tO\n\nHi\tO\nthere\tO\n")) == "conll"
    assert detect_format(write(tmp_path / "reviews.txt", "Nice and quiet.\tpos\nToo loud.\tneg\n")) == "uci"
    assert detect_format(write(tmp_path / "table.txt", "a b\tx\ty\nc d\tz\tw\n")) == "tsv"
    assert detect_format(write(tmp_path / "data", "<?xml version='1.0'?><sentences/>")) == "semeval"


def test_csv_header_over_numbers_and_single_row(tmp_path):
    corpus = load_files([write(tmp_path / "two.csv", "text,label\nhello there,1\nbye now,0\n")])
    assert corpus.texts == ["hello there", "bye now"] and list(corpus.tasks) == ["label"]
    with pytest.raises(DataError, match="task 'label' has only the label '1'"):  # the header named the task
        load_files([write(tmp_path / "one.csv", "text,label\nhello there,1\n")])


# --- bad files ---------------------------------------------------------------------------------

def test_empty_file(tmp_path):
    path = write(tmp_path / "empty.csv", "")
    with pytest.raises(DataError, match="empty.csv: the file is empty"):
        load_files([path])


def test_header_only_csv(tmp_path):
    path = write(tmp_path / "head.csv", "text,label\n")
    with pytest.raises(DataError, match=r"head.csv.*header .*no data rows"):
        load_files([path])


def test_missing_column_lists_existing_columns(tmp_path):
    path = write(tmp_path / "cols.csv", "text,label\nnice,1\nbad,0\n")
    with pytest.raises(DataError) as err:
        load_files([path], label_columns=["sentiment"])
    assert "cols.csv" in str(err.value) and "['sentiment']" in str(err.value)
    assert "['text', 'label']" in str(err.value)


def test_ragged_csv_row_names_line(tmp_path):
    path = write(tmp_path / "ragged.csv", "text,label\nnice,1\nbad,0,extra\n")
    with pytest.raises(DataError, match=r"ragged.csv, line 3: this row has 3 field\(s\)"):
        load_csv(path)


@pytest.mark.parametrize("content", [b"ab\x00cd\tx\n", bytes(range(256)) * 8, b"PK\x03\x04rest of a zip"])
def test_binary_junk_is_refused(tmp_path, content):
    path = tmp_path / "junk.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match="junk.txt") as err:
        load_files([path])
    assert "text" in err.value.fix.lower() or "utf-8" in err.value.fix.lower()


def test_size_limit(tmp_path):
    path = write(tmp_path / "big.txt", "x\t1\n" * 100)
    with pytest.raises(DataError, match="over the .* limit") as err:
        load_files([path], format="uci", max_bytes=100)
    assert "max_bytes" in err.value.fix


@pytest.mark.parametrize("xml, expected", [
    ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
     ' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n]>\n'
     "<sentences><sentence id=\"1\"><text>&lol2;</text></sentence></sentences>\n", "line 3: .*billion laughs"),
    ('<?xml version="1.0"?>\n<!DOCTYPE s [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
     '<sentences><sentence id="1"><text>&xxe;</text></sentence></sentences>\n', "line 2: .*entity 'xxe'"),
    ('<sentences>\n<sentence id="1">\n<text>fish & chips</text>\n</sentence>\n</sentences>\n',
     "line 3: cannot parse the XML"),
    ('<reviews><review>fine</review></reviews>', "root element is <reviews>"),
])
def test_unsafe_or_malformed_xml(tmp_path, xml, expected):
    path = write(tmp_path / "bad.xml", xml)
    with pytest.raises(DataError, match=f"bad.xml, {expected}" if expected.startswith("line") else expected):
        load_files([path])


def test_ragged_conll_line(tmp_path):
    path = write(tmp_path / "ragged.conll", "El DA O\nperro NC O\n\nMadrid NC\nes VSI O\n")
    with pytest.raises(DataError, match=r"ragged.conll, line 4: 2 column\(s\) in 'Madrid NC', but the first "
                                        r"token line \(line 1\) has 3"):
        load_files([path])


def test_bad_uci_line(tmp_path):
    path = write(tmp_path / "shop_labelled.txt", "Great phone.\t1\nBad battery.\t0\nNo tab on this line\n")
    with pytest.raises(DataError, match=r"shop_labelled.txt, line 3: no TAB in 'No tab on this line'") as err:
        load_files([path], format="uci")
    assert "sentence<TAB>label" in str(err.value)


def test_bad_options(tmp_path):
    path = write(tmp_path / "a.csv", "text,label\nnice,1\nbad,0\n")
    with pytest.raises(ConfigError, match="'format' parameter .* Got 'json'"):
        load_files([path], format="json")
    with pytest.raises(ConfigError):
        load_files([])
    with pytest.raises(DataError, match="file not found"):
        load_files([tmp_path / "nope.csv"])
    assert set(FORMATS) == {"csv", "tsv", "uci", "lines", "semeval", "conll"}
