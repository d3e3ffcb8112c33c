"""ui.stage.payload: the stage's bytes decode back to the families, and fit the issue's budgets."""

import dataclasses

import numpy as np
import pytest

import gd
from gd.family import KNOB_TABLE
from ui.controls import Settings
from ui.stage import (
    KNOBS,
    Commit,
    _commit,
    _scrub,
    build_families,
    current_positions,
    held_ids,
    ids,
    scene,
    texts_for,
)
from ui.stage.payload import (
    MAGIC,
    MAX_SCATTER,
    SCENE_ARRAYS,
    Ids,
    PerKnob,
    decode,
    encode,
    follow,
    knob_values,
    read,
    read_update,
    with_update,
)

DEFAULT_BUDGET = 300_000  # bytes, issue 9
LARGEST_BUDGET = 1_500_000
FIELDS = ("steps", "params", "loss", "learning_rate", "batch_low", "batch_high", "epoch_loss")


def describe(fam: gd.Family, r: int) -> tuple[str, str]:
    at = fam.diverged(r)
    return ("diverged" if at is not None else "finished", f"Run {r} of {fam.knob}: ünïcode ⌈⌉.")


def build(settings: Settings) -> tuple[PerKnob, bytes]:
    fams = build_families(settings, None)
    texts = PerKnob(*texts_for(fams, describe))
    return fams, encode(fams, current_positions(settings, fams), texts, scene(settings, None))


@pytest.fixture(scope="module")
def default():
    return build(Settings())


