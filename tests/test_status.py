"""The status a learner reads next to the charts (``ui.explain.verdict``): it names what the
charts show (converged, still moving, oscillating, at the SGD noise floor, diverged), from the
run's own numbers, and it is the same for a ``gd.Run`` and for the stage's family run."""

import numpy as np
import pytest

import gd
from tests.conftest import current_run, stage_payload
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
    training = gd.Training(
        epochs=s.epochs,
        shuffle=s.shuffle,
        seed=s.seed,
        validation_split=s.validation_split,
        init=s.start,
    )
    return {"training": training, "batch_size": s.batch_size}


def optimizer(s: Settings) -> gd.SGD:
    return gd.SGD(s.learning_rate, momentum=s.momentum, nesterov=s.nesterov, decay=s.decay)


def status(s: Settings) -> tuple[str, str]:
    model, data, land = problem(s)
    return explain.status(gd.fit(model, data.x, data.y, optimizer(s), **fit_args(s)), land)


EXPECTED = {
    "Keras defaults": "still moving",
    "Too large a learning rate": "diverged at update 7",
    "SGD noise floor": "at the SGD noise floor",
    "Momentum overshoots a narrow valley": "converged",  # issue 17: it settles, as it says
    "Decay rescues a large learning rate": "at the SGD noise floor",
    "Full-batch gradient descent": "converged",
    "A small network: batch size 1, 32 and full": "oscillating",  # batch 32's loss swings
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
    assert explain.family_status(fam, 0, land)[:2] == explain.status(run, land)


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
    "oscillating": ("swings across it", "still rising and falling"),
    "converged": ("smooth path", "then settles at the minimum"),
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


@pytest.mark.parametrize("name", list(PRESETS))
def test_the_status_sentence_gives_the_numbers_of_the_cards_beside_it(app, name):
    """Issue 16: the sentence's loss gap is the "Above the minimum" card's number, and its
    minimum is the card's; a frame before the end names its own update (browser test)."""
    at = app(**{k: v for k, v in PRESETS[name].settings().url().items()})
    run, header = current_run(at), stage_payload(at).header
    label, sentence = run["text"]
    target = header["target"]  # "the minimum", or the network's "the best point found"
    if label in ("at the SGD noise floor", "still moving"):
        assert f"ends {run['final_gap']} above {target}" in sentence
    elif "rises and falls" in sentence:
        assert f"ending {run['final_gap']} above {target}" in sentence
    elif label == "converged":
        assert f"({header['min_loss']})" in sentence
        assert float(run["final_gap"]) <= 0.02 * header["min_loss_value"]


@pytest.mark.parametrize(
    ("settings", "early", "settles"),
    [
        (Settings(), "still descending", (1, 60)),  # the default run reaches its floor early
        (Settings(learning_rate=2.0, epochs=5), "before the blow-up at update 7", (7, 7)),
        (Settings(learning_rate=1.0), "still descending", (0, 0)),  # above the bound: at once
    ],
)
def test_a_frame_before_the_end_says_what_the_run_does_there(settings, early, settles):
    model, data, land = problem(settings)
    fam = gd.family(
        model,
        data.x,
        data.y,
        optimizer(settings),
        knob="learning_rate",
        values=[settings.learning_rate],
        **fit_args(settings),
    )
    status = explain.family_status(fam, 0, land)
    assert status.early == early
    assert settles[0] <= status.settle <= settles[1]
    if 0 < status.settle < fam.updates(0) and early == "still descending":
        kept = fam.steps[0, : fam.lengths[0]] >= status.settle
        gap = fam.loss[0, : fam.lengths[0]][kept][0] - land.min_loss
        assert gap <= explain.SETTLE_FACTOR * family_gap(fam, land) + 1e-9 + 0.02 * land.min_loss


def family_gap(fam, land) -> float:
    return explain.family_evidence(fam, 0, land).gap


def test_the_update_rule_names_the_rows_of_the_update_on_screen():
    """Issue 16: 20 of the default run's 140 updates average a last batch of 8 rows."""
    model, data, _ = problem(Settings())
    run = gd.fit(model, data.x, data.y, optimizer(Settings()), **fit_args(Settings()))
    assert [explain.batch_rows(u, 32, 200) for u in (1, 6, 7, 8, 140)] == [32, 32, 8, 32, 8]
    assert explain.batches_told(run, 7).startswith(
        "Update 7 of 140 (batch 7 of epoch 1) averages 8"
    )
    assert explain.batches_told(run, None).startswith("Update 140 of 140 (batch 7 of epoch 20)")
    assert "20 of the 140 updates average 8 and the other 120 average 32" in (
        explain.last_batches_told(run)
    )
    assert r"\frac{1}{8}" in explain.update_rule_latex(Settings(), 8)
    even = gd.fit(model, data.x, data.y, optimizer(Settings()), **fit_args(Settings(batch_size=40)))
    evenly = "Every update averages 40 rows: 200 rows split evenly."
    assert explain.last_batches_told(even) == evenly
