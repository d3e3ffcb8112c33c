"""Jargon (issue 16, item 10): every term of ``ui.glossary`` is explained where a page first
uses it, by the glossary's own words, in the text at or before that use, or in the tooltip of
the element that shows it."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from ui import glossary
from ui.glossary import TERMS

# The pages whose files are edited elsewhere right now; each leaves this set when its first
# uses, and the shared sidebar's (ui/controls.py: batch size, Nesterov), call ui.glossary (the
# list in issue 16, item 10). Until then its test is expected to fail, and strictly: once a
# page explains every term, its test fails until it leaves the set.
PENDING: set[str] = set()  # every page explains its terms (issue 16, item 10)


# ---- the glossary itself ------------------------------------------------------------------


def test_every_spelling_names_one_term():
    spellings = [s.lower() for term in TERMS for s in term.spellings]
    assert len(spellings) == len(set(spellings))
    for term in TERMS:
        for spelling in term.spellings:
            assert glossary.lookup(spelling) is term


@pytest.mark.parametrize("term", TERMS, ids=lambda t: t.term)
def test_an_explanation_is_one_short_clause_in_plain_words(term):
    assert 20 <= len(term.explanation) <= 125, term.explanation
    assert term.explanation[0].islower() and not term.explanation.endswith(".")
    assert ". " not in term.explanation  # one clause, not a paragraph
    # No other term in it: explaining one word must not need another.
    assert set(glossary.found(term.explanation)) <= {term}


@pytest.mark.parametrize("term", TERMS, ids=lambda t: t.term)
def test_first_and_help_carry_the_explanation_and_are_found(term):
    for spelling in term.spellings:
        assert term in glossary.found(spelling)
        assert term.explanation in glossary.first(spelling)
        assert term.explanation in glossary.help(spelling)
        # Whatever else the spelling names is explained with it (λmax in "2/λmax").
        for other in glossary.found(spelling):
            assert other.explanation in glossary.first(spelling)


def _dotted(text: str) -> str:
    """Turkish i's: "ı" and "İ", which casefold to something other than "i"."""
    return text.replace("i", "\u0131").replace("I", "\u0130")


def _long_s(text: str) -> str:
    """The long s and the Kelvin sign, which ignoring case matches to s and k."""
    return text.replace("s", "\u017f").replace("k", "\u212a")


_SPELLING = st.sampled_from([s for term in TERMS for s in term.spellings])


@given(
    st.lists(
        st.tuples(
            _SPELLING, st.sampled_from(["", "s", "es", "x"]), st.sampled_from([" ", "-", ""])
        ),
        max_size=4,
    ),
    st.sampled_from([str, str.upper, str.lower, str.title, str.swapcase, _dotted, _long_s]),
)
def test_found_is_every_term_whose_pattern_matches(pieces, case):
    # ``found`` checks a term's casefolded spellings before its pattern; that must drop
    # nothing the pattern alone finds, whatever the case (letters that ignoring case matches
    # to i, s and k included), plural or neighbouring words.
    text = case("".join(f"{spelling}{tail}{sep}" for spelling, tail, sep in pieces))
    prose = glossary._CODE.sub(" ", text)
    expected = tuple(term for term, pattern, _ in glossary._patterns() if pattern.search(prose))
    assert glossary.found(text) == expected


def test_an_unknown_term_says_where_to_add_it():
    with pytest.raises(KeyError, match="add it there"):
        glossary.first("warmup")