def f32(a: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(a, dtype=np.float64).astype(np.float32)


def assert_round_trip(fams: PerKnob, payload: bytes) -> None:
    decoded = decode(payload)
    for knob, fam in fams.items():
        got = decoded.family(knob)
        np.testing.assert_array_equal(got["values"], fam.values)
        np.testing.assert_array_equal(got["lengths"], fam.lengths)
        np.testing.assert_array_equal(got["batch_bins"], fam.batch_bins)
        np.testing.assert_array_equal(got["completed"], fam.completed)
        for name in FIELDS:
            want = getattr(fam, name)
            # A row with no entries (no completed epoch) is NaN in both.
            np.testing.assert_array_equal(got[name], f32(want), err_msg=f"{knob}.{name}")
        if fam.val_loss is None:
            assert got["val_loss"] is None
        else:
            np.testing.assert_array_equal(got["val_loss"], f32(fam.val_loss))
        runs = decoded.knob(knob)["runs"]
        assert [run["updates"] for run in runs] == [fam.updates(r) for r in range(fam.runs)]
        assert [run["diverged_at"] for run in runs] == fam.diverged_at.tolist()
        assert [run["updates_per_epoch"] for run in runs] == fam.updates_per_epoch.tolist()
        assert [run["text"] for run in runs] == [list(describe(fam, r)) for r in range(fam.runs)]


def test_round_trip_at_default_settings(default):
    fams, payload = default
    assert_round_trip(fams, payload)
    decoded = decode(payload)
    s = Settings()
    plane = scene(s, None)
    np.testing.assert_array_equal(decoded.arrays["surface.loss"], f32(plane.loss))
    np.testing.assert_array_equal(decoded.arrays["surface.axis0"], f32(plane.axis0))
    assert decoded.arrays["data.x"].size == s.n  # 200 rows: all shown
    run = decoded.knob("batch_size")["runs"][decoded.knob("batch_size")["current"]]
    assert run["arithmetic"] == "⌈200 / 32⌉ = 7"
    assert run["updates"] == 140


def test_round_trip_with_decay_validation_and_a_link_batch_size():
    settings = Settings(
        model="tanh", n=150, batch_size=37, decay=0.01, momentum=0.9, validation_split=0.2
    )
    fams, payload = build(settings)
    assert fams.learning_rate.val_loss is not None
    assert_round_trip(fams, payload)
    assert "learning_rate.learning_rate" in decode(payload).arrays  # decay: rates change


@pytest.mark.parametrize(
    ("knob", "current"),
    [("learning_rate", 0.05), ("learning_rate", 0.0123), ("batch_size", 37), ("momentum", 0.9),
     ("momentum", 0.42), ("decay", 0.0), ("decay", 0.003)],
)  # fmt: skip
def test_the_current_value_is_a_position(knob, current):
    values = knob_values(knob, current, 200)
    assert current in values
    assert values == sorted(values)
    assert len(set(values)) == len(values)


def test_positions_cover_each_knob():
    lr = knob_values("learning_rate", 0.05, 200)
    assert 38 <= len(lr) <= 44 and lr[0] == 1e-4 and lr[-1] == 10.0
    assert knob_values("batch_size", 32, 200) == [1, 2, 4, 8, 16, 32, 64, 128, 200]
    momentum = knob_values("momentum", 0.0, 200)
    assert momentum[0] == 0.0 and momentum[-1] == 0.99 and 18 <= len(momentum) <= 22
    decay = knob_values("decay", 0.0, 200)
    assert decay[0] == 0.0 and decay[1] == 1e-4 and decay[-1] == 1.0 and len(decay) == 14


def test_the_payload_marks_the_settings_run_as_current(default):
    _, payload = default
    decoded = decode(payload)
    s = Settings()
    for knob in KNOBS:
        entry = decoded.knob(knob)
        assert entry["values"][entry["current"]] == getattr(s, knob)


def test_default_payload_fits_its_budget(default):
    _, payload = default
    print(f"default payload: {len(payload)} bytes")
    assert len(payload) <= DEFAULT_BUDGET


def test_largest_payload_fits_its_budget():
    settings = Settings(n=10_000, batch_size=1, epochs=100, decay=0.001, validation_split=0.2)
    fams, payload = build(settings)
    print(f"largest payload: {len(payload)} bytes")
    assert len(payload) <= LARGEST_BUDGET
    assert decode(payload).arrays["data.x"].size <= MAX_SCATTER
    assert_round_trip(fams, payload)


def test_scatter_is_deterministic_and_training_rows_lead():
    settings = Settings(n=5000, epochs=1, validation_split=0.3)
    _, first = build(settings)
    _, second = build(settings)
    assert first == second
    decoded = decode(first)
    x = decoded.arrays["data.x"]
    assert x.size == MAX_SCATTER
    data = scene(settings, None)
    shown = decoded.header["shown_train"]
    assert 0 < shown < x.size
    assert set(x[:shown].tolist()) <= set(f32(data.x[: data.n_train]).tolist())


def test_texts_must_match_the_runs(default):
    fams, _ = default
    texts = PerKnob(*texts_for(fams, describe))
    short = PerKnob(texts.learning_rate[:-1], texts.batch_size, texts.momentum, texts.decay)
    with pytest.raises(ValueError, match="one list of strings per run"):
        encode(fams, current_positions(Settings(), fams), short, scene(Settings(), None))


def test_an_upload_uses_its_own_rows():
    csv = b"x,y\n" + b"".join(f"{i / 10},{2 * i / 10 - 1}\n".encode() for i in range(37))
    settings = Settings(source="csv", n=37, batch_size=64)  # the store sets n to the file's rows
    fams = build_families(settings, csv)
    assert fams.batch_size.values.tolist() == [1, 2, 4, 8, 16, 32, 37]
    payload = encode(
        fams,
        current_positions(settings, fams),
        PerKnob(*texts_for(fams, describe)),
        scene(settings, csv),
    )
    decoded = decode(payload)
    assert decoded.header["n_train"] == 37
    assert decoded.knob("batch_size")["labels"][decoded.knob("batch_size")["current"]] == "37"
    assert_round_trip(fams, payload)


def test_with_update_changes_only_the_start(default):
    _, payload = default
    assert decode(payload).header["update"] is None
    moved = with_update(payload, 57)
    again = decode(moved)
    assert again.header["update"] == 57
    assert list(again.header)[-1] == "update"  # the browser finds it at the end
    before = decode(payload)
    assert {k: v for k, v in again.header.items() if k != "update"} == {
        k: v for k, v in before.header.items() if k != "update"
    }
    for name, array in before.arrays.items():
        np.testing.assert_array_equal(again.arrays[name], array)
    assert with_update(moved, None) == payload
    assert with_update(payload, None) is payload
    with pytest.raises(TypeError):
        with_update(payload, 1.5)


@pytest.mark.parametrize(
    ("text", "start"),
    [(None, None), ("0", 0), ("140", 140), (" 7 ", 7), ("141", None), ("-3", None),
     ("1e3", None), ("", None), ("9" * 40, None)],
)  # fmt: skip
def test_read_update(text, start):
    value, notice = read_update(text, 140)
    assert value == start
    assert (notice is None) == (start is not None or text is None)
    if notice:
        assert "9" * 13 not in notice  # a long value is never quoted


@pytest.mark.parametrize(
    ("sent", "result"),
    [
        ({"update": 12}, (True, 12)),
        ({"update": 12.0}, (True, 12)),
        ({"update": None}, (True, None)),
        ({"update": 999}, (True, 140)),  # clamped to the run
        ({"update": -1}, (False, None)),
        ({"update": 1.5}, (False, None)),
        ({"update": True}, (False, None)),
        ({"update": "3"}, (False, None)),
        ({"update": float("nan")}, (False, None)),
        ({}, (False, None)),
        (None, (False, None)),
    ],
)
def test_a_reported_position_is_checked(sent, result):
    assert _scrub(sent, 140) == result


# --- The update scrubber of "Inside one mini-batch" (ui/inside_stage/payload.py) -------------


@pytest.mark.parametrize("last", [0, 1, 139, 5000])
@pytest.mark.parametrize("per_update", [1, 600, 50_000, 10**7])
def test_an_update_window_holds_its_centre_and_fits_the_budget(last, per_update):
    from ui.inside_stage.payload import BUDGET, window

    for centre in sorted({0, last // 3, last}):
        first, end = window(centre, last, per_update)
        assert 0 <= first <= centre <= end <= last
        size = end - first + 1
        assert size == 1 or size * per_update <= BUDGET
        assert size == min(last + 1, max(1, BUDGET // per_update))


def test_an_update_payload_round_trips_and_needs_consecutive_updates():
    from gd.noise import inside_update
    from ui import cache
    from ui.inside_a_batch_charts import Zoom
    from ui.inside_stage.payload import GRID, Frame, Scene
    from ui.inside_stage.payload import decode as decode_inside
    from ui.inside_stage.payload import encode as encode_inside

    s = Settings(model="tanh", n=50, batch_size=8, validation_split=0.2, epochs=2)
    run = cache.run(s, None)
    data = cache.dataset_for(s, None)
    x, y = cache.training_rows(s, None)
    model = s.spec.build()
    axis = np.linspace(-1.0, 1.0, GRID)

    def frame(u):
        loss = model.loss_grid(x, y, axis, axis, base=run.params[u])
        return Frame(inside_update(model, run, x, y, u), Zoom(axis, axis, loss), 0.5, "here")

    scene = Scene(
        model=s.model, names=("w", "a"), fit_label="fit", minimum=np.zeros(2), x=data.x,
        y=data.y, n_train=run.n_train, updates=run.updates,
        updates_per_epoch=run.updates_per_epoch, last=run.updates - 1,
        trail=run.params[0:6], trail_from=0,
    )  # fmt: skip
    payload = encode_inside([frame(u) for u in (2, 3, 4)], scene)
    got = decode_inside(payload)
    assert (got.header["first"], got.header["last_loaded"], got.header["update"]) == (2, 4, None)
    assert got.header["shown_train"] == run.n_train == 40  # validation rows drawn after them
    for u in (2, 3, 4):
        one = got.frame(u)
        want = inside_update(model, run, x, y, u)
        np.testing.assert_array_equal(one["sample_steps"], f32(want.sample_steps))
        np.testing.assert_array_equal(np.sort(one["rows"]), np.sort(want.rows))
        np.testing.assert_array_equal(one["zoom"], f32(frame(u).zoom.loss))
        # gd index u is the step counted as update u + 1 (ui.words)
        assert one["where"] == f"Update {u + 1} of {run.updates} (here)."
    assert decode_inside(with_update(payload, 3)).header["update"] == 3
    with pytest.raises(ValueError, match="consecutive"):
        encode_inside([frame(2), frame(4)], scene)


def test_heavy_settings_stream_the_current_run_first_and_only_once():
    """Issue 19: a link the budget lets through whose families take a while (about 1 s here)
    shows its own run first; the work, not the updates, decides (no permitted link had the
    100 000 updates a run that used to decide)."""
    from ui import budget, stage

    heavy = Settings(n=10_000, batch_size=1, epochs=5)  # the heaviest permitted: 68 M units
    light = Settings()
    assert budget.fits(stage.work(heavy)) and stage.work(heavy) > stage.STREAM_ABOVE_WORK
    assert not stage.streams(light, None)  # small families come at once
    assert stage.streams(heavy, None)
    alone = stage.current_only(heavy, None)
    fams = stage.families(heavy, None)
    assert not stage.streams(heavy, None)  # computed: from the cache from now on
    for knob, fam in fams.items():
        one = getattr(alone, knob)
        assert one.runs == 1 and one.values.tolist() == [getattr(heavy, knob)]
        r = getattr(stage.current_positions(heavy, fams), knob)
        np.testing.assert_array_equal(one.params[0], fam.params[r, : one.lengths[0]])
        np.testing.assert_array_equal(one.loss[0], fam.loss[r, : one.lengths[0]])


def test_a_blow_up_is_followed_for_its_first_steps_then_leaves_the_chart():
    settings = Settings(learning_rate=2.0, epochs=5)  # above 2/λmax: each step ~3× further out
    fams, payload = build(settings)
    decoded = decode(payload)
    header, arrays = decoded.header, decoded.arrays
    assert header["zooms"] == [3.0, 10.0, 30.0]
    near0, near1 = arrays["surface.axis0"], arrays["surface.axis1"]
    centre = np.array([near0[0] + near0[-1], near1[0] + near1[-1]]) / 2
    half = np.array([near0[-1] - near0[0], near1[-1] - near1[0]]) / 2
    for k, factor in enumerate(header["zooms"]):  # each widened grid spans factor × the window
        np.testing.assert_allclose(
            arrays["surface.zoom_axis0"][k, [0, -1]],
            centre[0] + np.array([-1, 1]) * factor * half[0],
            rtol=1e-5,
        )
        np.testing.assert_allclose(
            arrays["surface.zoom_axis1"][k, [0, -1]],
            centre[1] + np.array([-1, 1]) * factor * half[1],
            rtol=1e-5,
        )
    assert arrays["surface.zoom_loss"].shape == (3, 33, 33)
    entry = decoded.knob("learning_rate")
    r = entry["current"]
    zoom = entry["runs"][r]["zoom"]
    path = fams.learning_rate.params[r, : fams.learning_rate.lengths[r], :2]
    reach = np.max(np.abs(path - centre) / half, axis=1)
    shown = reach <= zoom
    assert 1 < zoom <= 30
    assert shown[:4].all(), reach  # the start and three ever-wider swings are in the window
    assert not shown[4:].any(), reach  # then the path leaves the chart for good
    sizes = decoded.knob("batch_size")["runs"]  # lr 2 at batch sizes 1, 2, 4, … 200
    assert sizes[0]["zoom"] == 1.0  # one row's gradient throws the first step beyond 30×
    assert all(run["zoom"] > 1 for run in sizes[1:])


def test_a_path_inside_the_window_keeps_it(default):
    _, payload = default
    decoded = decode(payload)
    entry = decoded.knob("learning_rate")
    assert entry["runs"][entry["current"]]["zoom"] == 1.0
    assert entry["runs"][0]["zoom"] == 1.0  # the smallest rate barely moves


def test_follow_stops_at_the_first_point_out_of_reach_or_not_finite():
    axis = np.linspace(-1.0, 1.0, 3)
    blown = np.array([[0.0, 0.0], [2.0, 0.0], [np.inf, np.nan], [1.5, 0.0]])
    assert follow(blown, axis, axis, 30.0) == 2.16
    far = np.array([[0.0, 0.0], [0.0, 50.0], [0.0, 2.0]])
    assert follow(far, axis, axis, 30.0) == 1.0  # nothing before the first step out of reach
    assert follow(np.array([[0.0, 29.0]]), axis, axis, 30.0) == 30.0  # capped at the widest


def test_a_released_knob_reuses_its_own_family_and_recomputes_the_others():
    from ui import stage

    grid = knob_values("learning_rate", 0.05, 200)
    before = stage.families(Settings(learning_rate=grid[20]), None)
    after = stage.families(Settings(learning_rate=grid[24]), None)  # a drag to another position
    assert after.learning_rate is before.learning_rate  # the same runs: no recompute
    assert after.batch_size is not before.batch_size  # every batch size at the new rate
    np.testing.assert_array_equal(after.batch_size.values, before.batch_size.values)
    want = build_families(Settings(learning_rate=grid[24]), None)
    for knob, fam in after.items():
        np.testing.assert_array_equal(fam.params, getattr(want, knob).params, err_msg=knob)


def held_build(settings: Settings, held: frozenset[str] = frozenset()) -> tuple[Ids, bytes]:
    fams = build_families(settings, None)
    texts = PerKnob(*texts_for(fams, describe))
    names = ids(settings, None, "describe")
    at = current_positions(settings, fams)
    return names, encode(fams, at, texts, scene(settings, None), names, held)


@pytest.mark.parametrize(
    ("knob", "value"), [("learning_rate", 0.178), ("batch_size", 8), ("momentum", 0.5)]
)
def test_after_a_release_the_browser_is_sent_only_what_it_does_not_hold(knob, value):
    """Issue 19: the released knob's family and the scene are in the browser already: they
    ship as their ids (none of their arrays), and what the browser rebuilds from the payload
    it had equals the whole payload of the new settings, part for part."""
    before = Settings(learning_rate=0.1)  # on the knob's grid: its family keeps its positions
    after = dataclasses.replace(before, **{knob: value})
    old_ids, old = held_build(before)
    new_ids, whole = held_build(after)
    assert getattr(new_ids.families, knob) == getattr(old_ids.families, knob)
    assert new_ids.scene == old_ids.scene
    others = [k for k in KNOBS if k != knob]
    assert all(getattr(new_ids.families, k) != getattr(old_ids.families, k) for k in others)
    claimed = frozenset([*old_ids.families.__dict__.values(), old_ids.scene])
    _, sent = held_build(after, claimed)
    shipped = read(sent, MAGIC, "a stage")[1]
    assert not [name for name in shipped if name.startswith((f"{knob}.", *SCENE_ARRAYS))]
    rebuilt, want = decode(sent, previous=decode(old)), decode(whole)
    assert [k for k in read(sent, MAGIC, "a stage")[0]["knobs"] if k.get("held")] == [
        {"knob": knob, "id": getattr(new_ids.families, knob), "held": True,
         "current": want.knob(knob)["current"]}
    ]  # fmt: skip
    assert rebuilt.header["knobs"] == want.header["knobs"]
    assert rebuilt.arrays.keys() == want.arrays.keys()
    for name, array in want.arrays.items():
        np.testing.assert_array_equal(rebuilt.arrays[name], array, err_msg=name)


def test_the_strings_of_a_held_family_are_not_computed():
    """A release's payload asks ``describe`` only for the runs of the families it sends."""
    from ui import stage

    asked = []

    def counting(fam: gd.Family, r: int) -> tuple[str, str]:
        asked.append(fam.knob)
        return describe(fam, r)

    before, after = Settings(learning_rate=0.1), Settings(learning_rate=0.178)
    names = ids(before, None, "counting")
    old = stage.payload(before, None, "counting", counting)
    asked.clear()
    claimed = frozenset([names.families.learning_rate, names.scene])
    sent = stage.payload(after, None, "counting", counting, claimed)
    assert "learning_rate" not in asked
    assert sorted(set(asked)) == sorted(k for k in KNOBS if k != "learning_rate")
    rebuilt, want = decode(sent, previous=decode(old)), decode(held_build(after)[1])
    unnamed = [[{**entry, "id": ""} for entry in d.header["knobs"]] for d in (rebuilt, want)]
    assert unnamed[0] == unnamed[1]  # the same strings and arrays ("describe" names differ)
    for name, array in want.arrays.items():
        np.testing.assert_array_equal(rebuilt.arrays[name], array, err_msg=name)


def test_a_held_part_the_browser_does_not_have_is_refused():
    names, old = held_build(Settings())
    _, sent = held_build(Settings(learning_rate=0.2), frozenset([names.scene]))
    with pytest.raises(KeyError, match="scene"):
        decode(sent)  # a stage mounted anew: it asks for the whole payload
    _, other = held_build(Settings(noise=0.9))
    with pytest.raises(KeyError, match="scene"):
        decode(sent, previous=decode(other))
    assert decode(sent, previous=decode(old)).arrays.keys() == decode(old).arrays.keys()


@pytest.mark.parametrize(
    ("sent", "held"),
    [
        ({"knob": "momentum", "value": 0.5, "holds": ["a1", "b2"]}, {"a1", "b2"}),
        ({"knob": "momentum", "value": 0.5}, set()),
        ({"holds": "a1"}, set()),
        ({"holds": ["a"] * 6}, set()),
        ({"holds": [1, 2]}, set()),
        ({"holds": ["x" * 33]}, set()),
        (None, set()),
    ],
)
def test_what_the_browser_says_it_holds_is_checked(sent, held):
    assert held_ids(sent) == held


@pytest.mark.parametrize(
    ("sent", "commit"),
    [
        ({"knob": "momentum", "value": 0.9}, Commit("momentum", 0.9)),
        ({"knob": "momentum", "value": 1}, Commit("momentum", 1.0)),  # Keras's [0, 1], as a link
        ({"knob": "batch_size", "value": 37}, Commit("batch_size", 37)),
        ({"knob": "momentum", "value": 1.5}, None),
        ({"knob": "batch_size", "value": 2.5}, None),
        ({"knob": "batch_size", "value": True}, None),
        ({"knob": "learning_rate", "value": float("nan")}, None),
        ({"knob": "learning_rate", "value": "0.1"}, None),
        ({"knob": "decay", "value": -1.0}, None),
        ({"knob": "seed", "value": 1}, None),
        ({"value": 0.1}, None),
        ("learning_rate=0.1", None),
    ],
)
def test_a_released_value_is_checked_by_the_knob_table(sent, commit):
    assert _commit(sent) == commit


def test_the_payload_sends_the_knob_tables_order_and_labels(default):
    header = decode(default[1]).header
    assert [entry["knob"] for entry in header["knobs"]] == list(KNOB_TABLE) == list(KNOBS)
    for entry in header["knobs"]:
        spec = KNOB_TABLE[entry["knob"]]
        assert (entry["label"], entry["scale"]) == (spec.label, spec.scale)
