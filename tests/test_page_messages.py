"""mtl_core's data errors on a page: the uploaded file's name, never the server's folder, and the page's widgets
instead of the command line's options (ui.messages)."""
from __future__ import annotations

import pytest

from mtl_core.data import library
from mtl_core.data.loaders import load_files
from mtl_core.errors import DataError
from mtl_core.paths import uploads_dir
from ui.messages import page_message

ROWS = "".join(f"sentence number {i} is here,{i}\n" for i in range(20))  # text and an identifier: no labels


def test_an_upload_without_a_label_column_is_explained_in_page_words_with_its_own_name():
    path = library.save_upload("my reviews.csv", ("text,row_id\n" + ROWS).encode())
    assert str(uploads_dir()) in str(path)  # kept on the server under a content hash
    with pytest.raises(DataError) as caught:
        load_files([str(path)])
    assert str(uploads_dir()) in str(caught.value) and "Pass label_columns" in str(caught.value)  # CLI words
    shown = page_message(caught.value)
    assert shown.startswith("my reviews.csv: this file has no label column")
    assert str(uploads_dir()) not in shown and "/" not in shown.split(":")[0]
    assert "What to do: Pick the label column(s) above, under “Label columns”" in shown
    assert "label_columns" not in shown and "Fix:" not in shown


def test_a_missing_column_names_the_widget_and_the_columns_there_are():
    path = library.save_upload("reviews.csv", ("text,label\n" + "good food,pos\nbad food,neg\n" * 5).encode())
    with pytest.raises(DataError) as caught:
        load_files([str(path)], label_columns=["sentiment"])
    shown = page_message(caught.value)
    assert shown.startswith("reviews.csv") and "the label column ['sentiment'] is not among" in shown
    assert "Pick the label columns above, among ['text', 'label']" in shown and str(uploads_dir()) not in shown


def test_a_one_label_task_is_refused_in_page_words():
    path = library.save_upload("all good.csv", ("text,label\n" + "good food,pos\nnice staff,pos\n" * 10).encode())
    with pytest.raises(DataError) as caught:
        load_files([str(path)])
    shown = page_message(caught.value)
    assert shown.startswith("all good.csv") and "task 'label' has only the label 'pos'" in shown
    assert "What to do: Add examples of another label, or leave the task 'label' out (for a CSV file: pick only " \
           "the other label columns above, under “Label columns”)." in shown
    assert str(uploads_dir()) not in shown and "name only" not in shown
