"""Batch, mini-batch, stochastic: the page in AppTest, its builders and its words."""

from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import TIMEOUT, chart_specs
from ui import batch_sizes, cache, controls
from ui import batch_sizes_charts as figures
from ui.batch_sizes_charts import Axes, Band, Curve
from ui.cost import COST_ROWS, cost_model, cost_sentence

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "lessons" / "batch_sizes.py"
SMALL = {"n": "50", "epochs": "5", "seeds": "3"}  # small and fast; "seeds" is not a setting


@pytest.fixture
def page():
    """Open the page on its own (app.py only adds navigation) with query parameters."""
    st.cache_data.clear()

    def open_page(**query: str) -> AppTest:
        at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT)
        for key, value in ({k: v for k, v in SMALL.items() if k != "seeds"} | query).items():
            at.query_params[key] = value
        at.session_state["seeds"] = int(SMALL["seeds"])
        return at.run()

    return open_page


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_page_renders_question_charts_table_and_takeaway(page):
    at = page()
    assert_clean(at)
    assert at.markdown[0].value.startswith("**Which is better")
    assert len(at.get("plotly_chart")) == 4
    table = at.table[0].value  # one column per run, one row per quantity
    assert table.loc["batch size"].tolist() == [1, 32, 50]
    assert table.loc["updates / epoch"].tolist() == [50, 2, 1]  # ceil(50 / 32) = 2
    captions = " ".join(c.value for c in at.caption)
    assert "Timed once on this server" in captions and "NumPy loop" in captions
    assert "status" not in table.index  # it always said "finished"


@pytest.mark.parametrize(
    ("kind", "key", "value"),
    [
        ("select_slider", "mini_batch_size", 8),
        ("segmented_control", "batch_x_axis", "updates"),
        ("toggle", "batch_raw", True),
        ("number_input", "seeds", 2),
        ("select_slider", "learning_rate", 0.1),
    ],
)
def test_each_control_changes_the_charts(page, kind, key, value):
    at = page()
    before = chart_specs(at)
    getattr(at, kind)(key=key).set_value(value).run()
    assert_clean(at)
    assert chart_specs(at) != before


def test_a_diverging_run_is_explained_and_the_others_still_draw(page):
    at = page(learning_rate="1.0")  # stable for the full batch, not one row at a time
    assert_clean(at)
    warnings = " ".join(w.value for w in at.warning)
    assert "batch size 1 (stochastic) diverged at update" in warnings
    assert len(at.get("plotly_chart")) == 4
    final = at.table[0].value.loc["final loss"].tolist()
    assert np.isnan(final[0]) and final[-1] > 0  # the diverged run has no final loss


def test_runs_inside_the_app(app):
    at = app(page="lessons/batch_sizes.py", **{k: v for k, v in SMALL.items() if k != "seeds"})
    assert_clean(at)
    assert len(at.get("plotly_chart")) == 4


# ---- builders and words, without Streamlit running ----


def axes(updates, samples_per_update: float = 1.0, ms_per_update: float = 1.0) -> Axes:
    updates = np.asarray(updates, dtype=float)
    samples = updates * samples_per_update
    return Axes(updates, samples / 100, samples, updates * ms_per_update)


def band(name: str, color: str, x: Axes, median, seeds: int = 4) -> Band:
    median = np.asarray(median, dtype=float)
    ends = np.column_stack([np.arange(seeds), np.ones(seeds)]).astype(float)
    return Band(name, color, 1, 1, x, median * 0.9, median, median * 1.1, ends, ends, seeds)


def flat_surface(grid: np.ndarray) -> cache.Surface:
    """A surface of two parameters (w, b) over ``grid`` × ``grid``, its minimum at (0, 0)."""
    return cache.Surface(grid, grid, np.ones((grid.size, grid.size)), np.zeros(2), 0.0, ("w", "b"))


def test_loss_curves_have_one_trace_per_run_and_titled_axes():
    x = axes(np.arange(5))
    curves = [
        Curve(f"run {i}", color, 1, 1, x, np.linspace(5, 1, 5), False, x, np.linspace(5, 1, 5))
        for i, color in enumerate(batch_sizes.COLORS.values())
    ]
    for unit, title in figures.UNITS.items():
        fig = figures.loss_curves_figure(curves, unit)
        assert len(fig.data) == 3
        assert fig.layout.xaxis.title.text == title
        assert fig.layout.yaxis.title.text == "full training loss"
        assert fig.layout.yaxis.type == "log"


