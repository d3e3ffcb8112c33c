"""Accessibility of the Playground (issue 10): every chart of the stage has a one-sentence summary
with its numbers (the canvases' accessible names), and no notice depends on an emoji font."""

import re
from pathlib import Path

import numpy as np

import gd
from tests.conftest import current_run, stage_payload

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_run_has_a_summary_per_chart(app):
    at = app()
    summary = stage_payload(at).header["summary"]
    assert set(summary) == {"contour", "losses", "data", "rate"}
    run = current_run(at)
    payload = stage_payload(at)
    end = payload.family("learning_rate")["params"][payload.knob("learning_rate")["current"], -1]
    minimum = payload.arrays["surface.minimum"]
    distance = f"{float(np.hypot(*(end.astype(float) - minimum))):.4g}"
    assert summary["contour"].startswith("Path on the loss contours: from w = -1, b = 2, ")
    assert f"after 140 updates, {distance} from the minimum" in summary["contour"]
    assert f"to {run['final_loss']} over 140 updates" in summary["losses"]
    assert "Keras's epoch loss for epoch 20 was" in summary["losses"]
    assert summary["data"].startswith("Data and the model's fit: 200 training rows; the fit")
    assert summary["rate"] == "Learning-rate schedule: the rate stays 0.05 for all 140 updates."


def test_a_diverged_run_and_a_decayed_rate_are_summarised(app):
    at = app(learning_rate="2.0", decay="0.01", validation_split="0.2")
    summary = stage_payload(at).header["summary"]
    assert "blows up at update" in summary["contour"]
    assert "blew up at update" in summary["losses"]
    assert "160 training rows and 40 validation rows" in summary["data"]
    assert summary["rate"].startswith("Learning-rate schedule: the rate falls from 2 to ")


def test_notices_use_material_icons_not_emoji(app):
    at = app(momentum="1.5")  # a bad link value: a warning
    at.selectbox(key="preset").set_value("Too large a learning rate").run()  # info + divergence
    icons = [e.icon for e in [*at.info, *at.warning]]
    assert len(icons) >= 2
    assert all(icon.startswith(":material/") for icon in icons), icons


def test_no_emoji_icon_is_left_in_the_playgrounds_modules():
    """An icon="…" that is not a :material/…: name needs an emoji font the classroom may lack."""
    files = ["lessons/playground.py", "ui/lesson.py", "ui/controls.py", "ui/stage/__init__.py"]
    for name in files:
        text = (ROOT / name).read_text(encoding="utf-8")
        assert not re.findall(r'icon="(?!:material/)[^"]+"', text), name


def test_the_summaries_use_the_runs_numbers():
    data = gd.datasets.linear(n=200, seed=0)
    fam = gd.family(
        gd.models.LinearRegression(),
        data.x,
        data.y,
        gd.SGD(0.05),
        gd.Training(epochs=1),
        knob="batch_size",
        values=[200],
    )
    from ui.stage.payload import Scene, summaries

    scene = Scene(
        "linear",
        ("w", "b"),
        data.x[:2],
        data.x[:2],
        data.x[:4].reshape(2, 2),
        fam.params[0, -1],
        0.3,
        data.x,
        data.y,
        200,
        1,
    )
    text = summaries(fam, 0, scene, 0.0)
    assert "after 1 update, 0 from the minimum" in text["contour"]
    assert "Keras's epoch loss for epoch 1 was" in text["losses"]
    assert text["rate"] == "Learning-rate schedule: the rate stays 0.05 for the 1 update."
