"""A release's payload (issue 19): the whole stage payload against what a browser that holds
the released knob's family and the scene is sent, in bytes and in encoding time.

For each knob: the stage at settings S (the browser holds its four families and its scene),
then the knob released one position along; the new settings' whole payload against the one
sent with the browser's ``holds`` (``ui.stage.payload.encode``'s ``held``). The families come
from ``ui.stage.build_families`` once (not timed); the encoding is timed, median of repeats.

    python bench/payload.py
    python bench/payload.py --query "n=10000&batch_size=1&epochs=5"     # the heaviest permitted
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stats import machine_note, markdown_table
from ui.controls import Settings, read_link
from ui.stage import KNOBS, build_families, current_positions, ids, scene, texts_for
from ui.stage.payload import PerKnob, encode, knob_values, position


def describe(fam, r: int) -> tuple[str, str]:
    """A status of the page's length, computed once per run (the page's is cached too)."""
    return ("finished", f"{fam.updates(r)} updates; the loss ended where the chart shows.")


def encoded(settings: Settings, held: frozenset[str], repeats: int) -> tuple[bytes, float]:
    """The payload for ``settings`` less ``held``, and the median ms to encode it."""
    fams = build_families(settings, None)
    texts = PerKnob(*texts_for(fams, describe))
    at, where = current_positions(settings, fams), scene(settings, None)
    names = ids(settings, None, "")
    times, data = [], b""
    for _ in range(repeats):
        start = time.perf_counter()
        data = encode(fams, at, texts, where, names, held)
        times.append(time.perf_counter() - start)
    return data, 1000 * statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    logging.disable(logging.WARNING)  # st.cache_data outside a server says so, once a call
    machine = machine_note()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--query", default="", help="the settings, as a link's query")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    values, _ = read_link(dict(p.split("=", 1) for p in args.query.split("&") if p))
    before = Settings(**values)
    names = ids(before, None, "")
    holds = frozenset([*names.families.__dict__.values(), names.scene])
    rows = []
    for knob in KNOBS:
        positions = knob_values(knob, getattr(before, knob), before.n_train)
        here = position(positions, getattr(before, knob))
        after = dataclasses.replace(before, **{knob: positions[min(here + 1, len(positions) - 1)]})
        whole, whole_ms = encoded(after, frozenset(), args.repeats)
        sent, sent_ms = encoded(after, holds, args.repeats)
        rows.append(
            [
                f"{knob} → {getattr(after, knob):g}",
                f"{len(whole) / 1000:.0f}",
                f"{len(sent) / 1000:.0f}",
                f"{len(sent) / len(whole):.2f}",
                f"{whole_ms:.1f}",
                f"{sent_ms:.1f}",
            ]
        )
    header = ["release", "whole kB", "sent kB", "share", "encode whole ms", "encode sent ms"]
    print(f"\nStage payload after a release, at {args.query or 'the defaults'}")
    print(f"{machine}\n")
    print(markdown_table(header, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
