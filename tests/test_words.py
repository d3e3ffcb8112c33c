"""Counts in words (issue 10): "1 update", "1 epoch", "1 row", everywhere a learner reads one;
counters for people start at 1 (the k-th update), code stays 0-based."""

import re

import gd
from ui import explain
from ui.stage.payload import read_update
from ui.words import plural


def test_plural_is_singular_only_for_exactly_one():
    assert plural(1, "update") == "1 update"
    assert plural(0, "update") == "0 updates"
    assert plural(1_234, "update") == "1,234 updates"
    assert plural(1, "batch", "batches") == "1 batch"
    assert plural(3, "batch", "batches") == "3 batches"
    assert plural(2, "epoch", number=False) == "epochs"


def test_the_last_batch_of_one_row_is_one_row():
    data = gd.datasets.linear(n=33, seed=0)
    run = gd.fit(gd.models.LinearRegression(), data.x, data.y, gd.SGD(0.1), batch_size=8)
    text = explain.updates_arithmetic(run.n_train, run.batch_size)
    assert text == "⌈33 / 8⌉ = 5 (the last batch has 1 row)"


def test_a_link_past_a_one_update_run_says_one_update():
    assert read_update("5", 1)[1] == (
        "update=5 is out of range (the run has 1 update), so the whole run is shown."
    )


def test_a_run_that_diverges_at_its_first_update_names_update_1():
    data = gd.datasets.linear(n=50, seed=0)
    run = gd.fit(
        gd.models.LinearRegression(),
        data.x,
        data.y,
        gd.SGD(1e6),
        gd.Training(epochs=3),
        batch_size=50,
    )
    label, _ = explain.status(run, explain.Landscape(min_loss=0.0))
    assert run.diverged_at == 1 and label == "diverged at update 1"  # the first, counted from 1


def test_no_plural_after_a_one_in_the_playground_takeaway_and_stage(app):
    at = app(batch_size="200", epochs="1")  # one update, one epoch
    (takeaway,) = [m.value for m in at.markdown if "not a number of threads" in m.value]
    assert "1 update per epoch and 1 in all" in takeaway
    assert "that update averaged its batch's per-sample gradients" in takeaway
    assert "Every update averages 200 rows" in takeaway  # issue 16: the rows said per update
    from tests.conftest import current_run

    assert current_run(at)["epochs_done"] == "1 of 1 epoch"
    texts = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert not re.search(r"\b1 (updates|epochs|rows|runs|gradients)\b", texts)
