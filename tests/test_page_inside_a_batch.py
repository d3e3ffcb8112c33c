"""The "Inside one mini-batch" page in AppTest: it renders, its update scrubber (a browser
component, ui/inside_stage) carries the server's numbers, a stop and a link move the page, and
it never crashes."""

import functools

import numpy as np
import pytest

from gd import noise
from tests.conftest import chart_specs
from ui.inside_a_batch_charts import ARROWS_NAME, MAX_ARROWS
from ui.inside_stage.payload import decode


@pytest.fixture
def page(lesson):
    """Open the lesson with query parameters."""
    return functools.partial(lesson, "inside_a_batch")


def assert_clean(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def scrubber(at):
    """The update scrubber's payload, decoded (``ui.inside_stage.payload.Decoded``): its
    frames are indexed by gd's t = u − 1, its ``update`` is the page's u."""
    (component,) = at.get("bidi_component")
    return decode(component.proto.bytes)


def past_edge(frame) -> int:
    """How many of a decoded frame's row steps end outside its zoomed window."""
    tips = frame["params"][:2] + frame["sample_steps"]
    x, y = frame["axis0"], frame["axis1"]
    inside = (tips[:, 0] >= x[0]) & (tips[:, 0] <= x[-1]) & (tips[:, 1] >= y[0])
    return int(np.sum(~(inside & (tips[:, 1] <= y[-1]))))


def stop_at(at, update: int):
    """What the browser's stop does: the update u in the session, then a rerun."""
    at.session_state["update"] = update
    return at.run()


def test_renders_every_part(page):
    at = page()
    assert_clean(at)
    charts = [chart.key for chart in at.get("plotly_chart")]
    # noise, timing and the threads section's paths; the update's pictures are drawn in the
    # browser component
    assert charts == ["chart_noise", "chart_timing", "chart_threads_paths"]
    shown = scrubber(at)
    # 7 updates per epoch × 20 epochs: updates 1 … 140, indexed 0 … 139 as gd does
    assert shown.header["last"] == 139
    assert shown.header["update"] == 1  # the first update (update 0 is the start)
    assert (shown.header["first"], shown.header["last_loaded"]) == (0, 139)  # all fit
    assert shown.frame(0)["cards"][0] == "32"  # Rows in the batch (B)
    assert shown.frame(0)["where"] == "Update 1 of 140 (epoch 1, batch 1 of 7)."
    assert shown.frame(139)["where"] == "Update 140 of 140 (epoch 20, batch 7 of 7)."
    assert "not by 32 threads" in " ".join(m.value for m in at.markdown)
    assert any("grad = 2 / B * X_b.T @ (X_b @ w - y_b)" in c.value for c in at.code)
    assert "At update 1, the 32 rows" in at.markdown[-1].value


def test_a_stop_moves_the_page_and_the_link(page):
    at = page()
    before = chart_specs(at)
    stop_at(at, 40)
    assert_clean(at)
    assert chart_specs(at) != before
    assert "At update 40" in at.markdown[-1].value
    assert at.query_params["update"] == "40"
    assert scrubber(at).header["update"] == 40
    stop_at(at, 1)
    assert "update" not in at.query_params  # the default, the first update, is not in the link


def test_a_link_opens_at_its_update(page):
    at = page(update="57")
    assert_clean(at)
    assert scrubber(at).header["update"] == 57
    assert "At update 57" in at.markdown[-1].value


@pytest.mark.parametrize("text", ["abc", "-3", "**1**", "0"])
def test_a_bad_update_in_a_link_opens_at_update_1(page, text):
    at = page(update=text)  # update 0, the start, has nothing to take apart
    assert_clean(at)
    assert scrubber(at).header["update"] == 1
    # Said as the Playground says it (one reader of the link's update, ui.stage)
    notices = [w.value for w in at.warning if "could not be used" in w.value]
    assert len(notices) == (text != "0")


def test_the_pictures_carry_the_servers_numbers(page):
    """Every loaded update: the payload is the server's Inside record and words."""
    from ui import cache
    from ui.controls import Settings

    at = page(momentum="0.9", decay="0.01")
    shown = scrubber(at)
    settings = Settings(momentum=0.9, decay=0.01)
    run = cache.run(settings, None)
    x, y = cache.training_rows(settings, None)
    model = settings.spec.build()
    for update in (0, 6, 7, 77, 139):  # gd's index t: the page's update t + 1
        inside = noise.inside_update(model, run, x, y, update)
        frame = shown.frame(update)
        f32 = np.float32
        np.testing.assert_array_equal(frame["params"], run.params[update].astype(f32))
        np.testing.assert_array_equal(frame["batch_step"], inside.batch_step.astype(f32))
        np.testing.assert_array_equal(frame["full_step"], inside.full_step.astype(f32))
        np.testing.assert_array_equal(frame["taken_step"], inside.taken_step.astype(f32))
        np.testing.assert_array_equal(frame["sample_steps"], inside.sample_steps.astype(f32))
        assert frame["cards"] == [
            str(inside.batch_size),
            f"{inside.learning_rate:.4g}",
            f"{run.batch_loss[update]:.4g}",
            f"{inside.angle_to_full:.1f}°",
        ]
        assert frame["where"].startswith(f"Update {update + 1} of 140 (epoch {update // 7 + 1}, ")
        # The batch's rows among the drawn points (all 200 are drawn here).
        np.testing.assert_array_equal(np.sort(frame["rows"]), np.sort(inside.rows))


def test_a_shared_control_changes_the_charts(page):
    at = page()
    before = chart_specs(at)
    at.select_slider(key="batch_size").set_value(8).run()
    assert_clean(at)
    assert chart_specs(at) != before
    assert scrubber(at).frame(0)["cards"][0] == "8"


@pytest.mark.parametrize(("query", "batch"), [({}, 32), ({"n": "1000", "batch_size": "512"}, 512)])
def test_arrows_are_at_most_256_per_update(page, query, batch):
    at = page(epochs="1", **query)
    assert_clean(at)
    frame = scrubber(at).frame(0)
    assert frame["arrows"] == len(frame["sample_steps"]) == min(batch, MAX_ARROWS)
    past = past_edge(frame)
    beyond = f"; {past} reach past the edge, ringed there" if past else ""
    assert frame["arrows_label"] == (
        f"{ARROWS_NAME} ({min(batch, MAX_ARROWS)} of {batch} shown{beyond})"
    )


def test_a_long_run_loads_a_window_around_the_update(page):
    at = page(n="2000", batch_size="1", epochs="1", update="1500")
    assert_clean(at)
    shown = scrubber(at)
    assert shown.header["last"] == 1999  # update 2000
    assert shown.header["first"] <= 1499 <= shown.header["last_loaded"]  # update 1500
    assert shown.header["last_loaded"] - shown.header["first"] < 1999
    assert len(at.get("bidi_component")[0].proto.bytes) < 600_000


@pytest.mark.parametrize("model", ["logistic", "tanh"])
def test_every_model_renders(page, model):
    at = page(model=model, epochs="2")
    assert_clean(at)
    assert len(at.get("plotly_chart")) == 3
    stop_at(at, 1)
    assert_clean(at)
    assert "At update 1" in at.markdown[-1].value


@pytest.mark.parametrize(("batch_size", "diverged_at"), [("32", 12), ("200", 11)])
def test_a_diverging_run_gives_a_message_not_a_traceback(page, batch_size, diverged_at):
    at = page(learning_rate="1.5", batch_size=batch_size)  # blows up after epoch 1
    assert_clean(at)
    assert any(f"diverged at update {diverged_at}" in w.value for w in at.warning)
    last = scrubber(at).header["last"] + 1  # the last update u
    # The scrubber stops at the update that blew the run up: finite parameters before and
    # after it, the loss past the divergence threshold.
    assert last == diverged_at
    stop_at(at, last)
    assert_clean(at)
    stop_at(at, last + 5)  # past the end (a stale browser): clamped
    assert_clean(at)
    assert scrubber(at).header["update"] == last


def test_a_run_that_blows_up_at_once_still_renders_a_message(page):
    at = page(learning_rate="10.0")
    assert not at.exception, [e.value for e in at.exception]
    assert at.warning or at.error


def test_scrubbing_past_a_shorter_run_clamps(page):
    at = page()
    stop_at(at, 140)
    at.select_slider(key="epochs").set_value(1).run()
    assert_clean(at)
    assert scrubber(at).header["update"] == 7  # the last of 7
    assert at.query_params["update"] == "7"


@pytest.mark.parametrize(
    ("sent", "chosen"),
    [(3, 3), (3.0, 3), (1, 1), (0, None), (140, 140), (141, None), (-1, None), (1.5, None),
     (True, None), ("3", None), (None, None), (float("nan"), None)],
)  # fmt: skip
def test_a_reported_update_is_checked(sent, chosen):
    from ui.inside_stage import _stopped

    assert _stopped(sent, 140) == chosen  # updates 1 … 140; 0 is the start


# ---- issue 10: one cost model, arrows that show, true captions, summaries ----


def test_epoch_time_is_the_cost_model_of_batch_sizes(page):
    from ui.cost import cost_model

    at = page()
    assert_clean(at)
    model = cost_model("linear")
    table = at.table[0].value
    assert table["B"].tolist() == [1, 4, 16, 32, 64, 200]  # the run's own 32 among them
    expected = [model.ms_per_epoch(b, 200) for b in table["B"]]
    np.testing.assert_allclose(table["ms / epoch"], expected)
    captions = " ".join(c.value for c in at.caption)
    assert "Timed once on this server" in captions and "NumPy loop" in captions
    assert "One epoch of 200 rows:" in captions and "× less" in captions


def test_the_zoom_follows_each_update_so_its_arrows_fill_it(page):
    shown = scrubber(page(learning_rate="0.01"))
    for update in (0, 70, 139):
        frame = shown.frame(update)
        half = (frame["axis0"][-1] - frame["axis0"][0]) / 2
        longest = max(
            np.linalg.norm(frame[name]) for name in ("batch_step", "full_step", "taken_step")
        )
        rows = np.median(np.linalg.norm(frame["sample_steps"], axis=1))
        assert max(longest, rows) / half > 0.7  # the longest arrow spans most of the window


def test_legend_entries_apply_and_the_caption_names_the_drawn_colours(page):
    from ui import charts
    from ui.inside_stage.payload import LEGEND

    at = page()
    shown = scrubber(at)
    assert "taken" not in shown.frame(3)["legend"]  # momentum 0: no "step taken" entry
    assert "trail" not in shown.frame(7)["legend"] and "trail" in shown.frame(8)["legend"]
    caption = at.caption[0].value
    for key, _, name, colour, _ in LEGEND:
        assert charts.PALETTE[name] == colour
        if key != "point" and key != "taken":
            assert name.capitalize() in caption
    assert "Blue, dashed" not in caption and "Red" not in caption
    moving = scrubber(page(momentum="0.9"))
    assert "taken" in moving.frame(3)["legend"]
    assert all(charts.palette_colour(c) for c in shown.header["colours"].values())


def test_code_wraps_and_every_chart_has_a_summary_and_okabe_ito_colours(page):
    import json

    from ui import charts

    at = page()
    assert all(code.proto.wrap_lines for code in at.code)
    captions = " ".join(c.value for c in at.caption)
    assert "Gradient noise falls from" in captions and "One epoch of 200 rows:" in captions
    for key in ("chart_noise", "chart_timing"):
        spec = json.loads(next(c for c in at.get("plotly_chart") if c.key == key).proto.spec)
        assert {c for c in charts.trace_colours(spec) if not charts.palette_colour(c)} == set()
        for axis in ("xaxis", "yaxis"):  # 1, 10, 100 …, never 10^k
            assert spec["layout"][axis]["ticktext"]
            assert not any("^" in t or "e+" in t for t in spec["layout"][axis]["ticktext"])


# ---- issue 16: one count of updates, charts that hold what they show, names for readers ----


def figure_of(at, key: str):
    import plotly.io as pio

    return pio.from_json(next(c for c in at.get("plotly_chart") if c.key == key).proto.spec)


def values(data) -> np.ndarray:
    """A trace's x or y: a list, or Plotly's typed array ``{"dtype": "f4", "bdata": …}``."""
    import base64

    if isinstance(data, dict):
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"]).astype(float)
    return np.asarray(data, dtype=float)


def test_updates_are_counted_from_1_to_the_total_as_on_the_playground(page):
    """Update 0 is the start, update 140 of 140 the last: the link's update=140 is the last
    update taken apart, the one that ends at the Playground's update 140."""
    from ui import cache
    from ui.controls import Settings

    at = page(update="140")
    assert_clean(at)
    shown = scrubber(at)
    assert shown.header["update"] == 140
    last = shown.frame(139)
    run = cache.run(Settings(), None)
    np.testing.assert_array_equal(last["params"], run.params[139].astype(np.float32))
    assert last["title"] == "Update 140: 8 rows, one averaged step"  # 200 − 6 × 32 left
    assert last["before"] == "parameters before update 140"
    assert "At update 140, the 8 rows" in at.markdown[-1].value
    help_text = dict(shown.header["cards"])["Learning rate η here"]
    assert "t = the updates before this one" in help_text  # Keras's decay counts from t = 0


def test_the_pictures_are_named_with_their_numbers(page):
    """Each canvas is an image named by a sentence with the frame's numbers (inside.js sets
    the names from these)."""
    from ui import cache
    from ui.controls import Settings

    at = page(momentum="0.9")
    shown = scrubber(at)
    settings = Settings(momentum=0.9)
    run = cache.run(settings, None)
    x, y = cache.training_rows(settings, None)
    inside = noise.inside_update(settings.spec.build(), run, x, y, 3)
    frame = shown.frame(3)

    def pair(v):
        return f"({v[0]:.3g}, {v[1]:.3g})"

    summary = frame["summary"]
    assert summary.startswith("Update 4 of 140 on the loss contours, zoomed around the ")
    for vector in (inside.params, inside.batch_step, inside.full_step, inside.taken_step):
        assert pair(vector) in summary
    assert f"{inside.angle_to_full:.1f}°" in summary
    assert frame["data_summary"] == (
        f"The 32 rows of update 4 among the 200 training rows, and the fit before update 4, at "
        f"(w, b) = {pair(inside.params)}."
    )


def test_row_steps_past_the_zoom_are_counted_in_the_legend(page):
    """The zoom follows the update's main steps, so the longest row steps reach past it:
    the browser stops them at the edge and rings them, and the legend says how many."""
    shown = scrubber(page())
    counted = 0
    for update in range(0, 140, 7):
        frame = shown.frame(update)
        past = past_edge(frame)
        counted += past
        if past:
            assert frame["arrows_label"].endswith(f"; {past} reach past the edge, ringed there)")
            assert f"{past} reach past the edge" in frame["summary"]
        else:
            assert "past the edge" not in frame["arrows_label"]
    assert counted > 0  # the default run has such rows: the case is exercised


def test_the_hogwild_path_stays_inside_its_chart_at_equal_scales(page):
    """32 stale threads blow up at the default learning rate: their path stops at the
    window's edge, marked and named with the update it left at, and no point is drawn
    outside the axes."""
    at = page()
    fig = figure_of(at, "chart_threads_paths")
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio == 1
    (x0, x1), (y0, y1) = fig.layout.xaxis.range, fig.layout.yaxis.range
    tol = 1e-6 * max(x1 - x0, y1 - y0)  # float32 data
    for trace in fig.data:
        if trace.type != "scatter":
            continue
        x, y = values(trace.x), values(trace.y)
        inside = (x >= x0 - tol) & (x <= x1 + tol) & (y >= y0 - tol) & (y <= y1 + tol)
        assert np.all(inside), trace.name
    names = [t.name for t in fig.data]
    left = [n for n in names if "Hogwild" in n and "leaves the window at update" in n]
    assert len(left) == 1 and "(blew up at update 450)" in left[0]
    assert fig.layout.title.subtitle.text == "Zoomed: a path leaves the window"
    captions = " ".join(c.value for c in at.caption)
    assert "32 Hogwild threads (one-row, stale) leaves the window at update" in captions


def test_every_chart_has_an_accessible_name_with_its_numbers(page):
    at = page()
    names = {c.key: c.proto.alt for c in at.get("plotly_chart")}
    assert set(names) == {"chart_noise", "chart_timing", "chart_threads_paths"}
    captions = [c.value for c in at.caption]
    for key, name in names.items():
        title = figure_of(at, key).layout.title.text
        assert name.startswith(f"Chart: {title}. "), key
        summary = name[len(f"Chart: {title}. ") :]
        assert summary in captions and any(ch.isdigit() for ch in summary), key


def test_each_component_imports_every_shared_name_it_uses():
    """stage.js and inside.js import the shared drawing from ui/web/canvas.js: a name used but
    not imported is a ReferenceError that blanks the component at its first frame (it
    happened with ``dataRange``, used only after a spread ``...``); a name imported but not
    exported, or imported and declared again, fails the module at load (it happened with
    ``frameOf``); and a name imported but never used is dead."""
    import re
    from pathlib import Path

    web = Path(__file__).resolve().parents[1] / "ui" / "web"
    exported = set(
        re.findall(r"^export (?:const|function) (\w+)", (web / "canvas.js").read_text(), re.M)
    )
    for name in ("stage.js", "inside.js"):
        text = (web / name).read_text(encoding="utf-8")
        block = re.search(r'^import \{([^}]*)\} from "\./canvas\.js";$', text, re.M)
        imported = set(re.findall(r"\w+", block.group(1)))
        body = text[block.end() :]
        used = {n for n in exported if re.search(rf"(?:^|[^\w$.]|\.\.\.){n}\b", body, re.M)}
        declared = set(re.findall(r"^(?:const|let|function) (\w+)", body, re.M))
        assert imported <= exported, (name, sorted(imported - exported))
        assert used == imported, (name, sorted(used ^ imported))
        assert not declared & imported, (name, sorted(declared & imported))


# ---- issue 21: no link takes a class down: the page counts its work and refuses above it ----


def test_a_link_above_the_budget_is_refused_with_the_nearest_settings_that_fit(page):
    """Logistic regression on 10 000 rows took 9 s of server CPU: its loss surface, pictures
    and threads' run are counted now, so the page computes nothing and offers fewer samples;
    the offer's button opens the page at them."""
    from ui import budget, inside_a_batch
    from ui.controls import Settings

    at = page(model="logistic", n="10000")
    assert not at.exception, [e.value for e in at.exception]
    (warning,) = [w.value for w in at.warning if "Too much work" in w.value]
    work = inside_a_batch.work(Settings(model="logistic", n=10_000))
    assert f"would take {work:,} units of work" in warning and not budget.fits(work)
    assert "The nearest setting that fits: **use 1,000 samples**." in warning
    assert not at.get("plotly_chart") and not at.get("bidi_component")  # nothing computed
    at.button(key="budget_offer").click().run()
    assert_clean(at)
    assert at.session_state["n"] == 1000
    assert len(at.get("plotly_chart")) == 3 and scrubber(at).header["n_train"] == 1000


@pytest.mark.parametrize(
    ("query", "offer"),
    [
        ({"n": "10000", "epochs": "100", "batch_size": "1"}, "use 30 epochs"),
        ({"n": "10000", "epochs": "100", "batch_size": "1", "model": "tanh"}, "use 3 epochs"),
        ({"n": "10000", "model": "logistic"}, "use 1,000 samples"),
    ],
)
def test_the_heaviest_links_are_refused_with_an_offer_and_no_exception(page, query, offer):
    at = page(**query)
    assert not at.exception, [e.value for e in at.exception]
    (warning,) = [w.value for w in at.warning if "Too much work" in w.value]
    assert f"The nearest setting that fits: **{offer}**." in warning
    assert at.button(key="budget_offer")


def test_the_defaults_fit_and_render_with_every_update_loaded(page):
    from ui import budget, inside_a_batch
    from ui.controls import Settings

    assert budget.fits(inside_a_batch.work(Settings()))
    at = page()
    assert_clean(at)
    assert not [w.value for w in at.warning if "Too much work" in w.value]
    assert (scrubber(at).header["first"], scrubber(at).header["last_loaded"]) == (0, 139)


def test_the_pictures_of_a_costly_model_load_a_smaller_window_of_the_same_frames(page):
    """Logistic regression's zoomed losses cost 6 units a row: fewer frames are loaded at
    once (the browser asks for the next window), each the same picture as before."""
    linear, logistic = (
        scrubber(page(model=model, n="1000", epochs="1", batch_size="8"))
        for model in ("linear", "logistic")
    )
    assert logistic.header["last_loaded"] < linear.header["last_loaded"]
    assert logistic.header["last_loaded"] >= 1
