"""Lesson "Playground" (``lessons/playground.py``): named scenarios, each of which sets the
controls and states its one-line lesson.

A preset lists only the settings it changes; everything else returns to the defaults, so a
preset always shows the same picture. ``batch_size=FULL`` means "all training rows".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ui import glossary
from ui.controls import DEFAULTS, Settings

FULL = -1  # stands for the number of training rows, which depends on n and the split
NETWORK_PRESET = "A small network: batch size 1, 32 and full"


@dataclass(frozen=True)
class Preset:
    name: str
    lesson: str
    changes: dict[str, Any]

    def settings(self) -> Settings:
        """The full settings this preset shows (defaults plus its changes)."""
        values = dataclasses.asdict(DEFAULTS) | self.changes
        if values["batch_size"] == FULL:
            values["batch_size"] = Settings(**values).n_train
        return Settings(**values)


PRESETS = {
    p.name: p
    for p in [
        Preset(
            "Keras defaults",
            "SGD(learning_rate=0.01) with fit(batch_size=32, epochs=1) takes just ⌈200/32⌉ = 7 "
            "small steps: the defaults barely leave the start.",
            {"learning_rate": 0.01, "batch_size": 32, "epochs": 1},
        ),
        Preset(
            "Too large a learning rate",
            f"Above {glossary.first('2/λmax')}, every step overshoots the valley floor by more "
            "than the last, and the loss explodes within a few updates.",
            {"learning_rate": 2.0, "batch_size": 32, "epochs": 5},
        ),
        Preset(
            "SGD noise floor",
            "With batch size 1 and a constant rate the path never settles: it stays at the "
            f"noise floor, {glossary.explain('noise floor')}, because every single-sample "
            "gradient points somewhere else.",
            {"learning_rate": 0.1, "batch_size": 1, "epochs": 10, "noise": 1.0},
        ),
        Preset(
            "Momentum overshoots a narrow valley",
            "Offset features make a long, narrow valley; with momentum 0.9 the path swings "
            "across it again and again, then settles at the minimum.",
            {
                "x_mean": 3.0,
                "momentum": 0.9,
                "learning_rate": 0.02,
                "batch_size": 200,
                "epochs": 100,
                "shuffle": False,
            },
        ),
        Preset(
            "Decay rescues a large learning rate",
            "Decay shrinks the rate after every update, lr / (1 + decay·t): big early steps "
            "cover ground, small late steps calm the batch-size-1 noise.",
            {"learning_rate": 0.5, "decay": 0.01, "batch_size": 1, "epochs": 10, "noise": 1.0},
        ),
        Preset(
            "Full-batch gradient descent",
            "With batch_size equal to the training rows (full batch: "
            f"{glossary.explain('full batch')}) there is no sampling noise: the smooth path of "
            "classic gradient descent.",
            {"batch_size": FULL, "learning_rate": 0.3, "epochs": 30},
        ),
        Preset(
            NETWORK_PRESET,
            "Sixteen tanh units on a noisy sine, 20 epochs at rate 0.05: drag the batch size. "
            "Of these three, batch size 32 (140 updates) ends closest to the best point, its loss "
            "still rising and falling from batch to batch; batch size 1 takes 4,000 noisy steps "
            "and still jitters well above it; full batch takes 20 smooth steps and has barely "
            "begun to bend its curve.",
            {"model": "network"},
        ),
    ]
}
