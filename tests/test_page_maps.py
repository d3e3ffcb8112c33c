"""The Maps page: it renders, its controls change the heatmaps, and a cell opens the
Playground with exactly its settings."""

import numpy as np
from streamlit.navigation.page import calc_hash

from tests.conftest import chart_specs
from ui import maps
from ui.controls import read_link

PAGE = "lessons/maps.py"


def test_renders_two_heatmaps_with_the_bound_and_the_scaling_rule(app):
    at = app(PAGE, n="100", epochs="5")
    assert not at.exception
    assert len(at.get("plotly_chart")) == 2
    text = " ".join(m.value for m in at.markdown)
    assert "the largest rate that still lowered the loss was" in text
    assert "cannot be stable above" in text


def test_controls_change_the_heatmaps(app):
    at = app(PAGE, n="100", epochs="5")
    before = chart_specs(at)
    at.select_slider(key="momentum").set_value(0.9).run()
    after_momentum = chart_specs(at)
    assert after_momentum[0] != before[0]
    at.select_slider(key="map_seeds").set_value(1).run()
    assert chart_specs(at) != after_momentum
    at.select_slider(key="epochs").set_value(10).run()
    assert not at.exception


def test_the_link_to_the_playground_carries_the_cell(app):
    at = app(PAGE, n="100", epochs="5", momentum="0.5")
    link = at.get("page_link")[0].proto
    query = dict(pair.split("=") for pair in link.query_string.split("&"))
    assert link.page_script_hash == calc_hash("playground")  # st.Page's id: its url path
    cell = at.selectbox(key="map_cell_batch").value
    rate, column = maps.MAP_RATES[cell[0]], maps.batch_sizes_for(100)[cell[1]]
    values, notices = read_link(query)
    assert notices == []
    assert values["learning_rate"] == rate and values["batch_size"] == column
    assert (values["n"], values["epochs"], values["momentum"]) == (100, 5, 0.5)
    at.selectbox(key="map_cell_batch").set_value((0, 0)).run()
    query = dict(pair.split("=") for pair in at.get("page_link")[0].proto.query_string.split("&"))
    assert read_link(query)[0]["learning_rate"] == maps.MAP_RATES[0]


def test_diverged_cells_are_crossed_out_not_only_coloured():
    result = maps.Map(
        rates=np.array([0.1, 1.0, 10.0]),
        columns=np.array([1, 2, 4]),
        loss=np.array([[1.0, 2.0, 3.0], [0.5, 0.4, 0.3], [np.nan, np.nan, 9.0]]),
        diverged=np.array([[False] * 3, [False] * 3, [True, True, False]]),
        start_loss=5.0,
    )
    fig = maps.heatmap(result, "batch_size", bound=2.0, title="t")
    crosses = next(t for t in fig.data if t.name == "diverged")
    assert len(crosses.x) == 2
    bound = next(t for t in fig.data if t.name.startswith("full-batch stability bound"))
    np.testing.assert_allclose(bound.y, np.log10(2.0))
    assert maps.best_cell(result) == (1, 2)
    assert maps.largest_stable_rate(result, 0) == 1.0  # 10 diverged in column 0
    assert maps.largest_stable_rate(result, 2) == 1.0  # 10 ended above the start loss (9 > 5)
    rule = next(t for t in fig.data if t.name.startswith("lr ∝ batch size"))
    np.testing.assert_allclose(10 ** np.asarray(rule.y), [0.25, 0.5, 1.0])  # through (4, 1.0)
