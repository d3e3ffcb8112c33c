"""The status a learner reads next to the charts (``ui.explain.verdict``): it names what the
charts show (converged, still moving, oscillating, at the SGD noise floor, diverged), from the
run's own numbers, and it is the same for a ``gd.Run`` and for the stage's family run."""

import numpy as np
import pytest

import gd
from ui import explain
from ui.controls import Settings
from ui.playground import PRESETS


def problem(s: Settings):
    data = s.spec.generator(n=s.n, noise=s.noise, x_mean=s.x_mean, x_std=s.x_std, seed=s.data_seed)
    model = s.spec.build()
    x, y = data.x[: s.n_train, None], data.y[: s.n_train]
    minimum = model.minimum(x, y, s.start)
    land = explain.landscape(s, x, y, minimum, float(model.loss(minimum, x, y)))
    return model, data, land


def fit_args(s: Settings) -> dict:
    return {
        "batch_size": s.batch_size,
        "epochs": s.epochs,
        "shuffle": s.shuffle,
        "seed": s.seed,
        "validation_split": s.validation_split,
        "init": s.start,
    }


def optimizer(s: Settings) -> gd.SGD:
    return gd.SGD(s.learning_rate, momentum=s.momentum, nesterov=s.nesterov, decay=s.decay)


def status(s: Settings) -> tuple[str, str]:
    model, data, land = problem(s)
    return explain.status(gd.fit(model, data.x, data.y, optimizer(s), **fit_args(s)), land)


EXPECTED = {
    "Keras defaults": "still moving",
    "Too large a learning rate": "diverged at update 7",
    "SGD noise floor": "at the SGD noise floor",
    "Momentum overshoots a narrow valley": "oscillating",
    "Decay rescues a large learning rate": "at the SGD noise floor",
    "Full-batch gradient descent": "converged",
}


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_has_its_status(name):
    assert status(PRESETS[name].settings())[0] == EXPECTED[name]


@pytest.mark.parametrize(
    ("settings", "label"),
    [
        (Settings(), "converged"),  # the page's first picture: batch 32, rate 0.05, 20 epochs
        (Settings(learning_rate=1.0), "oscillating"),  # just above the bound 0.997
        (Settings(learning_rate=1.0, batch_size=200), "oscillating"),  # full batch, above it
        (Settings(learning_rate=0.7, batch_size=200), "converged"),  # full batch, below it
        (Settings(batch_size=1, learning_rate=0.001), "converged"),  # floor 0.0005: unseen
        (Settings(batch_size=1, learning_rate=0.0001), "still moving"),
        (Settings(batch_size=1, learning_rate=0.05), "at the SGD noise floor"),
        (Settings(batch_size=200, learning_rate=0.3), "converged"),  # full batch, good rate
        (Settings(batch_size=200, learning_rate=0.05), "still moving"),
        (Settings(momentum=0.99), "oscillating"),
        (Settings(model="logistic"), "still moving"),
        (Settings(model="tanh", batch_size=1, learning_rate=0.1), "at the SGD noise floor"),
        (Settings(noise=0.0), "converged"),  # the minimum is 0: an absolute tolerance
    ],
    ids=lambda v: repr(v) if isinstance(v, str) else str(v.url()),
)
def test_known_cases(settings, label):
    assert status(settings)[0] == label


def test_a_rate_just_above_the_bound_says_so_with_the_numbers():
    _, data, _ = problem(Settings())
    bound = gd.stability_bound(data.x, data.y, 0.0)
    assert 0.99 < bound < 1.0  # 0.997: the rate 1.0 is just above it
    label, why = status(Settings(learning_rate=1.0))
    assert label == "oscillating"
    assert f"above the stability bound {bound:.3g}" in why
    assert "bound" not in status(Settings(learning_rate=1.0, momentum=0.5))[1]  # it is 1.5


@pytest.mark.parametrize("name", list(PRESETS))
def test_a_run_and_its_family_run_get_the_same_status(name):
    s = PRESETS[name].settings()
    model, data, land = problem(s)
    run = gd.fit(model, data.x, data.y, optimizer(s), **fit_args(s))
    knob = "momentum" if s.momentum else "learning_rate"
    fam = gd.family(
        model, data.x, data.y, optimizer(s), knob=knob, values=[getattr(s, knob)], **fit_args(s)
    )
    assert explain.family_status(fam, 0, land) == explain.status(run, land)


def test_the_noise_floor_matches_the_measured_gap():
    """η·σ²/(4B)·(N − B)/(N − 1): the level a constant-rate run jitters at, within 30%."""
    s = Settings(batch_size=1, learning_rate=0.05)
    model, data, land = problem(s)
    e = explain.evidence(gd.fit(model, data.x, data.y, optimizer(s), **fit_args(s)), land)
    assert e.gap == pytest.approx(e.floor, rel=0.3)
    assert explain.noise_floor(0.1, 0.0, 200, 200, 8.0) == 0.0  # full batch: no noise
    assert explain.noise_floor(1.0, 0.0, 1, 200, 8.0, lambda_max=2.0) == np.inf  # the bound


def test_the_status_box_sentences_are_short():
    """The stage's status box holds four lines of 12-px text (about 120 characters)."""
    for preset in PRESETS.values():
        assert len(status(preset.settings())[1]) <= 120


# Words of a preset's one-line lesson that each status agrees with (issue 10: "advice agrees
# with the lesson"): a learner reads both side by side.
AGREES = {
    "still moving": ("barely leave the start",),
    "diverged": ("explodes",),
    "at the SGD noise floor": ("never settles", "calm the batch-size-1 noise"),
    "oscillating": ("swings across it",),
    "converged": ("smooth path",),
}


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_status_agrees_with_its_lesson(name):
    preset = PRESETS[name]
    label, why = status(preset.settings())
    kind = "diverged" if label.startswith("diverged") else label
    assert any(words in preset.lesson for words in AGREES[kind]), (label, preset.lesson)
    if kind in ("at the SGD noise floor", "oscillating", "diverged"):
        assert "larger rate" not in why and "momentum would" not in why, why


def test_the_noise_floor_preset_advises_a_smaller_rate_or_a_larger_batch():
    label, why = status(PRESETS["SGD noise floor"].settings())
    assert label == "at the SGD noise floor"
    assert "A smaller rate or larger batch lowers it." in why
    assert (
        "Decay keeps lowering it."
        in status(PRESETS["Decay rescues a large learning rate"].settings())[1]
    )
