"""The home page (app.py), the Tasks page and the Train page through Streamlit's AppTest, over real studies."""
from __future__ import annotations

import pytest
from app_pages import open_page

from mtl_core.results.gains import HELPS, HURTS, UNCLEAR, lead_rows, paired_deltas
from mtl_core.results.study_results import StudyResults, lead_metrics
from mtl_core.results.summary import summary_rows
from mtl_core.store import Store


@pytest.fixture
def home(tiny_studies, isolated_home, monkeypatch) -> dict:
    """Point this test (and the app it runs) at the tiny studies' store, after conftest's per-test home."""
    monkeypatch.setenv("MTL_LAB_HOME", str(tiny_studies["home"]))
    return tiny_studies


@pytest.fixture
def no_autostart(monkeypatch):
    """Queue studies without starting a worker process (as on a server whose workers run as a service)."""
    monkeypatch.setenv("MTL_LAB_AUTOSTART_WORKER", "0")


run_app = open_page


def test_home_shows_the_newest_study_with_its_explanations(home):
    at = run_app()
    assert not at.exception
    assert at.title[0].value == "MTL Lab"
    assert "tiny demo" in at.subheader[-2].value
    assert len(at.get("plotly_chart")) == 1
    assert any("Synergy" in m.value and "Interference" in m.value for m in at.markdown)
    deltas = at.dataframe[0].value
    assert list(deltas["task"]) == ["base", "related"]
    assert set(deltas["verdict"]) <= {HELPS, HURTS, UNCLEAR}
    assert at.query_params["study"] == home["newest"]  # written back, so the URL can be shared


def test_study_from_the_url_is_shown_and_picking_another_updates_it(home):
    at = run_app(study=home["older"])
    assert not at.exception
    assert "older" in at.subheader[-2].value
    assert at.selectbox(key="home_study").value["id"] == home["older"]
    at.selectbox(key="home_study").set_value(at.selectbox(key="home_study").options[0]).run()
    assert "tiny demo" in at.subheader[-2].value
    assert at.query_params["study"] == home["newest"]


def test_unknown_study_in_the_url_warns_and_falls_back_to_the_newest(home):
    at = run_app(study="no-such-study")
    assert not at.exception
    assert any("no\\-such\\-study" in w.value for w in at.warning)  # shown literally, never as Markdown/HTML
    assert "tiny demo" in at.subheader[-2].value


def test_one_click_preset_queues_a_study_and_returns_at_once(no_autostart):
    at = run_app()  # conftest gives this test a fresh, empty home
    assert not at.exception
    assert any("No finished study yet" in i.value for i in at.info)
    at.button(key="preset_synthetic-demo").click().run()
    assert not at.exception
    (study,) = Store().studies()
    assert study["status"] == "queued" and at.query_params["study"] == study["id"]
    assert len(Store().runs(study["id"])) == 3 * 5  # 4 tasks alone + all together, x 3 seeds
    assert any("Queued study" in s.value for s in at.success)


def test_presets_whose_data_is_missing_say_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("MTL_LAB_DATA_DIR", str(tmp_path / "empty"))
    at = run_app()
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "semeval2014_restaurants" in warnings and "uci_sentiment" in warnings
    assert any("data fetch uci_sentiment" in c.value for c in at.caption)  # the fix, one click away
    assert at.button(key="preset_synthetic-demo") and not any(b.key == "preset_absa" for b in at.button)


def test_tasks_page_counts_runs_and_queues_a_pairs_study(no_autostart):
    at = run_app("pages/2_Tasks.py")
    assert not at.exception
    at.selectbox(key="tasks_source").set_value(
        next(o for o in at.selectbox(key="tasks_source").options if "Synthetic demo" in o)).run()
    at.multiselect[0].set_value(["base", "related", "conflicting"]).run()
    at.radio(key="tasks_plan").set_value("pairs").run()
    at.slider(key="tasks_seeds").set_value(2).run()
    assert at.metric[0].value == "14"  # (3 alone + 3 pairs + all together) x 2 seeds
    assert any("Estimated time" in c.value for c in at.caption)
    at.button(key="tasks_submit").click().run()
    assert not at.exception
    (study,) = Store().studies()
    runs = Store().runs(study["id"])
    assert study["status"] == "queued" and len(runs) == 14
    assert {r["setting"] for r in runs} == {"single", "pair", "all"}


