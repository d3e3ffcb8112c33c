"""Batch, mini-batch, stochastic with the network (issue 18): every contour chart draws the runs
on the slice through its 49 weights, and its words name the ✕ for what it is."""

import dataclasses

import numpy as np
import pytest

from tests.test_page_batch_sizes import figure_of, values
from ui import batch_sizes_charts as figures
from ui import cache, charts
from ui.controls import Settings

PAGE = "lessons/batch_sizes.py"
QUERY = {"model": "network", "n": "50", "epochs": "5", "seeds": "3"}
# The page's middle run, whose end the slice goes through: mini-batch 32 of 50 rows, seed 0.
MIDDLE = Settings(model="network", n=50, epochs=5, batch_size=32)


@pytest.fixture
def network_page(app):
    at = app(PAGE, **QUERY)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def traces(at, key: str) -> dict:
    """The chart's traces by name, and its layout under ""."""
    figure = figure_of(at, key)
    return {trace.name: trace for trace in figure.data} | {"": figure.layout}


def test_the_paths_are_the_runs_projected_on_the_slice(network_page):
    run, surface = cache.run(MIDDLE, None), cache.surface_for(MIDDLE)
    assert surface.plane is not None
    drawn = traces(network_page, "chart_contour")
    path = drawn["mini-batch 32"]
    custom = path.customdata  # (m, 3): update, epoch, loss; a typed array carries its shape
    shape = [int(k) for k in custom["shape"].split(",")] if isinstance(custom, dict) else (-1, 3)
    updates = values(custom).reshape(shape)[:, 0].astype(int)
    projected = surface.project(run.params)[updates]  # (m, 2) the chart's α and β
    np.testing.assert_allclose(values(path.x), projected[:, 0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(values(path.y), projected[:, 1], rtol=1e-5, atol=1e-6)
    assert not np.allclose(values(path.x), run.params[updates, 0])  # not W1[0,0] against W1[0,1]
    end = surface.project(run.params[-1])  # (2,) on the slice exactly: it goes through it
    mark = drawn["mini-batch 32: end"]
    np.testing.assert_allclose([values(mark.x)[0], values(mark.y)[0]], end, rtol=1e-6, atol=1e-9)
    seeds = drawn["mini-batch 32: end of each seed"]  # seed 0 first: the run drawn
    np.testing.assert_allclose([values(seeds.x)[0], values(seeds.y)[0]], end, rtol=1e-6, atol=1e-9)


def test_the_slice_is_titled_named_and_explained_once(network_page):
    surface = cache.surface_for(MIDDLE)
    for key in ("chart_contour", "chart_ends"):
        drawn = traces(network_page, key)
        layout = drawn[""]
        assert (layout.xaxis.title.text, layout.yaxis.title.text) == surface.axis_titles
        cross = drawn[charts.target_words(surface.plane)[1]]  # "best found", not "minimum"
        assert cross.marker.symbol == "x"
        np.testing.assert_allclose([values(cross.x)[0], values(cross.y)[0]], surface.minimum)
        assert "minimum" not in drawn
    ends = traces(network_page, "chart_ends")[""]  # the close-up follows the ends on the slice
    assert not ends.title.subtitle.text  # no end point left out
    captions = [c.value for c in network_page.caption]
    notes = [c for c in captions if c.startswith(surface.slice_note)]
    assert len(notes) == 1 and "“this run” is the mini-batch 32 run" in notes[0]
    text = " ".join(captions + [m.value for m in network_page.markdown])
    assert "the minimum" not in text  # the ✕ is the best point found, said so everywhere
    assert "down to the best point found" in text
    assert "in all 49 parameters, not on the slice" in text  # the spread is not the shadow's


def test_the_close_up_on_a_slice_holds_the_ends_inside_the_grid():
    """Runs of a few epochs stop far from the ✕: the close-up follows their ends, moved into
    the computed grid so that no band of it is blank."""
    grid = np.linspace(-1.0, 3.0, 9)
    surface = cache.Surface(grid, grid, np.ones((9, 9)), np.array([2.5, 2.5]), 0.0, ("α", "β"))
    surface = dataclasses.replace(surface, plane=object())  # only "a slice or not" is read
    drawn = np.array([[0.0, -0.9], [1.0, -0.5]])  # near the grid's bottom edge
    band = figures.Band("b", "#009E73", 1, 1, None, *[np.ones(1)] * 3, drawn, drawn, 2)
    (x0, x1), (y0, y1) = figures.close_up_for(surface, [band])
    assert grid[0] <= y0 < y1 <= grid[-1] and grid[0] <= x0 < x1 <= grid[-1]
    assert figures.ends_outside(band, ((x0, x1), (y0, y1))) == 0
    assert x1 < 2.5  # the ✕ is not in it: the caption says so
