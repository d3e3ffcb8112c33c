"""The script pieces of one release of the live stage, timed in one process (no server).

A release at the default link moves one knob to another of its positions (a new data seed
each time, so nothing comes from a cache): the four families (``ui.stage.build_families``),
the status sentences of the three families the browser does not hold, the glossary's
tooltips of those sentences, the scene, and the encoding of the three families (tooltips
included). Medians of ``--releases`` releases, the first two left out.

    python bench/release.py --releases 12
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import logging
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stats import machine_note, markdown_table
from ui import cache, charts, explain, glossary
from ui.controls import DEFAULTS
from ui.stage import KNOBS, PerKnob, build_families, current_positions, ids, scene, texts_for

payload = importlib.import_module("ui.stage.payload")  # the module, not ui.stage's function


def describe_for(settings):
    """The Playground's status of run r of a family (``lessons/playground.py``)."""
    x, y = cache.training_rows(settings, None)
    surface = cache.surface_for_data(settings, None)
    target = charts.target_words(surface.plane)[0]
    land = explain.landscape(settings, x, y, surface.best, surface.min_loss, target)
    return lambda fam, r: explain.family_status(fam, r, land)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--releases", type=int, default=12)
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # st.cache_data outside a server says so on every call
    print(machine_note())
    build_families(DEFAULTS, None)  # the kernels' first call
    times: dict[str, list[float]] = {}

    def timed(name, function, *args):
        start = time.perf_counter()
        value = function(*args)
        times.setdefault(name, []).append(time.perf_counter() - start)
        return value

    def tooltips(texts):
        return [glossary.help_for(" ".join(map(str, t[:2]))) for family in texts for t in family]

    rng = random.Random(0)
    for k in range(args.releases):
        knob = rng.choice(KNOBS)
        now = getattr(DEFAULTS, knob)
        values = [v for v in payload.knob_values(knob, now, DEFAULTS.n_train) if v != now]
        settings = dataclasses.replace(DEFAULTS, **{knob: rng.choice(values)}, data_seed=100 + k)
        fams = timed("the four families", build_families, settings, None)
        describe = describe_for(settings)
        texts = timed("status sentences (3 families)", texts_for, fams, describe, {knob})
        timed("glossary tooltips of them", tooltips, texts)
        seen = timed("the scene", scene, settings, None)
        names = ids(settings, None, "status")
        held = frozenset({getattr(names.families, knob), names.scene})
        at = current_positions(settings, fams)
        timed(
            "encoding 3 families (tooltips included)",
            payload.encode, fams, at, PerKnob(*texts), seen, names, held,
        )  # fmt: skip
    rows = [[name, round(1000 * float(np.median(t[2:])), 1)] for name, t in times.items()]
    print(markdown_table(["piece", "median ms"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
