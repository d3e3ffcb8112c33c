"""Issue 18: the Playground's sharpness chart for the network (``ui.sharpness``): λmax along a
run against the edge of stability 2(1 + μ)/η_t, its words, and its work."""

import dataclasses

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import gd
from gd.sharpness import edge_of_stability, top_eigenvalue
from ui import budget, cache, charts, sharpness
from ui.controls import Settings
from ui.sharpness import NEAR, POINTS, Curve

NETWORK = Settings(model="network")


def network(**changes) -> tuple[Settings, gd.Run, np.ndarray, np.ndarray]:
    """The network's run on the default data with these settings, and its training rows."""
    settings = dataclasses.replace(NETWORK, **changes)
    x, y = cache.training_rows(settings, None)
    run = gd.fit(
        settings.spec.build(),
        x[:, 0],
        y,
        cache.optimizer_for(settings),
        settings.training,
        batch_size=settings.batch_size,
    )
    return settings, run, x, y


def measured(**changes) -> Curve:
    settings, run, x, y = network(**changes)
    return sharpness.measure(settings.spec.build(), run, x, y, cache.optimizer_for(settings))


def made(
    ratio,
    *,
    edge=40.0,
    updates=None,
    diverged_at=None,
    full_batch=False,
    momentum=0.0,
    decays=False,
) -> Curve:
    """A hand-made curve: λmax = ratio × edge at updates 0, 10, 20, … (or ``updates``)."""
    ratio = np.asarray(ratio, dtype=float)
    edges = np.broadcast_to(np.asarray(edge, dtype=float), ratio.shape).copy()
    steps = 10 * np.arange(ratio.size) if updates is None else np.asarray(updates)
    return Curve(steps, ratio * edges, edges, momentum, False, decays, full_batch, diverged_at)


# --- what is measured -------------------------------------------------------------------------


def test_lambda_max_at_a_measured_point_is_top_eigenvalue_there():
    settings, run, x, y = network(learning_rate=0.1)
    c = sharpness.measure(settings.spec.build(), run, x, y, cache.optimizer_for(settings))
    for k in (0, 17, len(c.updates) - 1):
        expected = top_eigenvalue(settings.spec.build(), run.params[c.updates[k]], x, y).value
        assert c.sharpness[k] == pytest.approx(expected, rel=1e-6)
    assert len(set(np.round(c.sharpness, 6))) > 1  # the curvature moved along the run


def test_at_most_POINTS_updates_are_measured_evenly_from_start_to_end():
    run = network(learning_rate=0.05)[1]  # 140 updates
    updates = sharpness.measured_updates(run)
    assert updates.size == POINTS and updates[0] == 0 and updates[-1] == run.updates
    assert np.ptp(np.diff(updates)) <= 1  # evenly spread
    short = sharpness.measured_updates(run, most=200)
    np.testing.assert_array_equal(short, np.arange(run.updates + 1))  # every update


def test_a_run_that_blew_up_is_measured_to_its_last_finite_point():
    settings, run, x, y = network(learning_rate=2.0)
    assert run.diverged_at == 3
    np.testing.assert_array_equal(sharpness.measured_updates(run), [0, 1, 2, 3])
    params = run.params.copy()
    params[-1, 5] = np.inf  # the blow-up's last step overflowed
    overflowed = dataclasses.replace(run, params=params)
    np.testing.assert_array_equal(sharpness.measured_updates(overflowed), [0, 1, 2])
    c = sharpness.measure(settings.spec.build(), overflowed, x, y, cache.optimizer_for(settings))
    assert c.diverged_at == 3 and np.all(np.isfinite(c.sharpness))


