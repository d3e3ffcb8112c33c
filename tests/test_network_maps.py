"""Hyperparameter maps with the network (issue 18): no closed-form bound is drawn or named as a
number, the page says why in one line, and its default fits the work budget."""

import json

from ui import budget, maps
from ui.controls import Settings

PAGE = "lessons/maps.py"


def words(at) -> str:
    return " ".join(m.value for m in at.markdown) + " " + " ".join(c.value for c in at.caption)


def heatmaps(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def test_the_maps_say_in_one_line_why_no_bound_is_drawn(app):
    at = app(PAGE, model="network", n="100", epochs="5")
    assert not at.exception and not at.warning
    assert len(at.get("plotly_chart")) == 2
    text = words(at)
    assert text.count(maps.NO_BOUND) == 1
    assert "the largest rate that lowered the loss and did not diverge was" in text
    for claim in ("stayed stable", "the bound stops it", "meets the stability bound", "ringed"):
        assert claim not in text, claim
    for figure in heatmaps(at):
        names = [trace.get("name", "") for trace in figure["data"]]
        assert not any("stability bound" in name for name in names)
        # the colours' zero is the ✕ of the Playground's slice: the best point found
        assert figure["data"][0]["colorbar"]["title"]["text"] == "final loss − best found"


def test_the_network_opens_with_a_map_that_fits(app):
    at = app(PAGE, model="network")  # 200 rows and 20 epochs: 3 seeds a cell do not fit
    settings = Settings(model="network")
    assert not budget.fits(maps.work(settings, maps.DEFAULT_SEEDS))
    assert not at.exception and not at.warning  # no refusal: the default is what fits
    assert at.select_slider(key=maps.SEEDS).value == maps.default_seeds(settings)
    assert budget.fits(maps.work(settings, maps.default_seeds(settings)))
    assert len(at.get("plotly_chart")) == 2


def test_a_link_asking_for_too_many_seeds_is_offered_what_fits_and_that_draws(app):
    at = app(PAGE, model="network", map_seeds="3")
    assert not at.get("plotly_chart")
    assert "use 2 seeds per cell" in at.warning[0].value
    at.button(key="budget_offer").click().run()
    assert not at.exception and not at.warning
    assert at.select_slider(key=maps.SEEDS).value == 2
    assert len(at.get("plotly_chart")) == 2
