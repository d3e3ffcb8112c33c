"""The Playground in AppTest: it renders, every control moves the stage, links restore it.

The four live knobs (learning rate, batch size, momentum, decay) sit on the stage, not in the
sidebar: a link sets them here, and the browser tests (tests/e2e) drag them.
"""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import chart_specs, current_run, stage_payload


def url_text(value):
    return str(value).lower() if isinstance(value, bool) else str(value)


# A new value for every control; some need others set first to make a visible difference.
CHANGES = [
    ("select_slider", "n", 500, {}),
    ("select_slider", "noise", 1.0, {}),
    ("select_slider", "x_mean", 2.0, {}),
    ("select_slider", "x_std", 2.0, {}),
    ("select_slider", "validation_split", 0.2, {}),
    ("select_slider", "epochs", 5, {}),
    ("toggle", "nesterov", True, {"momentum": "0.9"}),
    ("toggle", "shuffle", False, {}),
    ("selectbox", "model", "tanh", {}),
    ("selectbox", "convention", "pytorch", {"momentum": "0.9", "decay": "0.1"}),
    ("number_input", "data_seed", 1, {}),
    ("number_input", "seed", 1, {}),
    ("number_input", "w0", 0.5, {}),
    ("number_input", "b0", 0.5, {}),
]