def test_the_edge_is_two_over_the_rate_of_the_update_that_follows_each_point():
    c = measured(learning_rate=0.05)
    np.testing.assert_allclose(c.edge, 40.0)
    c = measured(learning_rate=0.05, momentum=0.5, decay=0.01)
    run = network(learning_rate=0.05, momentum=0.5, decay=0.01)[1]
    expected = [edge_of_stability(0.05 / (1 + 0.01 * u), 0.5) for u in c.updates]
    np.testing.assert_allclose(c.edge, expected, rtol=1e-12)
    inside = c.updates < run.updates  # the run's own rates, where it has one
    np.testing.assert_allclose(c.edge[inside], 3.0 / run.learning_rate[c.updates[inside]])
    # 2(1 + μ)(1 + decay·t)/η is linear in t: the segments between points are the schedule
    slope = np.diff(c.edge) / np.diff(c.updates)
    np.testing.assert_allclose(slope, 2 * 1.5 * 0.01 / 0.05, rtol=1e-9)
    assert c.decays and c.symbol == "2(1 + μ)/ηₜ"
    c = measured(learning_rate=0.05, momentum=0.5, nesterov=True)  # Nesterov's lower line
    np.testing.assert_allclose(c.edge, 2 * 1.5 / (2 * 0.05))
    assert c.symbol == "2(1 + μ)/((1 + 2μ)η)"


def test_the_cached_curve_is_measure_on_the_sessions_run():
    settings = dataclasses.replace(NETWORK, learning_rate=0.1, epochs=3)
    cached = sharpness.curve(settings, None, 8)
    x, y = cache.training_rows(settings, None)
    direct = sharpness.measure(
        settings.spec.build(), cache.run(settings, None), x, y, cache.optimizer_for(settings), 8
    )
    np.testing.assert_array_equal(cached.updates, direct.updates)
    np.testing.assert_array_equal(cached.sharpness, direct.sharpness)


# --- its work ---------------------------------------------------------------------------------


def test_the_work_is_the_worst_case_of_the_power_iteration_and_grows_with_rows_and_points():
    per_point = sharpness.PHASES * sharpness.ITERATIONS * sharpness.PRODUCT_PASSES
    assert sharpness.ITERATIONS == 25 and per_point == 100
    cost = NETWORK.spec.cost
    assert sharpness.work(NETWORK) == POINTS * per_point * NETWORK.n_train * cost
    more_rows = dataclasses.replace(NETWORK, n=1000)
    assert sharpness.work(more_rows) == 5 * sharpness.work(NETWORK)
    assert sharpness.work(NETWORK, points=10) < sharpness.work(NETWORK, points=20)
    one_epoch = dataclasses.replace(NETWORK, epochs=1)  # 7 updates: 8 points at most
    assert sharpness.work(one_epoch) == sharpness.work(one_epoch, points=8)
    assert budget.fits(sharpness.work(NETWORK)) and not budget.fits(sharpness.work(more_rows))


def test_the_capped_power_iteration_finds_what_the_uncapped_one_does_on_default_runs():
    for rate in (0.05, 0.1):
        settings, run, x, y = network(learning_rate=rate)
        c = sharpness.measure(settings.spec.build(), run, x, y, cache.optimizer_for(settings))
        full = gd.sharpness.along(settings.spec.build(), run.params[c.updates], x, y)
        np.testing.assert_allclose(c.sharpness, full, rtol=1e-9)


# --- the figure -------------------------------------------------------------------------------


def test_the_figure_draws_lambda_max_and_the_line_at_its_height():
    c = measured(learning_rate=0.05)
    fig = sharpness.figure(c)
    curve, line = fig.data[:2]
    np.testing.assert_array_equal(curve.x, c.updates)
    np.testing.assert_array_equal(curve.y, c.sharpness)
    np.testing.assert_allclose(line.y, 2 / 0.05)
    assert line.name == "edge of stability 2/η = 40"
    assert [a.text for a in fig.layout.annotations] == ["2/η"]  # labelled on the chart
    assert len(fig.data) == 2  # no blow-up marker
    assert fig.layout.yaxis.type == "log"
    low, high = (10**v for v in fig.layout.yaxis.range)
    assert low < c.sharpness.min() and high > 40  # the line and every point in view
    assert charts.trace_colours(fig.to_plotly_json()) <= set(charts.PALETTE.values())


