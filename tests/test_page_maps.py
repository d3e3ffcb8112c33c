"""The Maps page: it renders, its controls change the heatmaps, and a cell opens the
Playground with exactly its settings."""

import dataclasses

import numpy as np
from streamlit.navigation.page import calc_hash

from tests.conftest import chart_specs
from ui import maps
from ui.controls import STORE, Settings, read_link

PAGE = "lessons/maps.py"


def test_renders_two_heatmaps_with_the_bound_and_the_scaling_rule(app):
    at = app(PAGE, n="100", epochs="5")
    assert not at.exception
    assert len(at.get("plotly_chart")) == 2
    text = " ".join(m.value for m in at.markdown)
    assert "the largest rate that lowered the loss and stayed stable was" in text
    assert "stability bound" in text


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


# ---- issue 10: the words and the picture agree; one colour scale in loss ----


def unstable_map() -> "maps.Map":
    """Rate 1.0 sits above a bound of 0.9 and did not diverge; 10 diverged."""
    return maps.Map(
        rates=np.array([0.1, 0.5, 1.0, 10.0]),
        columns=np.array([1, 2, 4]),
        loss=np.array([[2.0, 3.0, 4.0], [1.0, 0.5, 0.3], [0.9, 0.6, 0.4], [np.nan] * 3]),
        diverged=np.array([[False] * 3, [False] * 3, [False] * 3, [True] * 3]),
        start_loss=5.0,
        unstable=tuple(maps.Unstable(2, j, 0.25, 0.9, 1e7) for j in range(3)),
    )


def test_cells_above_the_bound_are_ringed_not_called_stable():
    result = unstable_map()
    assert maps.above_bound(result, np.full(3, 0.9)) == [(2, 0), (2, 1), (2, 2)]
    assert maps.largest_stable_rate(result, 2) == 0.5  # 1.0 lowered the loss, but is unstable
    fig = maps.heatmap(result, "batch_size", bound=0.9, title="t")
    ringed = next(t for t in fig.data if t.name == "above the bound, not diverged yet")
    assert len(ringed.x) == 3
    settings = Settings(n=4, batch_size=2, epochs=5)
    text = maps.describe(result, settings, 0.9)
    assert "largest rate that lowered the loss and stayed stable was 0.5" in text
    assert "alike, the largest rate" in text and "Both are capped by the full-batch" in text
    assert "its loss fell to 0.25 and then rose again to 0.9" in text  # the run's own numbers
    assert "bigger *best* rate" in text and "at batch size 1 came at rate 0.5" in text


def test_both_maps_share_one_colour_scale_labelled_in_loss(app):
    import json

    at = app(PAGE, n="100", epochs="5")
    bars, ranges = [], []
    for chart in at.get("plotly_chart"):
        heat = json.loads(chart.proto.spec)["data"][0]
        bars.append(heat["colorbar"])
        ranges.append((heat["zmin"], heat["zmax"]))
    assert ranges[0] == ranges[1]
    # issue 17: the gap above the minimum, on a log scale, shows the good band
    assert [b["title"]["text"] for b in bars] == ["final loss − minimum"] * 2
    assert all("log" not in t and "^" not in t for t in bars[0]["ticktext"])
    captions = " ".join(c.value for c in at.caption)
    assert captions.count("the lowest final loss") == 2  # a summary under each map
    assert "on the left" not in " ".join(m.value for m in at.markdown)


def test_the_default_map_explains_rate_1_above_the_bound(app):
    at = app(PAGE)  # n = 200, 20 epochs: rate 1 is just above the bound 0.997
    text = " ".join(m.value for m in at.markdown)
    assert "the largest rate that still lowered the loss was 1" not in text
    assert "sit above the bound but had not diverged yet" in text


# ---- issue 16: a clicked link opens exactly its run; hovering a cell reads in numbers ----


def follow(at, link, page: str):
    """Click an ``st.page_link`` as the browser does: rerun on its page with its address."""
    at.query_params.clear()
    for pair in link.query_string.split("&"):
        key, value = pair.split("=")
        at.query_params[key] = value
    return at.switch_page(page).run()