def assert_clean(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_renders_the_stage_with_explained_metrics(app):
    at = app()
    assert_clean(at)
    assert not at.get("plotly_chart")
    run = current_run(at)
    assert run["updates_per_epoch"] == 7  # ceil(200 / 32)
    assert run["updates"] == 140  # 7 × 20 epochs
    assert run["arithmetic"] == "⌈200 / 32⌉ = 7"
    assert run["text"][0] == "converged"  # the status, from ui.explain
    assert at.latex, "the update rule is shown with the current numbers"
    assert not [s for s in at.sidebar.select_slider if s.key in LIVE]  # knobs left the sidebar


LIVE = ("learning_rate", "batch_size", "momentum", "decay")


@pytest.mark.parametrize(("kind", "key", "value", "first"), CHANGES, ids=[c[1] for c in CHANGES])
def test_each_control_changes_the_charts(app, kind, key, value, first):
    at = app(**first)
    before = chart_specs(at)
    getattr(at, kind)(key=key).set_value(value).run()
    assert_clean(at)
    after = chart_specs(at)
    assert after != before
    assert at.query_params[key] == url_text(value)  # the link now carries the new value


def test_a_link_restores_every_setting_including_any_batch_size(app):
    at = app(batch_size="37", learning_rate="0.1", momentum="0.9", epochs="3", seed="4")
    assert_clean(at)
    payload = stage_payload(at)
    for knob, value in (("batch_size", 37), ("learning_rate", 0.1), ("momentum", 0.9)):
        entry = payload.knob(knob)
        assert entry["values"][entry["current"]] == value, knob
    run = current_run(at)
    assert run["updates_per_epoch"] == 6  # ceil(200 / 37): the last batch has 15 rows
    assert run["updates"] == 18
    assert not at.warning


@pytest.mark.parametrize(
    ("knob", "value", "stored"),
    [
        ("learning_rate", 0.3, 0.3),
        ("batch_size", 8, 8),
        ("momentum", 0.9, 0.9),
        ("decay", 0.01, 0.01),
        ("batch_size", 5000, 32),  # more than the training rows: ignored
        ("momentum", 1.5, 0.0),  # out of range: ignored
    ],
)
def test_a_released_knob_is_stored_for_every_page_and_the_link(knob, value, stored):
    def page(knob, value):
        from ui import controls

        controls.store()
        controls.commit(knob, value)
        controls.current()

    at = AppTest.from_function(page, args=(knob, value)).run()
    assert not at.exception
    assert at.session_state["_settings"][knob] == stored
    if value == stored:
        assert at.session_state[knob] == stored  # the sidebar widget of other pages
        assert at.query_params[knob] == str(value)
    else:
        assert knob not in at.query_params


def test_a_released_momentum_of_zero_turns_nesterov_off():
    def page():
        from ui import controls

        controls.set_values(momentum=0.9, nesterov=True)
        controls.commit("momentum", 0.0)

    at = AppTest.from_function(page).run()
    assert at.session_state["_settings"]["nesterov"] is False


@pytest.mark.parametrize(
    ("momentum", "knob", "value", "shows"),
    [
        (0.0, "momentum", 0.9, True),  # the sidebar's Nesterov switch comes on
        (0.9, "momentum", 0.0, True),  # and goes off
        (0.9, "momentum", 0.5, False),
        (0.0, "learning_rate", 0.1, False),
        (0.0, "momentum", 1.5, False),  # out of range: ignored, nothing changes
    ],
)
def test_a_release_says_whether_the_sidebar_shows_it(momentum, knob, value, shows):
    def page(momentum, knob, value):
        import streamlit as st

        from ui import controls

        controls.set_values(momentum=momentum)
        st.session_state["shows"] = controls.commit(knob, value)

    at = AppTest.from_function(page, args=(momentum, knob, value)).run()
    assert not at.exception
    assert at.session_state["shows"] is shows


@pytest.mark.parametrize(
    ("query", "notice"),
    [
        ({"momentum": "1.5"}, "momentum=1.5 is out of range, so the default 0.0 is used."),
        ({"epochs": "many"}, "epochs=many is not a valid value, so the default 20 is used."),
        ({"batch_size": "5000"}, "batch_size=5000 is out of range, so the default 32 is used."),
        ({"model": "svm"}, "model=svm is out of range, so the default linear is used."),
        ({"learning_rate": "nan"}, "learning_rate=nan is out of range"),
    ],
)
def test_a_bad_link_value_falls_back_to_the_default_with_a_notice(app, query, notice):
    at = app(**query)
    assert_clean(at)
    assert any(notice in w.value for w in at.warning)
    assert len(at.get("bidi_component")) == 1


def test_diverging_preset_explains_and_suggests_a_rate(app):
    at = app()
    at.selectbox(key="preset").set_value("Too large a learning rate").run()
    assert_clean(at)
    warning = " ".join(w.value for w in at.warning)
    assert "Diverged at update" in warning
    assert "stable only while the learning rate stays below" in warning
    assert "Try a learning rate of" in warning
    assert current_run(at)["text"][0].startswith("diverged at update")
    assert any("Too large a learning rate" in i.value for i in at.info)  # the lesson


def test_every_preset_runs_cleanly_and_shows_its_lesson(app):
    from ui.playground import PRESETS

    at = app()
    for name in PRESETS:
        at.selectbox(key="preset").set_value(name).run()
        assert_clean(at)
        assert any(name in i.value for i in at.info), name


def test_upload_source_without_a_file_keeps_the_synthetic_data(app):
    at = app(source="csv")
    assert_clean(at)
    assert len(at.get("bidi_component")) == 1
    assert any("No file yet" in i.value for i in at.sidebar.info)


@pytest.mark.parametrize(("model", "second"), [("linear", "Start b"), ("tanh", "Start a")])
def test_start_fields_are_named_after_the_model_parameters(app, model, second):
    """The link keys stay w0 and b0; the labels say what the start point is for this model."""
    at = app(model=model, b0="1.5")
    assert_clean(at)
    assert at.number_input(key="w0").label == "Start w"
    assert at.number_input(key="b0").label == second
    assert at.number_input(key="b0").value == 1.5


def test_the_network_starts_from_a_seed_and_its_start_moves_with_it(app):
    """The network's 49 weights start where Keras's Glorot-uniform draw puts them: a "Start
    seed", not two numbers; another seed is another run, and the link keeps it."""
    at = app(model="network")
    assert_clean(at)
    assert {"w0", "b0"}.isdisjoint(number_keys(at))
    seed = at.number_input(key="init_seed")
    assert (seed.label, seed.value) == ("Start seed", 0)
    before = stage_payload(at)
    seed.set_value(3).run()
    assert_clean(at)
    assert at.query_params["init_seed"] == "3"
    after = stage_payload(at)
    assert not np.array_equal(
        after.arrays["learning_rate.loss"][:1], before.arrays["learning_rate.loss"][:1]
    )
    assert any("A slice through the 49 weights" in c.value for c in at.caption)


def number_keys(at) -> set[str]:
    return {widget.key for widget in at.sidebar.number_input}


# The playback position (issue 9): the stage reports where the learner stopped; the page keeps it
# in the session and the link, and a link with ?update=N opens the stage there.


def test_a_link_with_an_update_opens_playback_there(app):
    at = app(update="30")
    assert_clean(at)
    assert stage_payload(at).header["update"] == 30
    assert at.query_params["update"] == "30"
    assert not at.warning


def test_without_an_update_the_whole_run_is_shown(app):
    at = app()
    assert stage_payload(at).header["update"] is None
    assert "update" not in at.query_params


@pytest.mark.parametrize(
    ("text", "notice"),
    [
        ("141", "update=141 is out of range (the run has 140 updates), so the whole run is shown."),
        ("-1", "update=-1 is out of range"),
        ("abc", "The update in the link is not a whole number, so the whole run is shown."),
        ("**3**", "not a whole number"),
    ],
)
def test_a_bad_update_in_a_link_falls_back_to_the_whole_run_with_a_notice(app, text, notice):
    at = app(update=text)
    assert_clean(at)
    assert any(notice in w.value for w in at.warning)
    assert stage_payload(at).header["update"] is None
    assert "update" not in at.query_params


def test_the_last_update_is_a_valid_link(app):
    at = app(update="140")  # 7 × 20: the end of the run
    assert stage_payload(at).header["update"] == 140
    assert not at.warning


def test_a_position_past_the_end_of_a_shorter_run_becomes_the_whole_run(app):
    at = app(update="100")
    at.select_slider(key="epochs").set_value(5).run()  # 35 updates
    assert_clean(at)
    assert stage_payload(at).header["update"] is None
    assert "update" not in at.query_params


def test_a_stop_reported_by_the_stage_is_kept_in_the_session_and_the_link():
    def page():
        import streamlit as st

        from ui import stage

        stored = st.session_state.setdefault("step", 0)
        if stored == 0:
            stage.remember_update(42)
        st.session_state["start"] = stage.playback_start(140)
        if stored == 1:
            stage.remember_update(None)
        st.session_state["step"] = stored + 1

    at = AppTest.from_function(page).run()
    assert not at.exception
    assert at.session_state["start"] == 42
    assert at.query_params["update"] == "42"
    at.run()
    assert "update" not in at.query_params  # the end of the run: the default, not in the link


def test_the_answer_comes_first_and_the_three_answers_each_with_a_link_deeper(app):
    """Issue 10, then 16: the question's answer opens the Playground on one line beside the
    title (so the stage's charts and knobs fit a 1280x720 projector, measured in the browser);
    the three answers follow the stage, each with the lesson that shows it."""
    at = app()
    first = at.markdown[0].value  # the first text on the page, beside the title
    assert "`fit(batch_size=B)` is the mini-batch size, and it is not threads" in first
    assert "each update averages B rows' gradients in one vectorised step" in first
    assert "moves the weights once" in first
    answers = " ".join(m.value for m in at.markdown)
    assert "`fit(batch_size=B)` is the mini-batch size, and `SGD` never sees it" in answers
    assert "1, 32 or `len(x)` gives stochastic, mini-batch or full-batch" in answers
    assert "not threads: each update averages B gradients in one vectorised" in answers
    assert "`SGD(learning_rate=InverseTimeDecay(lr, decay_steps=1, decay_rate=decay))`" in answers
    assert "`SGD(lr=…, decay=…)`" in answers
    links = [(link.proto.page, link.proto.label) for link in at.get("page_link")]
    assert links == [
        ("batch_sizes", "Batch, mini-batch, stochastic"),
        ("inside_a_batch", "Inside one mini-batch"),
        ("keras_to_here", "From Keras to here"),
    ]
    assert not any("Drag a knob under the charts" in m.value for m in at.markdown)  # replaced


@pytest.mark.parametrize(
    "query",
    [{"momentum": "1"}, {"momentum": "1", "nesterov": "true"}, {"momentum": "1", "decay": "1"}],
)
def test_a_link_at_the_edge_of_a_range_draws_the_stage(app, query):
    """Issue 21: momentum 1 is inside the link check's range [0, 1], so it draws (no noise
    floor: the status rule's formula divided by 1 − μ)."""
    at = app(**query)
    assert not at.exception
    assert stage_payload(at).knob("momentum")["values"][-1] == 1.0


def test_a_stage_above_the_work_budget_is_refused_with_the_nearest_setting(app):
    """Issue 21: the stage's families and its loss surface are the request's work (8.14 G
    units here, 68 times the budget; 12–17 s of a core before); refused before anything is
    computed, with an offer. The loss surface of 10 000 rows of logistic regression alone is
    over the budget, so no number of epochs fits: fewer samples do."""
    at = app(model="logistic", n="10000", epochs="100", batch_size="1")
    assert not at.exception
    (warning,) = [w.value for w in at.warning if "Too much work" in w.value]
    assert "The live stage's runs" in warning and "Nothing was computed" in warning
    assert at.get("bidi_component") == []  # no stage, nothing computed
    (offer,) = [b for b in at.button if b.key == "budget_offer"]
    assert offer.label == "Use 100 samples"
    offer.click().run()
    assert not at.exception
    header = stage_payload(at).header
    assert header["n_train"] + header["n_val"] == 100 and header["epochs"] == 100


def test_the_network_shows_its_sharpness_and_says_why_when_there_is_no_edge(app):
    at = app(model="network")
    assert_clean(at)
    assert [c.key for c in at.get("plotly_chart")] == ["chart_sharpness"]
    assert any(m.value.startswith("λmax ") for m in at.markdown)  # the run's status sentence
    frictionless = app(model="network", momentum="1.0")
    assert_clean(frictionless)
    assert not frictionless.get("plotly_chart")
    assert any("no edge of stability" in i.value for i in frictionless.info)
    assert not app().get("plotly_chart")  # linear regression's bound is exact: no chart