def test_under_decay_the_line_follows_the_schedule_and_says_so():
    c = measured(learning_rate=0.1, decay=0.01, epochs=10)
    line = sharpness.figure(c).data[1]
    expected = [edge_of_stability(0.1 / (1 + 0.01 * u)) for u in c.updates]
    np.testing.assert_allclose(line.y, expected, rtol=1e-12)
    assert line.name == f"edge of stability 2/ηₜ = 20 → {expected[-1]:.3g}"


def test_a_blow_up_is_marked_and_a_negative_lambda_max_gets_a_linear_axis():
    fig = sharpness.figure(made([3.0, 20.0, 500.0], edge=4.0, diverged_at=2))
    assert fig.data[-1].name == "blew up at update 2" and fig.data[-1].x[0] == 20
    assert fig.layout.annotations[0].yanchor == "top"  # λmax starts above: the label below
    saddle = sharpness.figure(made([-0.1, 0.2], edge=4.0))
    assert saddle.layout.yaxis.type != "log"  # a log axis would drop the negative point


def test_the_summary_gives_the_charts_numbers():
    c = made([0.3, 0.5, 0.46])
    assert sharpness.summary(c) == (
        "λmax at 3 points from update 0 to 20: 12 at the start, 18.4 at the end, against the "
        "edge 2/η = 40."
    )
    fig = sharpness.figure(c)
    assert charts.alt(fig, sharpness.summary(c)).startswith(
        "Chart: Sharpness against the edge of stability. λmax at 3 points"
    )


# --- the words --------------------------------------------------------------------------------


def test_the_caption_says_the_bound_is_local():
    words = sharpness.caption(made([0.5, 0.6]))
    for part in (
        "λmax (how sharply",
        "top eigenvalue of the loss's Hessian",
        "plain gradient descent",
        "quadratic",
        "The bound is local",
        "progressive sharpening",
        "Cohen et al. (2021)",
        "a warning, not a verdict",
        "Each mini-batch has its own curvature",
    ):
        assert part in words
    momentum = sharpness.caption(dataclasses.replace(made([0.5]), momentum=0.9, nesterov=True))
    assert (
        "the edge is 2(1 + μ)/η, 1.9 times higher: the bound of heavy-ball momentum (" in momentum
    )
    assert "With Nesterov's momentum it is 2(1 + μ)/((1 + 2μ)η), 2.8 times lower" in momentum
    decay = sharpness.caption(made([0.5], decays=True, full_batch=True))
    assert "rises along the run: 2/ηₜ" in decay and "mini-batch" not in decay