# ---- every page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """One element as the learner sees it: its text and its tooltip, as (text, tooltip)
    views; several when the element shows one of several (the live stage shows the status of
    the run on screen, one per knob position)."""

    kind: str
    views: tuple[tuple[str, str], ...]


def one(kind: str, text: str, tooltip: str = "") -> Shown:
    return Shown(kind, ((text, tooltip),))


def _title(title) -> str:
    return title.get("text", "") if isinstance(title, dict) else (title or "")


def _chart_text(spec: str) -> str:
    """What a Plotly chart writes: title, axis titles, annotations, legend, text traces."""
    figure = json.loads(spec)
    layout = figure.get("layout", {})
    words = [_title(layout.get("title"))]
    words += [
        _title(value.get("title"))
        for key, value in layout.items()
        if key.startswith(("xaxis", "yaxis")) and isinstance(value, dict)
    ]
    words += [str(a.get("text", "")) for a in layout.get("annotations", ()) or ()]
    for trace in figure.get("data", ()):
        words.append(trace.get("name") or "")
        if "text" in (trace.get("mode") or "") and trace.get("text"):
            words += [str(t) for t in trace["text"]]
    return " ; ".join(w for w in words if w)


def _stage_views(payload: bytes) -> tuple[tuple[str, str], ...]:
    """The live stage's status of every run it holds (one is on screen at a time), each with
    its tooltip."""
    from ui.stage.payload import decode

    try:
        header = decode(payload).header
    except ValueError:  # the inside-a-batch scrubber: no words of its own
        return ()
    return tuple(
        (" ".join([*run.get("text", ()), run.get("early", "")]), run.get("help", ""))
        for knob in header["knobs"]
        for run in knob["runs"]
    )


def _widget_text(node) -> str:
    shown = [node.proto.label]
    with contextlib.suppress(Exception):  # a widget without a formatted value (a button)
        shown.append(str(node.format_func(node.value)))
    if node.type == "select_slider":  # the slider's ends are written under it
        shown += [node.options[0], node.options[-1]]
    return " ".join(shown)


TEXT_KINDS = {"title", "header", "subheader", "markdown", "caption", "latex"}
TEXT_KINDS |= {"info", "warning", "success", "error"}


def shown(node) -> list[Shown]:
    """The page region ``node`` in reading order (a column's contents before the next's)."""
    if isinstance(node, Block):
        label = getattr(node, "label", "") or ""
        head = [one(node.type, label)] if label else []
        return head + [item for key in sorted(node.children) for item in shown(node.children[key])]
    kind, proto = node.type, node.proto
    tip = getattr(proto, "help", "") or ""
    if kind == "code":  # code, not prose: `nesterov=True` is an argument
        return []
    if kind == "plotly_chart":
        return [one(kind, _chart_text(proto.spec))]
    if kind == "bidi_component":
        return [Shown(kind, _stage_views(proto.bytes))]
    if kind == "metric":
        return [one(kind, f"{proto.label} {proto.body}", tip)]
    if kind in TEXT_KINDS:
        return [one(kind, node.value, tip)]
    if hasattr(proto, "label"):
        return [one(kind, _widget_text(node), tip)]
    return []


def explains(term: glossary.Term, text: str, tooltip: str) -> bool:
    """Does a view explain ``term``: in its text, or in the tooltip of a text that uses it?"""
    used = term in glossary.found(text)
    return term.explanation in text or (used and term.explanation in tooltip)


def unexplained(region: list[Shown]) -> list[str]:
    """Each term whose first use in ``region`` comes before its explanation: the explanation
    must be in the text at or before it, or in the tooltip of the element that shows it."""
    problems = []
    for term in TERMS:
        explained = False
        for element in region:
            bare = [
                text
                for text, tooltip in element.views
                if term in glossary.found(text) and not explains(term, text, tooltip)
            ]
            if bare and not explained:
                problems.append(f"{term.term!r} unexplained in {element.kind}: {bare[0]!r}")
                break
            # Explained from here on once every view of the element explains it.
            views = element.views
            explained |= bool(views) and all(explains(term, *view) for view in views)
    return problems


def choose_preset(name: str):
    def act(at: AppTest) -> AppTest:
        return at.selectbox(key="preset").set_value(name).run()

    return act


SMALL = {"n": "100", "epochs": "5"}
# (page file, query, what the learner does next); None opens the default page, the Playground.
PAGES = {
    "playground": (None, SMALL, None),
    "playground: too large a learning rate": (
        None,
        {},
        choose_preset("Too large a learning rate"),
    ),
    "playground: the SGD noise floor": (None, {}, choose_preset("SGD noise floor")),
    "batch_sizes": ("lessons/batch_sizes.py", SMALL, None),
    "batch_sizes: a run that diverges": (
        "lessons/batch_sizes.py",
        SMALL | {"learning_rate": "1.0"},
        None,
    ),
    "inside_a_batch": ("lessons/inside_a_batch.py", SMALL, None),
    "inside_a_batch: a run that diverges": (
        "lessons/inside_a_batch.py",
        SMALL | {"learning_rate": "1.5"},
        None,
    ),
    "keras_to_here": ("lessons/keras_to_here.py", SMALL, None),
    "maps": ("lessons/maps.py", SMALL, None),
    "batch_size_choice": ("lessons/batch_size_choice.py", {"n": "100"}, None),
}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name,
            marks=pytest.mark.xfail(
                strict=True, reason="applied when the page's files land (issue 16, item 10)"
            )
            if name in PENDING
            else (),
        )
        for name in PAGES
    ],
)
def test_every_term_is_explained_at_its_first_use_on_the_page(app, name):
    page, query, then = PAGES[name]
    at = app(page, **query)
    if then is not None:
        at = then(at)
    assert not at.exception, [e.value for e in at.exception]
    problems = [f"main: {p}" for p in unexplained(shown(at.main))]
    problems += [f"sidebar: {p}" for p in unexplained(shown(at.sidebar))]
    assert not problems, "\n".join(problems)


def test_the_check_catches_a_term_before_its_explanation():
    region = [
        one("markdown", "Past B_crit the steps stop halving."),
        one("markdown", f"The critical batch size {glossary.first('B_crit')}."),
    ]
    assert unexplained(region) == [
        "'critical batch size' unexplained in markdown: 'Past B_crit the steps stop halving.'"
    ]
    assert unexplained(region[::-1]) == []
    tooltip = one("metric", "B_crit 12", glossary.help("B_crit"))
    assert unexplained([tooltip, region[0]]) == []
    # A tooltip explains only the element it is on.
    assert unexplained([one("markdown", "Hello", glossary.help("B_crit")), region[0]])
    # The stage shows one status at a time: each that uses a term must explain it.
    floor = "at the SGD noise floor"
    stage = Shown("bidi_component", (("converged", ""), (floor, "")))
    assert unexplained([stage])[0].startswith("'noise floor' unexplained in bidi_component")
    stage = Shown("bidi_component", (("converged", ""), (floor, glossary.help("noise floor"))))
    assert unexplained([stage]) == []
    assert unexplained([stage, one("caption", floor)])  # not every view explained it