def test_tasks_page_rejects_a_bad_group(no_autostart):
    at = run_app("pages/2_Tasks.py")
    at.radio(key="tasks_plan").set_value("groups").run()
    next(t for t in at.text_input if t.label.startswith("Groups")).set_value("base+nosuchtask").run()
    assert not at.exception
    assert any("nosuchtask" in e.value for e in at.error)


def test_train_page_shows_runs_and_curves_of_a_finished_study(home):
    at = run_app("pages/3_Train.py", study=home["newest"])
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 2 * 3 and set(table["status"]) == {"done"}
    assert len(at.get("plotly_chart")) == 2  # validation metric and losses of one run


def test_train_page_warns_when_studies_wait_without_a_worker(no_autostart):
    run_app().button(key="preset_synthetic-demo").click().run()
    at = run_app("pages/3_Train.py")
    assert not at.exception
    assert any("no background worker" in w.value for w in at.warning)
    assert at.button(key="train_cancel")
    at.button(key="train_cancel").click().run()
    (study,) = Store().studies()
    assert Store().study(study["id"])["status"] == "cancelled"


def test_paired_deltas_on_known_numbers():
    values = {  # task -> setting -> per-seed lead-metric values
        "gains": {"single": [0.70, 0.72, 0.71], "all": [0.80, 0.81, 0.82]},      # diffs .10 .09 .11
        "noisy": {"single": [0.60, 0.65, 0.62], "all": [0.65, 0.61, 0.62]},      # diffs .05 -.04 0
        "loses": {"single": [0.90, 0.91, 0.92], "all": [0.80, 0.80, 0.83]},      # diffs -.10 -.11 -.09
    }
    scores = [dict(run_id=0, setting=setting, seed=seed, task=task, metric="accuracy", value=v)
              for task, by_setting in values.items() for setting, vs in by_setting.items()
              for seed, v in enumerate(vs)]
    scores += [dict(run_id=0, setting="all", seed=0, task="gains", metric="macro_f1", value=0.0),  # not lead
               dict(run_id=0, setting="all", seed=5, task="gains", metric="accuracy", value=0.0)]  # unpaired
    rows = {r["task"]: r for r in paired_deltas(scores, {t: "accuracy" for t in values})}
    assert [rows[t]["verdict"] for t in values] == [HELPS, UNCLEAR, HURTS]
    gains = rows["gains"]
    assert gains["n_seeds"] == 3 and gains["single"] == pytest.approx(0.71) and gains["multitask"] == pytest.approx(0.81)
    assert gains["delta"] == pytest.approx(0.10)
    half = 4.302653 * 0.01 / 3 ** 0.5  # t(0.975, df=2) * sd / sqrt(n)
    assert (gains["ci_low"], gains["ci_high"]) == pytest.approx((0.10 - half, 0.10 + half), abs=1e-6)
    assert rows["noisy"]["ci_low"] < 0 < rows["noisy"]["ci_high"]


def test_lead_rows_pick_each_tasks_lead_metric(home):
    store = Store()
    tasks = store.study(home["newest"])["tasks"]
    lead = lead_metrics(tasks)
    assert lead == {"base": "accuracy", "related": "accuracy"}
    rows = lead_rows(summary_rows(StudyResults.load(store, home["newest"])), lead)
    assert [(r["task"], r["setting"]) for r in rows] == [
        ("base", "single"), ("base", "all"), ("base", "tfidf-lr"),
        ("related", "single"), ("related", "all"), ("related", "tfidf-lr")]
    assert all(r["n_seeds"] == 2 for r in rows if r["setting"] != "tfidf-lr")


def test_a_shared_server_asks_for_its_password_first(monkeypatch):
    monkeypatch.setenv("MTL_LAB_PASSWORD", "correct horse")
    at = run_app()
    assert not at.exception
    assert not at.get("plotly_chart") and not any(b.key == "preset_synthetic-demo" for b in at.button)
    at.text_input(key="auth_password").set_value("wrong")
    at.button[0].click().run()  # a form sends its fields with the submit click
    assert any("Wrong password" in e.value for e in at.error)
    at.text_input(key="auth_password").set_value("correct horse")
    at.button[0].click().run()
    assert not at.exception
    assert at.button(key="preset_synthetic-demo")  # the home page, at last


def tasks_page_on_the_synthetic_demo():
    """The Tasks page with the synthetic demo picked, and the key prefix of its per-source widgets."""
    at = run_app("pages/2_Tasks.py")
    at.selectbox(key="tasks_source").set_value(
        next(o for o in at.selectbox(key="tasks_source").options if "Synthetic demo" in o)).run()
    return at, next(s.key for s in at.selectbox if s.key and s.key.endswith("_sharing"))[: -len("_sharing")]


