"""Studies: every stored study in one table (filter, sort); one study's name, tags and note, its deletion, its
report and CSVs; and any two studies' settings side by side."""
from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from mtl_core.errors import MTLLabError
from mtl_core.status import Status, can_delete
from mtl_core.studies.diff import settings_diff
from ui.common import get_store, plain, sidebar, study_label

SORTS = {"newest first": ("created", True), "oldest first": ("created", False), "name": ("name", False),
         "status": ("status", False), "most runs": ("runs", True)}  # label -> (column, descending)
COLUMNS = ["name", "id", "status", "tags", "created", "tasks", "runs", "note"]


def matches(study: dict, text: str, statuses: list[str], tags: list[str]) -> bool:
    """Whether ``study`` passes the table's filters: ``text`` in its name, id, tasks, tags or note; one of
    ``statuses`` (any when empty); every one of ``tags``."""
    words = " ".join([study["name"], study["id"], study["note"], *study["tasks"], *study["tags"]]).lower()
    return (text.strip().lower() in words and (not statuses or study["status"] in statuses)
            and all(t in study["tags"] for t in tags))


def table_ui(studies: list[dict]) -> list[dict]:
    """The filterable, sortable table of studies; returns the studies it shows, in its order."""
    c = st.columns([3, 2, 2, 2])
    text = c[0].text_input("Filter: name, id, task, tag or note contains", key="studies_filter")
    statuses = c[1].multiselect("Status", [str(s) for s in Status], key="studies_statuses")
    tags = c[2].multiselect("Tags", sorted({t for s in studies for t in s["tags"]}), key="studies_tags")
    column, descending = SORTS[c[3].selectbox("Sort by", list(SORTS), key="studies_sort")]
    shown = sorted((s for s in studies if matches(s, text, statuses, tags)),
                   key=lambda s: (s[column].lower() if isinstance(s[column], str) else s[column]), reverse=descending)
    rows = [{**{k: s[k] for k in ("name", "id", "status", "note")}, "tags": ", ".join(s["tags"]),
             "created": pd.Timestamp(s["created"], unit="s"), "tasks": ", ".join(s["tasks"]),
             "runs": f"{s['runs_done']}/{s['runs']}"} for s in shown]
    st.dataframe(pd.DataFrame(rows, columns=COLUMNS), hide_index=True, key="studies_table",
                 column_config={"created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
    st.caption(f"{len(shown)} of {len(studies)} studies shown; click a column's header to sort by it. "
               "Runs: finished / planned.")
    return shown


def edit_ui(study: dict) -> None:
    """Rename, tag and annotate ``study`` (one form, one save)."""
    with st.form(f"studies_edit_{study['id']}"):
        name = st.text_input("Name", value=study["name"], key=f"studies_name_{study['id']}")
        tags = st.text_input("Tags, comma-separated (e.g. baseline, absa)", value=", ".join(study["tags"]),
                             key=f"studies_tags_{study['id']}")
        note = st.text_area("Note", value=study["note"], key=f"studies_note_{study['id']}",
                            placeholder="What this study tried, what you concluded…")
        saved = st.form_submit_button("Save name, tags and note")
    if saved:
        try:
            store.rename_study(study["id"], name)
            store.set_tags(study["id"], tags)
            store.set_note(study["id"], note)
        except MTLLabError as exc:
            st.error(plain(str(exc)))
        else:
            flash(f"Saved the name, tags and note of study {study['id']}.")


def delete_ui(study: dict) -> None:
    """Delete ``study`` after a confirmation; a queued or running one is refused with what to do."""
    if not can_delete(study["status"]):
        st.caption(f"This study is {study['status']}: cancel it on the Train page first, then delete it here.")
        st.page_link("pages/3_Train.py", label="Open it on the Train page", icon=":material/timer:",
                     query_params={"study": study["id"]})
        return
    if st.button("Delete this study…", key="studies_delete", icon=":material/delete:"):
        st.session_state["studies_confirm"] = study["id"]
    if st.session_state.get("studies_confirm") != study["id"]:
        return
    st.warning(f"Delete study {plain(study['name'])} ({study['id']}) with its {study['runs']} run(s), their scores, "
               "curves and saved models? This cannot be undone.")
    yes, no, _ = st.columns([1, 1, 4])
    if yes.button("Yes, delete it", type="primary", key="studies_delete_yes"):
        from mtl_core.studies.manage import delete_study  # the queue (huey) only when deleting

        try:
            delete_study(study["id"], store)
        except MTLLabError as exc:  # it was queued again meanwhile (retry on the Train page)
            st.error(plain(str(exc)))
            return
        st.session_state.pop("studies_confirm", None)
        st.query_params.pop("study", None)
        flash(f"Deleted study {study['name']} ({study['id']}).")
    if no.button("Keep it", key="studies_delete_no"):
        st.session_state.pop("studies_confirm", None)
        st.rerun()


def downloads_ui(study: dict) -> None:
    """The study's one-file HTML report and its CSVs as a zip, each made only when its button is clicked."""
    if study["status"] != Status.DONE:
        st.caption("The report and the CSVs are made from a finished study.")
        return
    from mtl_core.report.bundle import study_csv_zip
    from mtl_core.report.html import study_report_html
    from mtl_core.report.names import export_basename

    base = export_basename(study["name"], study["id"])
    left, right, _ = st.columns([1, 1, 2])
    left.download_button("Download report (HTML)", partial(study_report_html, store, study["id"]),
                         file_name=f"{base}.html", mime="text/html", on_click="ignore", key="studies_report",
                         icon=":material/description:")
    right.download_button("Download CSVs (zip)", partial(study_csv_zip, store, study["id"]),
                          file_name=f"{base}-csv.zip", mime="application/zip", on_click="ignore", key="studies_zip",
                          icon=":material/folder_zip:")


def diff_ui(studies: list[dict]) -> None:
    """Any two studies' settings side by side: only the rows that differ, unless asked for every row."""
    left, right = st.columns(2)
    first = left.selectbox("First study", studies, format_func=study_label, key="studies_diff_first")
    second = right.selectbox("Second study", studies, index=min(1, len(studies) - 1), format_func=study_label,
                             key="studies_diff_second")
    every = st.checkbox("Show the settings that are the same too", key="studies_diff_every")
    rows = settings_diff(store, first["id"], second["id"], every_row=every)
    if not rows:
        st.success("These two studies have the same settings." if first["id"] != second["id"] else
                   "Pick two different studies to see what differs.")
        return
    a, b = f"{first['name']} · {first['id']}", f"{second['name']} · {second['id']}"
    if a == b:
        a, b = f"{a} (first)", f"{b} (second)"
    table = pd.DataFrame([{"setting": r["setting"], a: r["first"], b: r["second"], "differs": r["differs"]}
                          for r in rows])
    st.dataframe(table if every else table.drop(columns="differs"), hide_index=True, key="studies_diff_table")


def flash(message: str) -> None:
    """Show ``message`` after the rerun that shows the change."""
    st.session_state["studies_flash"] = message
    st.rerun()


store = get_store()
sidebar(store)
st.title("Studies")
st.markdown("Every study in this lab: find one, name and tag it, leave a note, download its report, delete it, "
            "or put two studies' settings side by side.")
if "studies_flash" in st.session_state:
    st.success(plain(st.session_state.pop("studies_flash")))
studies = store.study_overview()
if not studies:
    st.info("No study yet. Start one from the Home page (one-click presets) or the Tasks page.")
    st.stop()
shown = table_ui(studies)
st.subheader("One study")
if not shown:
    st.info("No study matches these filters; clear them to see every study.")
else:
    ids = [s["id"] for s in shown]
    wanted = st.query_params.get("study")
    study = st.selectbox("Study", shown, index=ids.index(wanted) if wanted in ids else 0, format_func=study_label,
                         key="studies_pick")
    st.query_params["study"] = study["id"]
    edit_ui(study)
    downloads_ui(study)
    delete_ui(study)
st.subheader("What differs between two studies")
diff_ui(studies)
