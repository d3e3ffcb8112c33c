"""The browser's drawing of each model's fit (``PREDICT`` in ui/stage/canvas.js) is the model's
own ``predict`` from ``gd.models``: one entry for every model of ``ui.models.MODELS``, the same
numbers, evaluated in Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ui.models import MODELS

CANVAS = Path(__file__).resolve().parents[2] / "ui" / "stage" / "canvas.js"


def test_every_model_is_drawn_with_its_own_prediction(page):
    rng = np.random.default_rng(0)
    params = rng.normal(size=(5, 2)) * 2.0
    xs = np.linspace(-4.0, 4.0, 17)
    script = (
        "(() => {\n" + CANVAS.read_text(encoding="utf-8") + "\n"
        f"const params = {json.dumps(params.tolist())}, xs = {json.dumps(xs.tolist())};\n"
        "return Object.fromEntries(Object.entries(PREDICT).map(([key, predict]) =>\n"
        "  [key, params.map((p) => xs.map((x) => predict(p, x)))]));\n"
        "})()"
    )
    drawn = page.evaluate(script)
    assert sorted(drawn) == sorted(MODELS)
    for key, spec in MODELS.items():
        model = spec.build()
        expected = [model.predict(p, xs[:, None]) for p in params]
        np.testing.assert_allclose(drawn[key], expected, rtol=1e-12, atol=1e-14, err_msg=key)