def test_band_figure_draws_a_filled_band_and_a_median_per_batch_size():
    bands = [
        band("a", "#D55E00", axes(range(4)), [4, 3, 2, 1]),
        band("b", "#E69F00", axes(range(4)), [4, 2, 1, 0.5]),
    ]
    fig = figures.band_figure(bands, "samples", log_y=False)
    assert len(fig.data) == 6  # low edge, filled high edge, median
    assert [t.fill for t in fig.data].count("tonexty") == 2
    assert fig.data[1].fillcolor == "rgba(213, 94, 0, 0.2)"
    assert fig.layout.xaxis.title.text == "samples seen"
    assert "Median over 4 seeds" in fig.layout.title.text


def test_the_seed_cloud_has_one_point_per_seed_per_batch_size():
    settings = controls.Settings(n=40, epochs=3)
    ensembles = batch_sizes.seed_ensemble(settings, (1, 8, 40), 5, None)
    assert [e.ends.shape for e in ensembles] == [(5, 2)] * 3
    # Full batch ignores the row order: every seed ends in the same place, up to rounding.
    np.testing.assert_allclose(ensembles[2].ends, ensembles[2].ends[:1].repeat(5, axis=0))
    surface = flat_surface(np.linspace(-3, 3, 7))
    bands = [band(str(size), "#009E73", axes(range(3)), [3, 2, 1], seeds=5) for size in (1, 8)]
    fig = figures.contour_with_ends(surface, surface, [], bands, close_up=True)
    clouds = [t for t in fig.data if t.name.endswith("end of each seed")]
    assert [len(t.x) for t in clouds] == [5, 5]
    assert tuple(fig.layout.xaxis.range) == pytest.approx((-0.9, 0.9))  # ±15% of the window


def test_the_winner_depends_on_the_unit():
    # Batch size 1 reads 1 row per update, full batch 100: full batch needs fewer updates,
    # batch size 1 fewer samples.
    stochastic = band("batch size 1", "#D55E00", axes(range(6), 1), [9, 8, 7, 6, 5, 0.5])
    full = band("full batch", "#CC79A7", axes(range(6), 100), [9, 0.5, 0.4, 0.3, 0.2, 0.1])
    best = batch_sizes.winners([stochastic, full], target=1.0)
    assert best["updates"] is full and best["samples"] is stochastic
    sentence = batch_sizes.winners_sentence([stochastic, full], 1.0, start=9.0, minimum=0.1)
    assert "counting updates (optimizer steps), **full batch** (1 update), 5× fewer than " in (
        sentence
    )
    assert "counting samples seen, **batch size 1** (5 samples), 20× fewer than full" in sentence
    assert "Different units crown different winners" in sentence


def test_one_winner_everywhere_and_no_winner_are_said_plainly():
    fast = band("fast", "#D55E00", axes(range(3)), [9, 0.5, 0.1])
    slow = band("slow", "#CC79A7", axes(range(3)), [9, 5, 2])
    assert "same batch size wins in every unit" in batch_sizes.winners_sentence(
        [fast, slow], 1.0, 9.0, 0.1
    )
    assert "No batch size gets there" in batch_sizes.winners_sentence([slow], 1.0, 9.0, 0.1)


def test_a_tie_is_not_called_a_win_in_every_unit():
    """Issue 17: "the same batch size wins in every unit" sat beside "ties" in one paragraph."""
    one = band("one", "#D55E00", axes(range(3)), [9, 0.5, 0.1])
    other = band("other", "#CC79A7", axes(range(3)), [9, 0.5, 0.1])
    sentence = batch_sizes.winners_sentence([one, other], 1.0, 9.0, 0.1)
    assert "tied with" in sentence
    assert "wins in every unit" not in sentence
    assert "though some tie it" in sentence


def test_mini_batch_choices_are_powers_of_two_below_the_training_rows():
    assert batch_sizes.mini_batch_sizes(64) == [2, 4, 8, 16, 32]
    assert batch_sizes.default_mini_batch([2, 4, 8]) == 8
    assert batch_sizes.batch_sizes(50, 32) == (1, 32, 50)
    assert batch_sizes.batch_sizes(2, None) == (1, 2)


# ---- issue 10: one cost model, epochs first, readable noise, blow-ups, summaries ----


def spec_of(at, key: str) -> dict:
    import json

    return json.loads(next(c for c in at.get("plotly_chart") if c.key == key).proto.spec)


def test_time_comes_from_the_one_measured_cost_model():
    settings = controls.Settings(n=50, epochs=3)
    result = batch_sizes.compare_for(settings, 8, 2)
    model = cost_model(settings.model)
    assert result.cost is model  # measured once per process, whatever the settings
    assert cost_model(settings.model) is model
    assert model.rows == COST_ROWS and model.cost.fixed_ms > 0
    for curve, run in zip(result.curves, result.runs, strict=True):
        steps = run.loss_steps
        expected = model.cost.fixed_ms * steps + model.cost.per_row_ms * run.samples_seen[steps]
        np.testing.assert_allclose(curve.x.time, expected)
    table = batch_sizes.table(result)
    np.testing.assert_allclose(table["ms / epoch"], [model.ms_per_epoch(b, 50) for b in (1, 8, 50)])
    sentence = cost_sentence(model)
    assert "NumPy loop" in sentence and f"{COST_ROWS} synthetic rows" in sentence