def test_tasks_page_queues_a_study_with_the_chosen_multitask_method(no_autostart):
    at, k = tasks_page_on_the_synthetic_demo()
    at.selectbox(key=f"{k}_sharing").set_value("cascade").run()
    at.selectbox(key=f"{k}_weighting").set_value("pcgrad").run()
    at.selectbox(key=f"{k}_sampling").set_value("temperature").run()
    at.multiselect(key=f"{k}_aux").set_value(["next_word"]).run()
    at.multiselect(key=f"{k}_cascade").set_value(["aux:next_word"]).run()
    assert not at.exception
    at.button(key="tasks_submit").click().run()
    assert not at.exception
    (study,) = Store().studies()
    config = study["spec"]["config"]
    assert (config["sharing"], config["weighting"], config["sampling"], config["aux"], config["cascade_order"]) == \
        ("cascade", "pcgrad", "temperature", ["next_word"], ["aux:next_word"])


def test_tasks_page_explains_why_a_next_token_task_needs_a_bilstm(no_autostart):
    at, k = tasks_page_on_the_synthetic_demo()
    at.selectbox(key=f"{k}_backbone").set_value("cnn").run()
    at.multiselect(key=f"{k}_aux").set_value(["next_word"]).run()
    assert not at.exception
    assert any("would be copied, not learned" in e.value for e in at.error)
    assert "tasks_submit" not in [b.key for b in at.button]  # nothing to queue until the method is fixed


def test_tasks_page_says_how_to_install_a_missing_pretrained_encoder(no_autostart, monkeypatch):
    import dataclasses

    from mtl_core.models.pretrained import PRETRAINED_ENCODERS
    fake = dataclasses.replace(PRETRAINED_ENCODERS["mpnet"], packages=("no-such-weights-part-001",))
    monkeypatch.setitem(PRETRAINED_ENCODERS, "mpnet", fake)
    at, k = tasks_page_on_the_synthetic_demo()
    at.selectbox(key=f"{k}_backbone").set_value("mpnet").run()
    assert not at.exception
    assert any("make mpnet" in e.value and "no-such-weights-part-001" in e.value for e in at.error)
    assert "tasks_submit" not in [b.key for b in at.button]  # nothing to queue until it is installed
    monkeypatch.setitem(PRETRAINED_ENCODERS, "mpnet", dataclasses.replace(fake, packages=()))
    at.run()  # installed: the page goes on, with a layer slider as deep as MPNet's 12 layers
    assert not at.error and at.slider(key=f"{k}_layers").max == 12


def test_tasks_page_picks_tasks_from_several_saved_datasets_into_one_study(no_autostart, datasets_dir):
    from mtl_core.data.library import register_dataset
    from ui.several_datasets import SEVERAL

    uci = datasets_dir / "uci_sentiment"
    register_dataset("yelp-reviews", {"files": [str(uci / "yelp_labelled.txt")], "task_name": "sentiment"})
    register_dataset("imdb-reviews", {"files": [str(uci / "imdb_labelled.txt")], "task_name": "sentiment"})
    at = run_app("pages/2_Tasks.py")
    at.selectbox(key="tasks_source").set_value(SEVERAL).run()
    assert not at.exception
    k = next(m.key for m in at.multiselect if m.label == "Datasets")[: -len("_datasets")]
    at.multiselect(key=f"{k}_datasets").set_value(["yelp-reviews", "imdb-reviews"]).run()
    assert at.multiselect(key=f"{k}_tasks_yelp-reviews").format_func("sentiment") == \
        "yelp-reviews/sentiment (1,000 rows)"
    assert any("only on its own dataset's rows" in c.value for c in at.caption)
    assert list(at.dataframe[0].value["name in the study"]) == ["yelp-reviews/sentiment", "imdb-reviews/sentiment"]
    at.radio(key="tasks_plan").set_value("singles+all").run()
    at.slider(key="tasks_seeds").set_value(1).run()
    assert at.metric[0].value == "3"  # each task alone + both together
    at.button(key="tasks_submit").click().run()
    assert not at.exception
    (study,) = Store().studies()
    spec = study["spec"]
    assert spec["tasks"] == ["yelp-reviews/sentiment", "imdb-reviews/sentiment"]
    assert [part["name"] for part in spec["source"]["combine"]] == ["yelp-reviews", "imdb-reviews"]
