"""ui.stage.View and payload.with_view: what a class may see and do rides in the stage's header.

The browser's half (stage.js honouring the view) is tested in tests/e2e/test_stage_view.py.
"""

import inspect
import re
from pathlib import Path

import pytest

from ui import stage
from ui.controls import Settings
from ui.stage import View
from ui.stage.payload import DEFAULT_VIEW, MAGIC, decode, read, with_update, with_view
from ui.stage.payload import KNOBS as PAYLOAD_KNOBS

CANVAS_JS = Path(__file__).resolve().parents[1] / "ui" / "web" / "canvas.js"


@pytest.fixture(scope="module")
def payload() -> bytes:
    """A small stage payload (two epochs), built as ``stage.payload`` builds one."""
    settings = Settings(epochs=2)
    fams = stage.build_families(settings, None)
    return stage.encode(
        fams,
        stage.current_positions(settings, fams),
        stage.PerKnob(*stage.texts_for(fams, None)),
        stage.scene(settings, None),
    )


def test_view_is_exported_and_defaults_to_the_plain_stage():
    assert "View" in stage.__all__ and stage.View is View
    assert View() == DEFAULT_VIEW
    assert View() == View(frozenset(), frozenset(), 0, False)
    assert View() == View(frozenset(), frozenset(), 0, False, False)
    assert View().header() is None
    assert inspect.signature(stage.live).parameters["view"].default == View()