def test_the_x_axis_starts_in_epochs(page):
    at = page()
    assert at.segmented_control(key="batch_x_axis").value == "epochs"
    assert spec_of(at, "chart_losses")["layout"]["xaxis"]["title"]["text"] == "epochs"


def noisy_curve(n_updates: int = 400, per_epoch: int = 50) -> Curve:
    """A batch-size-1 run: full loss near 1 with single points down at 1e-8."""
    updates = np.arange(n_updates + 1, dtype=float)
    loss = 1.0 + 0.3 * np.sin(updates)
    loss[5::37] = 1e-8
    x = Axes(updates, updates / per_epoch, updates, updates)
    ends = np.arange(per_epoch, n_updates + 1, per_epoch, dtype=float)
    epochs = Axes(ends, ends / per_epoch, ends, ends)
    return Curve("batch size 1", "#E69F00", 1, per_epoch, x, loss, False, epochs, np.ones(8))


def test_a_noisy_run_is_smoothed_and_its_points_do_not_set_the_range():
    curve = noisy_curve()
    fig = figures.loss_curves_figure([curve], "epochs")
    low, high = fig.layout.yaxis.range  # log10 units
    assert low > -1 and high < 1  # 1e-8 single points left out of the range
    assert [t.name for t in fig.data if t.mode == "markers"] == []  # raw points: off
    assert any(t.fill == "tonexty" for t in fig.data)  # the rolling 10–90% band
    median = next(t for t in fig.data if t.name == "batch size 1")
    assert np.min(median.y) > 0.5  # the rolling median ignores the lucky points
    raw = figures.loss_curves_figure([curve], "epochs", raw=True)
    assert [t.name for t in raw.data if t.mode == "markers"] == ["batch size 1: every update"]
    assert tuple(raw.layout.yaxis.range) == tuple(fig.layout.yaxis.range)  # same view


def test_log_axes_are_labelled_1_10_100_not_powers():
    fig = figures.loss_curves_figure([noisy_curve()], "epochs")
    assert all(not t.startswith("10") or t.isdigit() for t in fig.layout.yaxis.ticktext)
    x = axes(np.arange(4))
    curve = Curve("full", "#CC79A7", 1, 1, x, np.array([300.0, 20, 1, 0.01]), False, x, x.time)
    ticks = figures.loss_curves_figure([curve], "updates").layout.yaxis.ticktext
    assert list(ticks) == ["0.01", "0.1", "1", "10", "100"]


def test_the_contours_follow_a_blow_up(page):
    at = page(learning_rate="1.0")  # batch size 1 blows up; the window widens to follow it
    surface_x = spec_of(page(), "chart_contour")["layout"]["xaxis"]["range"]
    wide_x = spec_of(at, "chart_contour")["layout"]["xaxis"]["range"]
    assert wide_x[1] - wide_x[0] > 1.5 * (surface_x[1] - surface_x[0])


def test_every_chart_has_a_summary_and_okabe_ito_colours(page):
    from ui import charts

    at = page(learning_rate="1.0")
    captions = " ".join(c.value for c in at.caption)
    for start in (
        "From (w, b) = (-1, 2)",
        "Full training loss at the end:",
        "Median final loss",
        "Spread of the seeds' end points",
    ):
        assert start in captions
    for chart in at.get("plotly_chart"):
        spec = spec_of(at, chart.key)
        assert {c for c in charts.trace_colours(spec) if not charts.palette_colour(c)} == set()
        bar = [t["colorbar"] for t in spec["data"] if "colorbar" in t]
        assert all(b["title"]["text"] == "training loss" for b in bar)


def test_no_text_points_at_a_sidebar_or_side_that_a_phone_hides(page):
    at = page()
    words = " ".join(e.value for e in [*at.markdown, *at.caption])
    assert "on the left" not in words and "drawn on the left" not in words


# ---- issue 16: charts that hold what they show, equal scales, names for screen readers ----


def figure_of(at, key: str):
    """The chart's figure as Plotly reads it back."""
    import plotly.io as pio

    return pio.from_json(next(c for c in at.get("plotly_chart") if c.key == key).proto.spec)


def values(data) -> np.ndarray:
    """A trace's x or y: a list, or Plotly's typed array ``{"dtype": "f4", "bdata": …}``."""
    import base64

    if isinstance(data, dict):
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"]).astype(float)
    return np.asarray(data, dtype=float)