@pytest.mark.parametrize(
    ("curve", "expected"),
    [
        (
            made([0.3, 0.4, 0.46, 0.45]),
            "λmax stayed below the edge 2/η throughout: at most 46 % of it (18.4 against 40, "
            "at update 20).",
        ),
        (
            made([0.5, 0.8, 0.92, 1.05, 0.95], updates=[0, 1, 2, 3, 4]),
            "λmax rose to the edge 2/η = 40 at update 2 and hovered there, between 0.92 and 1.1 "
            "times the edge from then on.",
        ),
        (
            made([0.5, 0.8, 0.92, 1.05, 0.95]),  # points 10 updates apart: met somewhere between
            "λmax rose to the edge 2/η = 40 by update 20 and hovered there, between 0.92 and 1.1 "
            "times the edge from then on.",
        ),
        (
            made([0.95, 0.8, 1.02]),
            "λmax was at the edge 2/η = 40 from the start (0.95 times it) and hovered there, "
            "between 0.8 and 1 times the edge from then on.",
        ),
        (
            made([0.5, 0.95, 0.6]),
            "λmax rose to the edge 2/η = 40 by update 10, then fell back: it ended at 60 % of the "
            "edge.",
        ),
        (
            made([0.5, 0.92, 1.1, 1.3]),
            "λmax rose to the edge 2/η = 40 by update 10, crossed it by update 20 and went on "
            "past it, ending at 1.3 times the edge without blowing up: the bound is local.",
        ),
        (
            made([0.5, 0.95, 1.4, 30.0], diverged_at=30, updates=[0, 10, 20, 30]),
            "λmax crossed the edge 2/η = 40 by update 20, and the run blew up at update 30.",
        ),
        (
            made([3.2, 5.0, 4000.0], edge=4.0, diverged_at=2, updates=[0, 1, 2]),
            "λmax was above the edge from the start: 12.8 against 2/η = 4, and the run blew up "
            "at update 2.",
        ),
        (
            made([0.5, 0.7, np.nan], diverged_at=20),
            "λmax stayed below the edge 2/η at every point measured (at most 70 % of it), yet "
            "the run blew up at update 20: a mini-batch's own curvature can exceed the λmax of "
            "all the rows.",
        ),
        (
            made([0.5, 0.7], diverged_at=10, full_batch=True),
            "λmax stayed below the edge 2/η at every point measured (at most 70 % of it), yet "
            "the run blew up at update 10: the bound is local, and a step left the region where "
            "the quadratic holds.",
        ),
        (
            made([np.nan, np.nan], diverged_at=1),
            "λmax could not be measured: the gradient overflowed at every point.",
        ),
        (
            made([0.5, 0.8], edge=[40.0, 44.0], momentum=0.5, decays=True),
            "λmax stayed below the edge 2(1 + μ)/ηₜ throughout: at most 80 % of it (35.2 against "
            "44, at update 10).",
        ),
    ],
    ids=[
        "below",
        "hovered, every update",
        "hovered, sampled",
        "at the edge from the start",
        "fell back",
        "past without blowing up",
        "crossed and blew up",
        "above from the start",
        "below yet blew up",
        "below yet blew up, full batch",
        "overflowed",
        "momentum and decay",
    ],
)
def test_the_status_sentence(curve, expected):
    assert sharpness.status(curve) == expected


def test_near_is_the_threshold_of_at_the_edge():
    assert sharpness.status(made([0.5, NEAR - 1e-9])).startswith("λmax stayed below")
    assert sharpness.status(made([0.5, NEAR])).startswith("λmax rose to the edge")


def test_the_network_at_three_rates_gives_three_statuses():
    """Default data and start, batch size 32, 20 epochs: at 0.05 λmax rises to 46 % of the
    edge; at 0.1 progressive sharpening brings it to the edge, where it hovers; at 0.5 it is
    above the edge from the start and the run blows up (at 2.0 too, faster)."""
    assert sharpness.status(measured(learning_rate=0.05)).startswith(
        "λmax stayed below the edge 2/η throughout"
    )
    hover = sharpness.status(measured(learning_rate=0.1))
    assert hover.startswith("λmax rose to the edge 2/η = 20 by update") and "hovered" in hover
    for rate, update in ((0.5, 8), (2.0, 3)):
        words = sharpness.status(measured(learning_rate=rate))
        assert words.startswith("λmax was above the edge from the start")
        assert words.endswith(f"the run blew up at update {update}.")


def test_a_page_draws_it():
    def page():
        import streamlit as st

        from ui import budget, charts, sharpness
        from ui.controls import Settings

        settings = Settings(model="network", learning_rate=0.1, epochs=3)
        if budget.fits(sharpness.work(settings)):
            c = sharpness.curve(settings, None)
            fig = sharpness.figure(c)
            st.plotly_chart(fig, alt=charts.alt(fig, sharpness.summary(c)))
            st.caption(sharpness.status(c))

    at = AppTest.from_function(page, default_timeout=60).run()
    assert not at.exception
    assert at.caption[0].value.startswith("λmax ")
