"""Bounded work (issue 13): the work budget per request, seed ensembles that stream, caches
bounded in bytes, and a download built only on click."""

import dataclasses
import weakref

import numpy as np
import pytest

import gd
from tests.conftest import open_at
from ui import batch_sizes, budget, cache, codegen, keras_to_here, maps, stage
from ui.controls import EPOCHS, MAX_EPOCHS, MAX_SAMPLES, Settings
from ui.models import MODELS, UPDATE_ROWS


def refusal(at) -> str | None:
    found = [w.value for w in at.warning if "Too much work for one request" in w.value]
    return found[0] if found else None


# --- the rule ---------------------------------------------------------------------------------


def test_work_is_updates_times_rows_plus_the_update_cost_times_the_model_cost():
    assert budget.run_work("linear", 200, 32, 20) == 20 * 7 * (32 + UPDATE_ROWS)
    assert budget.run_work("logistic", 200, 500, 1) == 1 * 1 * (200 + UPDATE_ROWS) * 6
    assert budget.run_work("network", 200, 1, 1) == 200 * (1 + 1) * 33  # one row's per update
    assert budget.updates(1, 32, 3) == 3  # one training row: one update per epoch
    assert budget.fits(budget.BUDGET) and not budget.fits(budget.BUDGET + 1)