def test_the_valleys_are_drawn_at_equal_scales(page):
    """The same valley looks like the Playground's: one unit as long on both axes."""
    at = page()
    for key in ("chart_contour", "chart_ends"):
        fig = figure_of(at, key)
        assert fig.layout.yaxis.scaleanchor == "x", key
        assert fig.layout.yaxis.scaleratio == 1, key
        assert fig.layout.height >= 520, key  # room for a square plot on a projector


@pytest.mark.parametrize("unit", ["time", "updates"])
def test_every_run_spreads_over_the_time_and_updates_axes(unit):
    """Batch size 1 takes 200× the updates of the full batch (and most of the time): on a
    linear axis the other two runs were a line at 0. Each curve now spans a good part of the
    axis, and no point lies outside it."""
    result = batch_sizes.compare_for(controls.Settings(), 32, 2)
    for fig in (
        figures.loss_curves_figure(result.curves, unit),
        figures.band_figure(result.bands, unit),
    ):
        assert fig.layout.xaxis.type == "log"
        low, high = fig.layout.xaxis.range  # log10 units
        lines = [t for t in fig.data if t.mode == "lines" and t.showlegend is not False]
        assert len(lines) == 3
        for line in lines:
            x = np.log10(np.asarray(line.x, dtype=float))
            assert low <= x.min() and x.max() <= high, line.name
            assert (x.max() - x.min()) / (high - low) > 0.25, line.name
        assert fig.layout.title.subtitle.text == f"{unit} on a log scale"
    note = figures.log_axis_note(result.curves, unit)
    assert "batch size 1 (stochastic) runs to" in note and "logarithmic" in note


def test_a_blown_up_path_stops_at_the_edge_and_says_so(page):
    at = page(learning_rate="1.0")  # batch size 1 blows up past the widest window
    fig = figure_of(at, "chart_contour")
    (x0, x1), (y0, y1) = fig.layout.xaxis.range, fig.layout.yaxis.range
    drawn = [t for t in fig.data if t.type == "scatter" and t.x is not None]
    for trace in drawn:
        x, y = values(trace.x), values(trace.y)  # float32: 1e-6 of the window is rounding
        tol = 1e-6 * max(x1 - x0, y1 - y0)
        inside = (x >= x0 - tol) & (x <= x1 + tol) & (y >= y0 - tol) & (y <= y1 + tol)
        assert np.all(inside), trace.name
    run = next(
        r
        for r in batch_sizes.compare_for(
            controls.Settings(n=50, epochs=5, learning_rate=1.0), 32, 3
        ).runs
        if r.batch_size == 1
    )
    params = run.params[:, :2]
    with np.errstate(invalid="ignore"):  # the first parameters outside the chart's ranges
        left_at = int(np.argmin(np.all((params >= [x0, y0]) & (params <= [x1, y1]), axis=1)))
    assert 0 < left_at <= run.diverged_at
    assert [t.name for t in drawn if "leaves the window" in t.name] == [
        f"batch size 1 (stochastic):<br>leaves the window at update {left_at}<br>"
        f"(blew up at update {run.diverged_at:,})"
    ]
    assert "leaves the window at update" in at.caption[0].value  # the summary says so too
    assert fig.layout.title.subtitle.text == "Zoomed: a path leaves the window"


def test_the_close_up_counts_the_seeds_it_leaves_out():
    surface = flat_surface(np.linspace(-3, 3, 7))
    x = axes(range(3))
    bands = [band("far", "#009E73", x, [3, 2, 1], seeds=5)]  # ends at w = 0 … 4, b = 1
    fig = figures.contour_with_ends(surface, surface, [], bands, close_up=True)
    window = figures.close_up_for(surface, bands)
    assert fig.layout.title.subtitle.text == "5 of the 5 end points lie outside it"
    assert "far 1.4 (5 of 5 outside the close-up)" in figures.ends_summary(bands, window)


def test_every_chart_has_an_accessible_name_with_its_numbers(page):
    at = page()
    names = {c.key: c.proto.alt for c in at.get("plotly_chart")}
    assert set(names) == {"chart_contour", "chart_losses", "chart_bands", "chart_ends"}
    captions = [c.value for c in at.caption]
    for key, name in names.items():
        title = figure_of(at, key).layout.title.text
        assert name.startswith(f"Chart: {title}. "), key
        summary = name[len(f"Chart: {title}. ") :]
        assert summary in captions, key  # the caption under it, with its numbers
        assert any(ch.isdigit() for ch in summary), key


def test_the_table_is_one_column_per_run(page):
    """Four columns fit a 360-px phone; eight did not (478 px)."""
    view = batch_sizes.table_view(batch_sizes.compare_for(controls.Settings(n=50, epochs=5), 32, 3))
    assert view.data.shape == (7, 3)
    html = view.to_html()
    assert ">250<" in html and ">250.0<" not in html  # counts as whole numbers
