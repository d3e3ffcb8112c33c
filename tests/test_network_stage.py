"""The network on the Playground's stage (issue 18): its slice, the paths drawn on it, its curve
in the data view, and the words that say what the ✕ is."""

import dataclasses

import numpy as np
import pytest

import gd
from tests.test_stage_payload import build, f32
from ui import cache
from ui.controls import Settings
from ui.playground import NETWORK_PRESET, PRESETS
from ui.stage import ids, scene
from ui.stage.payload import FIT_FRAMES, FIT_XS, QUANTA, decode, fit_frames, fit_xs

NETWORK = Settings(model="network", learning_rate=0.2)
NETWORK_BUDGET = 450_000  # bytes at the network's defaults (the other models': 300 kB, issue 9)


@pytest.fixture(scope="module")
def network():
    return build(NETWORK)


@pytest.fixture(scope="module")
def surface():
    return cache.surface_for_data(NETWORK, None)


def test_the_slice_holds_the_start_the_runs_end_and_the_best_point_exactly(surface):
    run = cache.run(NETWORK, None)
    x, y = cache.training_rows(NETWORK, None)
    start, end, best = run.params[0], run.params[-1], surface.best
    np.testing.assert_allclose(surface.plane.residual(np.array([start, end, best])), 0, atol=1e-9)
    np.testing.assert_allclose(surface.project(start), [0.0, 0.0], atol=1e-12)
    assert surface.project(end)[0] > 0 and abs(surface.project(end)[1]) < 1e-9  # α toward it
    assert surface.project(best)[1] > 0  # β toward the best point
    np.testing.assert_array_equal(surface.minimum, surface.project(best))
    assert surface.min_loss == pytest.approx(gd.models.MLP().loss(best, x, y), rel=1e-12)
    # The best point is what full-batch descent from the start found: below the start and the end.
    assert surface.min_loss < min(run.loss[-1], run.loss[0])


def test_the_slices_loss_is_the_networks_loss_at_those_weights(surface):
    x, y = cache.training_rows(NETWORK, None)
    model = gd.models.MLP()
    i, j = 7, 40
    weights = surface.plane.lift(surface.axis0[j], surface.axis1[i])
    assert surface.loss[i, j] == pytest.approx(model.loss(weights, x, y), rel=1e-6)


def test_a_slice_follows_the_settings_run_and_a_two_parameter_surface_does_not():
    other = dataclasses.replace(NETWORK, batch_size=8)
    assert not np.array_equal(
        cache.surface_for_data(other, None).plane.axes,
        cache.surface_for_data(NETWORK, None).plane.axes,
    )
    linear = Settings()
    moved = dataclasses.replace(linear, batch_size=8)
    assert ids(linear, None, "").scene == ids(moved, None, "").scene
    assert ids(NETWORK, None, "").scene != ids(other, None, "").scene


def test_the_payload_draws_every_run_projected_on_the_slice(network):
    fams, payload = build(NETWORK)
    decoded = decode(payload)
    plane = scene(NETWORK, None).plane
    for knob, fam in fams.items():
        got = decoded.family(knob)["params"]  # (R, L, 2)
        want = f32(plane.project(fam.params))
        for r, length in enumerate(fam.lengths.tolist()):
            np.testing.assert_array_equal(got[r, :length], want[r, :length], err_msg=knob)


def test_the_payload_ships_the_networks_curve_at_evenly_spread_frames(network):
    fams, payload = network
    decoded = decode(payload)
    x = decoded.arrays["data.fit_x"]
    data = cache.dataset_for(NETWORK, None)
    np.testing.assert_array_equal(x, f32(fit_xs(data.x)))
    assert x.size == FIT_XS
    model = gd.models.MLP()
    for knob, fam in fams.items():
        runs = decoded.knob(knob)["runs"]
        curves, frames = decoded.arrays[f"{knob}.fit"], decoded.arrays[f"{knob}.fit_at"]
        for r in (0, fam.runs - 1):
            run = runs[r]
            at = fit_frames(run["length"])
            assert run["fits"] == at.size <= FIT_FRAMES and at[-1] == run["length"] - 1
            np.testing.assert_array_equal(frames[run["at"][3] : run["at"][3] + at.size], at)
            low, high = decoded.header["arrays"][f"{knob}.fit"][2:]
            span = data.y.max() - data.y.min()  # a curve far off the chart is clipped
            for k, j in enumerate(at.tolist()):
                want = model.predict(fam.params[r, j], fit_xs(data.x)[:, None])
                want = np.clip(want, data.y.min() - 5 * span, data.y.max() + 5 * span)
                step = (high - low) / QUANTA  # drawn only: 16-bit steps
                np.testing.assert_allclose(curves[run["at"][3] + k], want, atol=step)