def test_view_keeps_knob_names_as_frozensets():
    view = View(locked=["batch_size"], hidden=("decay", "momentum"), play=4, present=True)
    assert view.locked == frozenset({"batch_size"})
    assert view.hidden == frozenset({"decay", "momentum"})
    assert hash(view) == hash(View({"batch_size"}, {"momentum", "decay"}, 4, True))
    # In the stage's order, not the set's: the header is the same bytes for equal views.
    assert view.header() == {
        "locked": ["batch_size"],
        "hidden": ["momentum", "decay"],
        "play": 4,
        "present": True,
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"locked": {"lr"}},
            "The 'locked' parameter must be a set of live knobs among ['learning_rate', "
            "'batch_size', 'momentum', 'decay']. Got ['lr'] instead.",
        ),
        ({"hidden": "momentum"}, "The 'hidden' parameter must be a set of live knobs"),
        ({"hidden": {"epochs", "decay"}}, "Got ['epochs'] instead."),
        ({"locked": [1]}, "The 'locked' parameter must be a set of live knobs"),
        ({"locked": 3}, "Got 3 instead."),
        (
            {"locked": {"momentum"}, "hidden": {"momentum"}},
            "momentum is both locked and hidden; lock it or hide it, not both.",
        ),
        (
            {"locked": {"decay", "momentum"}, "hidden": {"momentum", "decay"}},
            "momentum, decay are both locked and hidden; lock them or hide them, not both.",
        ),
        ({"play": -1}, "The 'play' parameter must be an int >= 0. Got -1 instead."),
        ({"play": 1.0}, "The 'play' parameter must be an int >= 0. Got 1.0 instead."),
        ({"play": True}, "Got True instead."),
        ({"present": 1}, "The 'present' parameter must be True or False. Got 1 instead."),
        ({"conceal": 1}, "The 'conceal' parameter must be True or False. Got 1 instead."),
        ({"conceal": "yes"}, "The 'conceal' parameter must be True or False. Got 'yes' instead."),
    ],
)
def test_view_is_validated_at_construction(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        View(**kwargs)


def test_conceal_is_written_only_when_true():
    """A view that does not conceal writes the header it wrote before ``conceal`` existed."""
    assert "conceal" not in View(locked={"decay"}, play=2).header()
    assert View(conceal=True).header() == {
        "locked": [],
        "hidden": [],
        "play": 0,
        "present": False,
        "conceal": True,
    }
    view = View(hidden={"momentum"}, play=5, present=True, conceal=True)
    expected = {**View(hidden={"momentum"}, play=5, present=True).header(), "conceal": True}
    assert view.header() == expected
    assert View(conceal=True) != DEFAULT_VIEW and View(conceal=True).header() is not None


def test_a_concealed_view_round_trips_and_is_taken_away_whole(payload):
    concealed = with_view(with_update(payload, 0), View(conceal=True, play=4))
    header, _ = read(concealed, MAGIC, "a stage")
    assert header["view"]["conceal"] is True and list(header)[-2:] == ["view", "update"]
    assert header["update"] == 0
    answered = with_view(concealed, View(play=5))  # the student answered: a new token
    header, _ = read(answered, MAGIC, "a stage")
    assert "conceal" not in header["view"] and header["view"]["play"] == 5
    assert with_view(concealed, View()) == with_update(payload, 0)


def test_with_view_round_trips_through_the_decoder(payload):
    view = View(locked={"learning_rate"}, hidden={"decay"}, play=7, present=True)
    viewed = with_view(payload, view)
    header, _ = read(viewed, MAGIC, "a stage")
    assert header["view"] == view.header()
    assert list(header)[-2:] == ["view", "update"]  # update stays last: the browser reads both
    before, after = decode(payload), decode(viewed)
    assert {k: v for k, v in after.header.items() if k != "view"} == before.header
    assert after.arrays.keys() == before.arrays.keys()
    for name, array in before.arrays.items():
        assert after.arrays[name].tobytes() == array.tobytes()
    blob = lambda data: data[8 + int.from_bytes(data[4:8], "little") :]  # noqa: E731
    assert blob(viewed) == blob(payload)  # the arrays' bytes, untouched


def test_with_view_returns_the_same_bytes_when_unchanged(payload):
    view = View(hidden={"momentum"}, play=2)
    viewed = with_view(payload, view)
    assert with_view(viewed, View(hidden=["momentum"], play=2)) is viewed
    assert with_view(payload, View()) is payload  # the default view adds nothing
    assert with_view(viewed, View()) == payload  # and a view taken away leaves none behind
    assert with_view(with_view(viewed, View(play=3)), view) == viewed
    with pytest.raises(TypeError, match="The 'view' parameter must be a View"):
        with_view(payload, {"play": 1})


def test_with_update_and_with_view_commute_and_keep_update_last(payload):
    view = View(locked={"batch_size"}, play=1)
    one = with_view(with_update(payload, 12), view)
    other = with_update(with_view(payload, view), 12)
    assert one == other
    header, _ = read(one, MAGIC, "a stage")
    assert list(header)[-1] == "update" and header["update"] == 12
    assert with_view(with_update(payload, 12), View()) == with_update(payload, 12)


def test_the_browsers_pattern_finds_the_start_and_ignores_the_view(payload):
    """canvas.js's UPDATE_KEY reads the start at the header's end and, stripped, leaves the
    same text for any view: a new view, like a new start, is not new runs (``sameRuns``)."""
    source = CANVAS_JS.read_text(encoding="utf-8")
    pattern = re.search(r"export const UPDATE_KEY = /(.*)/;", source).group(1)

    def header_text(data: bytes) -> str:
        length = int.from_bytes(data[4:8], "little")
        return data[8 : 8 + length].decode()

    plain = header_text(with_update(payload, 30))
    views = [View(), View(locked={"decay"}, hidden={"momentum", "learning_rate"}, play=9)]
    views.append(View(present=True))
    views.append(View(locked={"decay"}, play=2, conceal=True))
    for view in views:
        text = header_text(with_view(with_update(payload, 30), view))
        match = re.search(pattern, text)
        assert match is not None and match.group(1) == "30"
        assert re.sub(pattern, "}", text).rstrip() == re.sub(pattern, "}", plain).rstrip()


def test_the_payload_and_the_stage_name_the_same_knobs():
    assert PAYLOAD_KNOBS == stage.KNOBS == tuple(View(locked=stage.KNOBS).header()["locked"])
