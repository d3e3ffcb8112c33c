"""Ready-made questions for a class (``lessons/teach.py``), each with the run that answers it.

A question names the page and the settings its run needs, which live knobs the class keeps
live, and how its right answer follows from that run: the answer is computed by ``gd`` when
the teacher asks, never typed, so it always agrees with what the class will see.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from classroom import Question
from ui import cache, charts, explain
from ui.controls import DEFAULTS, Settings

BATCH_SIZES = (1, 32, 200)
RATE_ASKED, DECAY_ASKED, UPDATE_ASKED = 1.2, 0.01, 100


@dataclass(frozen=True)
class Ready:
    """A question with its run: the page, the settings it changes, the knobs' modes."""

    text: str
    options: tuple[str, ...]  # () for a number question
    changes: dict[str, Any]  # the run's settings: the defaults plus these
    answer: Callable[[Settings], float]  # the right option's index, or the number
    page: str = ""  # the lesson's url_path ("": the Playground)
    modes: dict[str, str] = field(default_factory=dict)  # a knob not named stays live

    def settings(self) -> Settings:
        return dataclasses.replace(DEFAULTS, **self.changes)

    def question(self) -> Question:
        """The question as the class is asked it, with the answer its run gives."""
        return Question(self.text, self.options, self.answer(self.settings()))


def _lowest_batch(settings: Settings) -> float:
    """The index in ``BATCH_SIZES`` of the run with the lowest training loss at its end."""
    losses = [
        cache.run(dataclasses.replace(settings, batch_size=b), None).loss[-1] for b in BATCH_SIZES
    ]
    return float(min(range(len(losses)), key=losses.__getitem__))


def _fate(settings: Settings) -> float:
    """0: the run settles; 1: it swings but stays bounded; 2: it blows up. The stage's
    status card says the same (``explain.status``)."""
    run = cache.run(settings, None)
    surface = cache.surface_for(settings)
    land = explain.landscape(
        settings,
        *cache.training_rows(settings, None),
        surface.best,
        surface.min_loss,
        charts.target_words(surface.plane)[0],
    )
    label, _ = explain.status(run, land)
    if label.startswith("diverged"):
        return 2.0
    return 1.0 if label == "oscillating" else 0.0


def _updates_per_epoch(settings: Settings) -> float:
    return float(cache.run(settings, None).updates_per_epoch)


def _rate_at(settings: Settings) -> float:
    return float(cache.optimizer_for(settings).learning_rate_at(UPDATE_ASKED))


READY = {
    "Which batch size reaches the lower loss?": Ready(
        f"After 5 epochs at learning rate {DEFAULTS.learning_rate:g}, which batch size reaches "
        "the lowest training loss: 1, 32 or 200?",
        tuple(str(b) for b in BATCH_SIZES),
        {"epochs": 5},
        _lowest_batch,
    ),
    "Will learning rate 1.2 converge?": Ready(
        f"Will learning rate {RATE_ASKED:g} (batch size {DEFAULTS.batch_size}) converge?",
        (
            "Yes: it settles near the minimum",
            "It swings, but never blows up",
            "No: the loss blows up",
        ),
        {"learning_rate": RATE_ASKED},
        _fate,
        modes={"batch_size": "locked", "momentum": "hidden", "decay": "hidden"},
    ),
    "How many updates will one epoch take?": Ready(
        f"With {DEFAULTS.n} training rows and batch size {DEFAULTS.batch_size}, how many updates "
        "will one epoch take?",
        (),
        {},
        _updates_per_epoch,
    ),
    "What is the decayed rate after 100 updates?": Ready(
        f"Starting at learning rate 0.5 with decay {DECAY_ASKED:g}, what learning rate does SGD "
        f"use after {UPDATE_ASKED} updates?",
        (),
        {"learning_rate": 0.5, "decay": DECAY_ASKED, "batch_size": 1, "epochs": 10, "noise": 1.0},
        _rate_at,
        modes={"learning_rate": "locked", "decay": "locked"},
    ),
}
