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
    """The update scrubber's payload, decoded (``ui.inside_stage.payload.Decoded``)."""
    (component,) = at.get("bidi_component")
    return decode(component.proto.bytes)


def stop_at(at, update: int):
    """What the browser's stop does: the update in the session, then a rerun."""
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
    assert shown.header["last"] == 139  # 7 updates per epoch × 20 epochs
    assert shown.header["update"] == 0
    assert (shown.header["first"], shown.header["last_loaded"]) == (0, 139)  # all fit
    assert shown.frame(0)["cards"][0] == "32"  # Rows in the batch (B)
    assert "not by 32 threads" in " ".join(m.value for m in at.markdown)
    assert any("grad = 2 / B * X_b.T @ (X_b @ w - y_b)" in c.value for c in at.code)
    assert "At update 0, the 32 rows" in at.markdown[-1].value


def test_a_stop_moves_the_page_and_the_link(page):
    at = page()
    before = chart_specs(at)
    stop_at(at, 40)
    assert_clean(at)
    assert chart_specs(at) != before
    assert "At update 40" in at.markdown[-1].value
    assert at.query_params["update"] == "40"
    assert scrubber(at).header["update"] == 40
    stop_at(at, 0)
    assert "update" not in at.query_params  # the default is not in the link


def test_a_link_opens_at_its_update(page):
    at = page(update="57")
    assert_clean(at)
    assert scrubber(at).header["update"] == 57
    assert "At update 57" in at.markdown[-1].value


@pytest.mark.parametrize("text", ["abc", "-3", "**1**"])
def test_a_bad_update_in_a_link_opens_at_update_0(page, text):
    at = page(update=text)
    assert_clean(at)
    assert scrubber(at).header["update"] == 0


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
    for update in (0, 6, 7, 77, 139):
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
        assert frame["where"].startswith(f"Update {update} of 140 (epoch {update // 7 + 1}, ")
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
    assert frame["arrows_label"] == f"{ARROWS_NAME} ({min(batch, MAX_ARROWS)} of {batch} shown)"


def test_a_long_run_loads_a_window_around_the_update(page):
    at = page(n="2000", batch_size="1", epochs="1", update="1500")
    assert_clean(at)
    shown = scrubber(at)
    assert shown.header["last"] == 1999
    assert shown.header["first"] <= 1500 <= shown.header["last_loaded"]
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
    last = scrubber(at).header["last"]
    assert last < diverged_at  # the scrubber stops before the blow-up
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
    stop_at(at, 139)
    at.select_slider(key="epochs").set_value(1).run()
    assert_clean(at)
    assert scrubber(at).header["update"] == 6
    assert at.query_params["update"] == "6"


@pytest.mark.parametrize(
    ("sent", "chosen"),
    [(3, 3), (3.0, 3), (0, 0), (139, 139), (140, None), (-1, None), (1.5, None), (True, None),
     ("3", None), (None, None), (float("nan"), None)],
)  # fmt: skip
def test_a_reported_update_is_checked(sent, chosen):
    from ui.inside_stage import _stopped

    assert _stopped(sent, 139) == chosen


# ---- issue 10: one cost model, arrows that show, true captions, summaries ----


def test_epoch_time_is_the_cost_model_of_batch_sizes(page):
    from ui import cache

    at = page()
    assert_clean(at)
    model = cache.cost_model("linear")
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