def test_nearest_is_the_largest_option_that_fits():
    assert budget.nearest([1, 2, 3], lambda k: k * budget.BUDGET // 2) == 2
    assert budget.nearest([1, 2, 3], lambda k: k * budget.BUDGET * 2) is None


@pytest.mark.parametrize("model", list(MODELS))
def test_one_run_at_the_largest_settings_fits_the_budget(model):
    """Every page that trains one run can always draw it; only many runs are refused."""
    n_train = MAX_SAMPLES  # validation_split 0: all rows train
    assert budget.fits(budget.run_work(model, n_train, 1, MAX_EPOCHS))


@pytest.mark.parametrize(("n", "batch_size", "epochs"), [(200, 32, 20), (1000, 1, 30), (20, 20, 5)])
def test_run_bytes_predicts_a_runs_size(n, batch_size, epochs):
    data = gd.datasets.linear(n=n, seed=0)
    run = gd.fit(
        gd.models.LinearRegression(),
        data.x,
        data.y,
        gd.SGD(0.01),
        gd.Training(epochs=epochs),
        batch_size=batch_size,
    )
    held = sum(value.nbytes for value in vars(run).values() if isinstance(value, np.ndarray))
    assert held <= budget.run_bytes(n, batch_size, epochs) <= 1.2 * held + 1000


# --- pages refuse before computing, and offer what fits ----------------------------------------


def test_fifty_seeds_at_the_largest_settings_are_refused_with_the_seeds_that_fit(monkeypatch):
    calls = []
    monkeypatch.setattr(batch_sizes, "_fit", lambda *a: calls.append(a))  # must not be called
    at = open_at("lessons/batch_sizes.py", n="10000", epochs="100", seeds="50")
    assert not at.exception
    text = refusal(at)
    settings = Settings(n=10000, epochs=100)
    need = batch_sizes.work(settings, 32, 50)
    fits = budget.nearest(range(1, 50), lambda k: batch_sizes.work(settings, 32, k))
    assert f"{need:,} units of work" in text and f"use {fits} seeds per batch size" in text
    assert calls == [] and not at.get("plotly_chart")
    assert at.button(key="budget_offer").label == f"Use {fits} seeds per batch size"


def test_the_offer_button_sets_what_fits_and_the_page_draws():
    at = open_at("lessons/batch_sizes.py", n="2000", epochs="100", seeds="50")
    settings = Settings(n=2000, epochs=100)
    if budget.fits(batch_sizes.work(settings, 32, 50)):
        pytest.skip("the budget allows 50 seeds here")
    assert refusal(at)
    at.button(key="budget_offer").click().run()
    assert not at.exception and refusal(at) is None
    assert budget.fits(batch_sizes.work(settings, 32, at.session_state["seeds"]))
    assert len(at.get("plotly_chart")) == 4


def test_maps_at_the_largest_settings_offer_fewer_seeds_or_epochs():
    at = open_at("lessons/maps.py", n="10000", epochs="100")
    settings = Settings(n=10000, epochs=100)
    assert not budget.fits(maps.work(settings, 3))
    text = refusal(at)
    offer = maps.offer(settings, 3)
    assert offer is not None and offer.label[1:] in text
    if "epochs" in offer.settings:
        assert offer.settings["epochs"] in EPOCHS
        less = dataclasses.replace(settings, epochs=offer.settings["epochs"])
        assert budget.fits(maps.work(less, offer.widgets[maps.SEEDS]))
    assert not at.get("plotly_chart")


# --- seed ensembles stream; caches are bounded in bytes ----------------------------------------


def test_a_seed_ensemble_keeps_one_run_alive_at_a_time(monkeypatch):
    alive: list[weakref.ref] = []
    most = []
    real = batch_sizes._fit

    def tracked(*args):
        most.append(sum(ref() is not None for ref in alive))  # earlier runs still alive
        run = real(*args)
        alive.append(weakref.ref(run))
        return run

    monkeypatch.setattr(batch_sizes, "_fit", tracked)
    settings = Settings(n=100, epochs=3, seed=11)
    ensembles = batch_sizes._ensemble(settings, 4, 12, None)
    assert max(most) == 0
    assert ensembles.percentiles.shape[0] == 3 and ensembles.ends.shape == (12, 2)


def test_the_streamed_bands_equal_the_bands_of_all_runs_at_once():
    settings = Settings(n=60, epochs=4, seed=3, learning_rate=0.1)
    got = batch_sizes._ensemble(settings, 8, 7, None)
    runs = [batch_sizes._fit(settings, None, 8, settings.seed + k) for k in range(7)]
    losses = np.stack([run.loss for run in runs])  # few points: nothing thinned
    np.testing.assert_array_equal(got.percentiles, np.percentile(losses, (10, 50, 90), axis=0))
    np.testing.assert_array_equal(got.ends, np.array([run.params[-1, :2] for run in runs]))


def test_caches_of_runs_are_bounded_in_bytes():
    largest = budget.run_bytes(MAX_SAMPLES, 1, MAX_EPOCHS)
    assert largest <= cache.RUN_TIERS[-1].limit
    assert cache._runs.bound <= 404 * cache.MB  # docs/budget.md: 64 × 2 + 6 × 16 + 3 × 60 MB
    three = sum(budget.run_bytes(MAX_SAMPLES, size, MAX_EPOCHS) for size in (1, 32, MAX_SAMPLES))
    assert three <= batch_sizes.TIMED_TIERS[-1].limit
    assert batch_sizes._timed_runs.bound <= 300 * cache.MB


def test_a_cached_run_is_shared_read_only():
    run = cache.run(Settings(n=50, epochs=2), None)
    assert cache.run(Settings(n=50, epochs=2), None) is run  # no copy per rerun
    with pytest.raises(ValueError, match="read-only"):
        run.params[0, 0] = 1.0


# --- From Keras to here: the download is built on click ---------------------------------------


def test_the_download_is_deferred_and_a_rerun_builds_nothing(monkeypatch):
    built = []
    monkeypatch.setattr(keras_to_here, "run_csv", lambda *a: built.append(a) or b"")
    at = open_at("lessons/keras_to_here.py", n="2000", epochs="10", batch_size="1")
    assert not at.exception
    (button,) = at.get("download_button")
    assert button.proto.deferred_file_id and not button.proto.url
    at.run()
    assert built == []


def test_the_csv_equals_the_exact_per_update_table_and_is_thinned_when_long():
    data = gd.datasets.linear(n=203, seed=0)
    run = gd.fit(
        gd.models.TanhNeuron(),
        data.x,
        data.y,
        gd.SGD(0.1, momentum=0.9, decay=0.01),
        gd.Training(epochs=7, validation_split=0.1),
        batch_size=16,
    )
    assert keras_to_here.run_csv(run, ("w", "a")).decode() == codegen.run_csv(run, ("w", "a"))
    data = gd.datasets.linear(n=3000, seed=0)
    long = gd.fit(
        gd.models.LinearRegression(),
        data.x,
        data.y,
        gd.SGD(0.01),
        gd.Training(epochs=40),
        batch_size=1,
    )
    rows = keras_to_here.csv_updates(long)
    assert rows.size <= keras_to_here.CSV_ROWS + 40 and rows[-1] == long.updates
    assert set(long.epoch_ends.tolist()) <= set(rows.tolist())


def test_the_stage_counts_its_loss_grids_and_each_kept_points_full_loss():
    """Issue 21: the tanh neuron at 10 000 rows and 10 epochs is 79 M units of updates, within
    the budget, but scoring the full loss at each run's ~200 kept points (a pass over 8 000 rows
    each, 92 runs) took 4.1 s of a core, and 10 000 rows of logistic regression's loss surface
    3.8 s: counted, both are refused; the defaults and 200 rows of either still fit."""
    assert not budget.fits(stage.work(Settings(model="tanh", n=10_000, epochs=10)))
    assert not budget.fits(stage.work(Settings(model="logistic", n=10_000, epochs=1)))
    for model in ("linear", "tanh", "logistic"):
        assert budget.fits(stage.work(Settings(model=model)))
