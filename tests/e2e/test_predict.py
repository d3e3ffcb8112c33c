"""The browser's drawing of each model's fit (``PREDICT`` in ui/web/canvas.js) is the model's
own ``predict`` from ``gd.models``: one entry for every model of ``ui.models.MODELS`` that the
browser draws from its two parameters, the same numbers, evaluated in Chromium (the network's
curve is computed in Python and shipped: ``tests/test_network_stage.py``). And the browser reads
a payload's arrays, 16-bit drawn-only ones among them, as ``ui.stage.payload.read`` does."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np

from ui.models import MODELS
from ui.stage.payload import MAGIC, Writer, pack, read

CANVAS = Path(__file__).resolve().parents[2] / "ui" / "web" / "canvas.js"


def with_canvas(page, body: str):
    """Evaluate ``body`` in Chromium with canvas.js's exports imported as ``C``, the module
    itself as the components import it."""
    url = "data:text/javascript;base64," + base64.b64encode(CANVAS.read_bytes()).decode()
    return page.evaluate(
        f"(async () => {{ const C = await import({json.dumps(url)});\n{body}\n}})()"
    )


def test_every_model_is_drawn_with_its_own_prediction(page):
    rng = np.random.default_rng(0)
    params = rng.normal(size=(5, 2)) * 2.0
    xs = np.linspace(-4.0, 4.0, 17)
    drawn = with_canvas(
        page,
        f"const params = {json.dumps(params.tolist())}, xs = {json.dumps(xs.tolist())};\n"
        "return Object.fromEntries(Object.entries(C.PREDICT).map(([key, predict]) =>\n"
        "  [key, params.map((p) => xs.map((x) => predict(p, x)))]));",
    )
    by_parameters = {key: spec for key, spec in MODELS.items() if spec.two_parameters}
    assert sorted(drawn) == sorted(by_parameters)
    for key, spec in by_parameters.items():
        model = spec.build()
        expected = [model.predict(p, xs[:, None]) for p in params]
        np.testing.assert_allclose(drawn[key], expected, rtol=1e-12, atol=1e-14, err_msg=key)


def test_the_browser_reads_every_array_as_python_does_16_bit_ones_included(page):
    writer = Writer()
    rng = np.random.default_rng(1)
    writer.add("exact", rng.normal(size=(3, 5)))
    writer.add_drawn("curve", np.append(rng.normal(size=11) * 40.0, [np.inf, -np.inf, np.nan]))
    writer.add_drawn("flat", np.full(3, 2.5))
    writer.add("after", np.arange(4.0))  # an array after an odd-length 16-bit one
    payload = pack({"arrays": writer.index, "update": None}, b"".join(writer.chunks))
    drawn = with_canvas(
        page,
        f"const bytes = new Uint8Array({json.dumps(list(payload))});\n"
        f"const {{ arrays }} = C.unpack(bytes.buffer, {json.dumps(MAGIC.decode())});\n"
        "return Object.fromEntries(Object.entries(arrays).map(([k, a]) =>\n"
        "  [k, Array.from(a, (v) => (Number.isNaN(v) ? 'NaN' : v))]));",
    )
    _, arrays = read(payload, MAGIC, "a test")
    assert sorted(drawn) == sorted(arrays)
    for name, array in arrays.items():
        want = ["NaN" if np.isnan(v) else float(v) for v in array.ravel().tolist()]
        assert drawn[name] == want, name