def test_the_network_says_what_its_cross_marks(network):
    header = decode(network[1]).header
    assert header["target"] == "the best point found" and header["mark"] == "best found"
    assert header["contour_title"] == "Path on a slice of the loss"
    assert header["axis_titles"][0].startswith("α: from the start")
    assert "the best point found ✕ at α = " in header["summary"]["contour"]
    linear = decode(build(Settings())[1]).header
    assert (linear["target"], linear["axis_titles"]) == ("the minimum", ["w", "b"])


def test_the_payload_of_the_network_fits_its_budget(network):
    """The network's curve is 40 x values at 20 frames a run, 16-bit (138 kB of about 400 kB):
    its 49 weights at every kept point would be 2 to 6 MB."""
    assert len(network[1]) <= NETWORK_BUDGET


def test_fit_frames():
    assert fit_frames(1).tolist() == [0]
    frames = fit_frames(1000)
    assert frames.size == FIT_FRAMES and frames[0] == 0 and frames[-1] == 999
    assert np.all(np.diff(frames) > 0)


def test_the_network_presets_lesson_is_what_its_runs_do():
    """Batch size 32 ends lowest, then 1, then full batch, which has barely left the start;
    the update counts are the lesson's."""
    preset = PRESETS[NETWORK_PRESET].settings()
    ends = {}
    for size in (1, 32, preset.n_train):
        run = cache.run(dataclasses.replace(preset, batch_size=size), None)
        ends[size] = (run.updates, float(run.loss[-1]), float(run.loss[0]))
    assert [ends[size][0] for size in (32, 1, 200)] == [140, 4000, 20]
    assert ends[32][1] < ends[1][1] < ends[200][1] < ends[200][2]
    assert ends[200][1] > 0.75 * ends[200][2]  # "barely begun to bend its curve"
    assert ends[1][1] > 2 * cache.surface_for_data(preset, None).min_loss  # "well above it"


def test_a_blow_ups_last_point_lies_on_the_slice_but_does_not_stretch_its_window():
    blown = dataclasses.replace(NETWORK, learning_rate=10.0)
    run = cache.run(blown, None)
    assert run.diverged_at is not None
    surface = cache.surface_for_data(blown, None)
    end = surface.project(np.array(cache.run_end(blown, None)))
    start, best = surface.project(run.params[0]), surface.minimum
    assert end[0] > surface.axis0[-1]  # on the plane, off the window: the stage follows it
    for point in (start, best):
        assert surface.axis0[0] < point[0] < surface.axis0[-1]
        assert surface.axis1[0] < point[1] < surface.axis1[-1]


def test_the_networks_chart_sentences_say_slice_and_weights_and_rose_when_the_loss_rose():
    summary = decode(build(NETWORK)[1]).header["summary"]
    assert summary["contour"].startswith("Path on a slice of the loss: from α = 0, β = 0,")
    assert ", β = 0 after" in summary["contour"]  # the end lies on α's axis, not at 1e-17
    assert "network's curve now comes from its 49 weights at α = " in summary["data"]
    frictionless = dataclasses.replace(NETWORK, learning_rate=0.05, momentum=1.0)
    run = cache.run(frictionless, None)
    assert run.diverged_at is None and run.loss[-1] > run.loss[0]
    assert (
        "the full training loss rose from"
        in decode(build(frictionless)[1]).header["summary"]["losses"]
    )