def test_a_clicked_cell_link_opens_exactly_its_run(app):
    at = app(PAGE, n="100", epochs="5", momentum="0.5")
    at.selectbox(key="map_cell_momentum").set_value((3, 0)).run()  # momentum 0, not 0.5
    link = at.get("page_link")[1].proto
    assert "momentum=0.0" in link.query_string  # a default, named: the session has 0.5
    follow(at, link, "lessons/playground.py")
    assert not at.exception
    stored = at.session_state[STORE]
    assert (stored["learning_rate"], stored["momentum"]) == (maps.MAP_RATES[3], 0.0)
    assert (stored["n"], stored["epochs"], stored["batch_size"]) == (100, 5, 32)
    assert read_link(at.query_params)[0] == stored  # the address names the run drawn


def test_a_link_sets_what_it_was_drawn_to_change_and_nothing_stale(app):
    """Its other parameters were the session's when it was drawn; a later change that did not
    redraw it (the Playground's stage commits in a fragment) stands."""
    at = app(PAGE, n="100", epochs="5")
    link = at.get("page_link")[0].proto
    assert "epochs=5" in link.query_string
    at.session_state[STORE]["epochs"] = 10  # as a fragment's commit would, link not redrawn
    follow(at, link, "lessons/playground.py")
    stored = at.session_state[STORE]
    query = read_link(dict(pair.split("=") for pair in link.query_string.split("&")))[0]
    assert (stored["learning_rate"], stored["batch_size"]) == (
        query["learning_rate"],
        query["batch_size"],
    )
    assert stored["epochs"] == 10 and at.query_params["epochs"] == "10"


def test_a_link_from_elsewhere_sets_what_it_names_and_keeps_the_rest(app):
    at = app(PAGE, n="100", epochs="5")
    at.query_params.clear()
    at.query_params["learning_rate"] = "0.2"  # a link this session did not draw
    at.switch_page("lessons/inside_a_batch.py").run()
    assert not at.exception
    stored = at.session_state[STORE]
    assert (stored["learning_rate"], stored["n"], stored["epochs"]) == (0.2, 100, 5)
    assert at.select_slider(key="learning_rate").value == 0.2


def test_moving_with_the_sidebar_keeps_the_settings(app):
    at = app(PAGE, n="100", epochs="5")
    at.query_params.clear()  # the sidebar's navigation comes with no address
    at.switch_page("lessons/inside_a_batch.py").run()
    assert (at.session_state[STORE]["n"], at.session_state[STORE]["epochs"]) == (100, 5)
    assert dict(at.query_params) == {"n": "100", "epochs": "5"}


def test_hovering_a_cell_reads_its_numbers_and_only_the_cells_answer():
    result = unstable_map()
    fig = maps.heatmap(result, "batch_size", bound=0.9, title="t")
    (cells,) = [t for t in fig.data if t.name == maps.CELLS]
    texts = [c[0] for c in cells.customdata]
    assert len(texts) == result.loss.size and cells.hovertemplate.startswith("%{customdata[0]}")
    first = texts[0].split("<br>")
    assert first[0] == "learning rate 0.1, batch size 1, final loss 2"
    assert first[-1] == "Click to open this run in the Playground"
    ringed = texts[2 * 3 + 1].split("<br>")  # rate 1.0, batch size 2
    assert ringed[0] == "learning rate 1, batch size 2, final loss 0.6"
    assert ringed[1:3] == [
        "above the stability bound (ringed): its loss fell to 0.25",
        "and ended at 0.9; with more epochs it blows up",
    ]
    assert texts[-1].startswith("learning rate 10, batch size 4, diverged (crossed out)")
    assert "lowest final loss on the map (star)" in texts[3 + 2]  # rate 0.5, batch size 4
    others = [t for t in fig.data if t.name != maps.CELLS]
    assert all(t.hoverinfo == "skip" for t in others)  # nothing says a raw log value
    assert fig.layout.hoverdistance == -1  # the nearest cell, wherever the pointer is


def test_a_click_finds_the_cell_under_it():
    result = unstable_map()
    x = maps.cell_x(result, "batch_size")  # log₂ 1, 2, 4
    assert maps.clicked_cell(result, "batch_size", {"x": x[2], "y": np.log10(0.5)}) == (1, 2)
    assert maps.clicked_cell(result, "batch_size", {"x": 0.9, "y": 0.1}) == (2, 1)  # nearest
    momentum = dataclasses.replace(result, columns=np.array([0.0, 0.5, 0.9]))
    assert maps.clicked_cell(momentum, "momentum", {"x": 2, "y": -1}) == (0, 2)
    s = Settings(momentum=0.5, nesterov=True)
    assert maps.cell_settings(s, 1.0, 0.0, "momentum") == Settings(learning_rate=1.0)
