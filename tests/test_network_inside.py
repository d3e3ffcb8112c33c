""" "Inside one mini-batch" with the network (issue 18), in AppTest: the scrubber draws each update
on the slice through the network's 49 weights (coordinates and projected steps), the loss on the
plane through the update's weights parallel to it, and the network's own curve; the words say
that the arrows are projections; the threads section shows the gradient's parts along the slice
and its length; a heavy link is refused with an offer that renders.

Every expected number is computed here from ``gd`` directly: the run, full-batch descent's best
point, the plane through the three points, the per-sample gradients and the curve."""

import functools

import numpy as np
import pytest

import gd
from ui.inside_stage.payload import decode
from ui.models import MODELS
from ui.stage.payload import FIT_XS

NETWORK = {"model": "network"}
SHOWN = 2e-6  # float32 shipped: relative to the values' own size


@pytest.fixture
def page(lesson):
    return functools.partial(lesson, "inside_a_batch", **NETWORK)


def assert_clean(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def scrubber(at):
    (component,) = at.get("bidi_component")
    return decode(component.proto.bytes)


@functools.cache
def reference():
    """The default network run and its slice, from gd alone: (model, x, y, run, plane)."""
    spec = MODELS["network"]
    data = spec.generator(n=200, noise=0.5, x_mean=0.0, x_std=1.0, seed=0)
    model = spec.build()
    start = model.init_params(1, seed=0)
    run = gd.fit(
        model, data.x, data.y, gd.SGD(0.05), gd.Training(epochs=20, init=start), batch_size=32
    )
    x, y = data.x[:, None], data.y
    plane = gd.plane.Plane.through(start, run.params[-1], model.minimum(x, y, start))
    return model, x, y, run, plane


def close(got, expected, scale=None):
    expected = np.asarray(expected, dtype=float)
    scale = np.max(np.abs(expected)) if scale is None else scale
    np.testing.assert_allclose(got, expected, rtol=0, atol=SHOWN * scale + 1e-12)


def test_the_page_renders_every_part_for_the_network(page):
    at = page()
    assert_clean(at)
    assert [c.key for c in at.get("plotly_chart")] == [
        "chart_noise",
        "chart_timing",
        "chart_threads_paths",
    ]
    shown = scrubber(at)
    assert shown.header["model"] == "network" and shown.header["names"] == ["α", "β"]
    assert shown.header["axis_titles"] == ["α: toward this run's end", "β: toward the best found"]
    assert "surface.minimum" not in shown.arrays  # the ✕ is on the slice, not on these planes
    assert shown.arrays["trail"].shape[1] == 2  # coordinates on the slice, not 49 weights
    assert shown.arrays["data.fit_x"].shape == (FIT_XS,)


@pytest.mark.parametrize("update", [1, 4, 50, 140])
def test_each_picture_is_the_update_projected_on_the_slice(page, update):
    model, x, y, run, plane = reference()
    at = page(update=str(update))
    assert_clean(at)
    frame = scrubber(at).frame(update - 1)
    t = update - 1
    params, rows, rate = run.params[t], run.batch_rows(t), float(run.learning_rate[t])
    u = plane.axes  # (2, 49)
    steps = -rate * model.per_sample_grad(params, x[rows], y[rows])  # (B, 49)
    batch, full = steps.mean(axis=0), -rate * model.grad(params, x, y)
    close(frame["params"], u @ (params - plane.origin))
    close(frame["sample_steps"], steps @ u.T)
    close(frame["batch_step"], u @ batch)
    close(frame["full_step"], u @ full)
    close(frame["taken_step"], u @ (run.params[t + 1] - params))
    # The network's curve before the update, at FIT_XS points across the data.
    grid = np.linspace(x.min(), x.max(), FIT_XS)
    close(frame["fit"], model.predict(params, grid[:, None]))
    # The zoom: the loss on the plane through these weights, parallel to the slice. Its centre
    # is the weights themselves; its corner the weights moved along both axes.
    a0, a1, zoom = frame["axis0"], frame["axis1"], frame["zoom"]
    centre = u @ (params - plane.origin)
    close([a0[10], a1[10]], centre, scale=np.abs(centre).max() + np.abs(a0).max())
    np.testing.assert_allclose(zoom[10, 10], model.loss(params, x, y), rtol=1e-5)
    corner = params + (a0[0] - centre[0]) * u[0] + (a1[0] - centre[1]) * u[1]
    np.testing.assert_allclose(zoom[0, 0], model.loss(corner, x, y), rtol=1e-5)
    # The card's angle is the steps' own, in all 49 weights, not the arrows' on the slice.
    cosine = batch @ full / np.linalg.norm(batch) / np.linalg.norm(full)
    angle = np.degrees(np.arccos(np.clip(cosine, -1, 1)))
    assert frame["cards"][3] == f"{angle:.1f}°"
    share = np.linalg.norm(u @ batch) / np.linalg.norm(batch)
    assert f"{angle:.1f}° from it in all 49 weights" in frame["summary"]
    assert f"The slice shows {share:.0%} of the batch step's length." in frame["summary"]


def test_the_words_say_the_arrows_are_projections(page):
    at = page()
    shown = scrubber(at)
    frame = shown.frame(0)
    assert "the projections on the slice of 32 rows' own steps" in frame["summary"]
    assert frame["summary"].startswith(
        "Update 1 of 140 on the plane through the 49 weights before it, parallel to the slice"
    )
    assert frame["arrows_label"].startswith("each row's own step −η·∇ℓᵢ, projected (32 of 32")
    assert frame["before"] == "the 49 weights before update 1"
    assert frame["data_summary"].startswith(
        "The 32 rows of update 1 among the 200 training rows, and the network's curve before "
        "update 1, from its 49 weights at (α, β) = (0, 0) on the slice"
    )
    assert "shadow on the slice" in shown.header["caption"]
    assert "Measured in all 49 weights" in dict(shown.header["cards"])["Batch vs full-data step"]
    captions = " ".join(c.value for c in at.caption)
    assert "The network's 49 weights are drawn on the slice of the threads' chart" in captions
    assert "W1, b1, W2 and b2 hold the network's 49 weights" in captions
    assert "column of ones" not in captions  # the linear models' X_b is not the network's


def test_the_threads_section_shows_the_gradient_along_the_slice_and_its_length(page):
    model, x, y, run, plane = reference()
    at = page()
    table = at.dataframe[0].value
    assert list(table.columns) == ["who", "rows", "∂L/∂α", "∂L/∂β", "‖∇L‖, all 49"]
    rows = run.batch_rows(0)
    grad = model.grad(run.params[0], x[rows], y[rows])  # the first batch, in one piece
    last = table.iloc[-1]
    np.testing.assert_allclose([last["∂L/∂α"], last["∂L/∂β"]], plane.axes @ grad, rtol=1e-9)
    np.testing.assert_allclose(last["‖∇L‖, all 49"], np.linalg.norm(grad), rtol=1e-12)
    words = " ".join(m.value for m in at.markdown)
    assert f"a gradient of length {np.linalg.norm(grad):.6g} in all 49 weights" in words
    assert "the largest difference over all 49 weights is" in words
    fig = next(c for c in at.get("plotly_chart") if c.key == "chart_threads_paths")
    assert '"name":"best found"' in fig.proto.spec and '"name":"minimum"' not in fig.proto.spec
    captions = " ".join(c.value for c in at.caption)
    assert "the best point found is at" in captions and "the minimum is at" not in captions
    assert "Keras: batch size 32 ends at (" in captions
    assert "β: on toward the best found (✕)" in fig.proto.spec  # Surface.axis_titles
    end = plane.project(run.params[-1])  # the end lies on α's axis: (|end − start|, 0)
    assert f"ends at ({end[0]:.3g}, 0) after update 140" in captions


def take_the_offer(at, offer: str):
    """A page refused above the work budget: nothing computed, the nearest setting that fits
    offered (its label starts with ``offer``); then its button, and the page it opens."""
    assert not at.exception, [e.value for e in at.exception]
    (warning,) = [w.value for w in at.warning if "Too much work" in w.value]
    assert f"The nearest setting that fits: **{offer}" in warning
    assert not at.get("plotly_chart") and not at.get("bidi_component")
    at.button(key="budget_offer").click().run()
    assert_clean(at)
    assert not [w.value for w in at.warning if "Too much work" in w.value]
    return at


def test_a_heavy_network_link_is_refused_and_its_offer_renders(page):
    at = take_the_offer(page(n="1000"), "use 5 epochs**.")
    assert scrubber(at).header["n_train"] == 1000
    assert len(at.get("plotly_chart")) == 3


def test_a_blown_up_networks_curve_is_held_near_the_data_as_on_the_stage(page):
    # At rate 1 the default network blows up within 4 updates: before the 4th its curve reaches
    # about 220, forty data heights off. The page ships the stage's curve (ui.stage.payload
    # fit_curves): held within five data heights of the data, as far off the chart as needed.
    spec = MODELS["network"]
    data = spec.generator(n=200, noise=0.5, x_mean=0.0, x_std=1.0, seed=0)
    model, x, y = spec.build(), data.x[:, None], data.y
    start = model.init_params(1, seed=0)
    run = gd.fit(model, x, y, gd.SGD(1.0), gd.Training(epochs=20, init=start), batch_size=32)
    at = page(learning_rate="1", update="4")
    assert_clean(at)
    curve = model.predict(run.params[3], np.linspace(x.min(), x.max(), FIT_XS)[:, None])
    low, high = y.min(), y.max()
    span = high - low
    assert np.abs(curve).max() > high + 5 * span  # the case this test is about
    held = np.clip(curve, low - 5 * span, high + 5 * span)
    close(scrubber(at).frame(3)["fit"], held)
