"""Shared layer (every lesson): sidebar widgets in, one frozen ``Settings`` out, and every
setting mirrored in the URL.

Each setting has one name, used as the ``gd`` argument, the widget key and the URL query
parameter (``?learning_rate=0.1&batch_size=37``). A shared link is validated here, once: a
malformed or out-of-range value falls back to the default and the page says so, instead of
Streamlit silently clamping it.

Values live in a session-wide store (``st.session_state[STORE]``) as well as in the widget keys,
because Streamlit forgets a widget's value when the user switches to a page that does not
draw it; the store carries the settings from page to page.

Links between pages (``page_link``, ``open_page``) carry the settings in their address too, so a
link copied or opened in a new tab shows the same run, and a link clicked in the app sets what
it names on the page it opens (``store``, ``arrive`` say how).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
from streamlit.navigation.page import StreamlitPage
from streamlit.runtime.scriptrunner import get_script_run_ctx

import gd
from gd.rules import powers_of_two_below, validation_split_at
from ui import glossary
from ui.models import MODELS, ModelSpec
from ui.text import LIMIT, user_text

STORE = "_settings"
NOTICES = "_link_notices"
LAST_GOOD = "_last_good_settings"  # the last settings a page drew (see lesson.start)
PAGE = "_settings_page"  # the page the session ran last: another one means the user moved
UPLOADED_ROWS = "_csv_rows"  # the rows of the upload the session holds (ui.upload)
LINKS = "_settings_links"  # the links this session drew: their address -> what each one sets
LINKS_KEPT = 64  # a page draws a few links per run; older ones are off screen

MODEL_LABELS = {key: spec.label for key, spec in MODELS.items()}
CONVENTIONS = {"keras": "Keras", "pytorch": "PyTorch"}
SOURCES = {"synthetic": "Synthetic", "csv": "Upload CSV"}
LEARNING_RATES = (
    0.0001,
    0.0002,
    0.0005,
    0.001,
    0.002,
    0.005,
    0.01,
    0.02,
    0.05,
    0.1,
    0.2,
    0.3,
    0.5,
    0.7,
    1.0,
    1.5,
    2.0,
    3.0,
    5.0,
    10.0,
)
DECAYS = (0.0, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
MOMENTUMS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)
MAX_SAMPLES = 10_000
MAX_EPOCHS = 100
EPOCHS = (1, 2, 3, 5, 10, 20, 30, 50, 100)  # the epochs slider's stops
SAMPLES = (20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000)  # the samples slider's stops


@dataclass(frozen=True)
class Settings:
    """Everything a page needs to ask ``gd`` for a run. Defaults are the Playground's start."""

    source: str = "synthetic"  # "synthetic" or "csv"
    model: str = "linear"
    n: int = 200  # samples, before the validation split
    noise: float = 0.5
    x_mean: float = 0.0  # feature offset: moving it away from 0 tilts and narrows the valley
    x_std: float = 1.0  # feature scale
    data_seed: int = 0
    batch_size: int = 32
    learning_rate: float = 0.05
    decay: float = 0.0
    momentum: float = 0.0
    nesterov: bool = False
    epochs: int = 20
    shuffle: bool = True
    validation_split: float = 0.0
    seed: int = 0  # shuffling seed
    w0: float = -1.0  # start point, first parameter (w)
    b0: float = 2.0  # start point, second parameter: b, or a for the tanh net (see ``spec``)
    init_seed: int = 0  # the network's start: Keras's Glorot-uniform draw from this seed
    convention: str = "keras"

    @property
    def spec(self) -> ModelSpec:
        """The chosen model's entry in the registry (``ui.models``)."""
        return MODELS[self.model]

    @property
    def start(self) -> np.ndarray:
        """The start point, (P,): parameters named by ``spec.parameters``; Keras's default
        start drawn from ``init_seed`` for a model with a seeded start (the network)."""
        if self.spec.seeded_start:
            return self.spec.build().init_params(1, seed=self.init_seed)
        return np.array([self.w0, self.b0])

    @property
    def training(self) -> gd.Training:
        """``gd.fit``'s ``training`` record for these settings; the batch size is apart."""
        return gd.Training(
            epochs=self.epochs,
            shuffle=self.shuffle,
            seed=self.seed,
            validation_split=self.validation_split,
            init=self.start,
        )

    @property
    def n_train(self) -> int:
        """Rows left for training: ``floor(n·(1 − validation_split))``, as Keras splits."""
        return validation_split_at(self.n, self.validation_split)

    @property
    def split_problem(self) -> str | None:
        """Why ``n`` and ``validation_split`` cannot train together, in a learner's words."""
        return split_problem(self.n, self.validation_split)

    def url(self) -> dict[str, str]:
        """Query parameters for every setting that differs from its default."""
        defaults = Settings()
        return {
            f.name: _to_text(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(defaults, f.name)
        }


DEFAULTS = Settings()
# How Streamlit's caches key a Settings: its repr, exact (floats print round-trip) and about 40×
# faster to hash than the field-by-field copy Streamlit makes of a dataclass (6 against 250 µs,
# paid by every cached call of every rerun). Pass as ``hash_funcs=`` to every cache it enters.
HASH_FUNCS = {Settings: repr}


def split_problem(n: int, validation_split: float) -> str | None:
    """Why ``validation_split`` cannot split ``n`` rows as Keras needs (training rows and, with
    a split, validation rows), said in a learner's words with the arithmetic; None when it can.

    The one home of this rule for the pages: links, uploads and every page's start ask it
    (``gd.validation.check_split`` is the same rule at ``gd``'s boundary, for developers).

    Example:
        >>> split_problem(5, 0.9)
        'With 5 samples and a validation split of 0.9, Keras would hold out the last 5 and \
train on floor(5 × (1 − 0.9)) = 0 rows: nothing is left to train on. Lower the validation \
split, or use more samples.'
        >>> split_problem(20, 0.9) is None  # one training row is enough
        True
    """
    n_train = validation_split_at(n, validation_split)
    arithmetic = f"floor({n} × (1 − {validation_split:g})) = {n_train}"
    if n_train < 1:
        return (
            f"With {n} samples and a validation split of {validation_split:g}, Keras would hold "
            f"out the last {n - n_train} and train on {arithmetic} rows: nothing is left to "
            "train on. Lower the validation split, or use more samples."
        )
    if validation_split > 0 and n_train == n:
        return (
            f"A validation split of {validation_split:g} holds out none of the {n} samples "
            f"({arithmetic} rows train), so there would be no validation loss. Raise the "
            "validation split, or set it to 0."
        )
    return None


def _to_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def _parse_bool(text: str) -> bool:
    if text.lower() in ("true", "1", "yes", "on"):
        return True
    if text.lower() in ("false", "0", "no", "off"):
        return False
    raise ValueError(text)


def _parse_int(text: str) -> int:
    value = float(text)
    if not value.is_integer():
        raise ValueError(text)
    return int(value)


@dataclass(frozen=True)
class Control:
    """One setting's widget: how to parse it from a link, check it, and draw it."""

    key: str
    label: str
    help: str
    parse: Callable[[str], Any]
    valid: Callable[[Any, Settings], bool]
    draw: Callable[[Any, Control, Settings], Any]


def _choices(presets: Sequence, fmt: Callable[[Any], str] = str):
    """A select slider over presets, plus the current value when a link asked for another."""

    def draw(container, control: Control, current: Settings):
        value = st.session_state[control.key]
        options = sorted({*presets, value})
        return container.select_slider(
            control.label,
            options,
            key=control.key,
            help=control.help,
            format_func=fmt,
            on_change=_remember,
            args=(control.key,),
        )

    return draw


def _select(options: dict[str, str]):
    def draw(container, control: Control, current: Settings):
        return container.selectbox(
            control.label,
            list(options),
            key=control.key,
            help=control.help,
            format_func=options.__getitem__,
            on_change=_remember,
            args=(control.key,),
        )

    return draw


def _toggle(container, control: Control, current: Settings):
    needs_momentum = control.key == "nesterov" and current.momentum == 0.0
    return container.toggle(
        control.label,
        key=control.key,
        help=control.help,
        disabled=needs_momentum,
        on_change=_remember,
        args=(control.key,),
    )


def _number(low: float, high: float, step: float):
    def draw(container, control: Control, current: Settings):
        return container.number_input(
            _label(control, current),
            min_value=low,
            max_value=high,
            step=step,
            key=control.key,
            help=control.help,
            on_change=_remember,
            args=(control.key,),
        )

    return draw


def _label(control: Control, current: Settings) -> str:
    """The widget's label; a start-point field is named by the model's parameter ("Start a")."""
    if control.key in START_POINT:
        return current.spec.start_labels[START_POINT.index(control.key)]
    return control.label


def _batch_sizes(container, control: Control, current: Settings):
    """Powers of two up to the training rows, and full batch at the right end."""
    n_train = max(current.n_train, 1)  # lesson.start explains a split that leaves no row
    value = st.session_state[control.key]
    options = sorted({*powers_of_two_below(n_train), n_train, value})

    def label(size: int) -> str:
        return f"{size} (full batch)" if size == n_train else str(size)

    return container.select_slider(
        control.label,
        options,
        key=control.key,
        help=control.help,
        format_func=label,
        on_change=_remember,
        args=(control.key,),
    )


def _in(low: float, high: float) -> Callable[[Any, Settings], bool]:
    return lambda value, current: low <= value <= high


def _member(options: Sequence) -> Callable[[Any, Settings], bool]:
    return lambda value, current: value in options


CONTROLS: dict[str, Control] = {
    c.key: c
    for c in [
        Control(
            "source",
            "Data source",
            "Synthetic data, or your own two-column CSV (x, y).",
            str,
            _member(SOURCES),
            _select(SOURCES),
        ),
        Control(
            "model",
            "Model",
            "What is being fitted. The loss is Keras's: mean squared "
            "error for the regressions, binary cross-entropy for logistic regression.",
            str,
            _member(MODELS),
            _select(MODEL_LABELS),
        ),
        Control(
            "n",
            "Number of samples",
            "Rows of data, before any validation split.",
            _parse_int,
            _in(2, MAX_SAMPLES),
            _choices(SAMPLES),
        ),
        Control(
            "noise",
            "Noise",
            "Standard deviation of the noise added to y (for logistic "
            "regression, to the hidden score, which flips labels near the boundary).",
            float,
            _in(0.0, 10.0),
            _choices((0.0, 0.1, 0.25, 0.5, 1.0, 2.0)),
        ),
        Control(
            "x_mean",
            "Feature offset (narrows the valley)",
            "Mean of x. Far from 0, "
            "w and b become entangled and the loss valley turns long and narrow.",
            float,
            _in(-100.0, 100.0),
            _choices((-5.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 5.0)),
        ),
        Control(
            "x_std",
            "Feature scale (steepens the valley)",
            "Standard deviation of x. A larger scale makes the loss steeper along w.",
            float,
            _in(0.01, 100.0),
            _choices((0.1, 0.25, 0.5, 1.0, 2.0, 4.0)),
        ),
        Control(
            "data_seed",
            "Data seed",
            "Seeds the random data.",
            _parse_int,
            _in(0, 2**31 - 1),
            _number(0, 2**31 - 1, 1),
        ),
        Control(
            "validation_split",
            "Validation split",
            "Fraction of rows held out, taken "
            "from the END of the data before any shuffling, exactly as Keras does.",
            float,
            _in(0.0, 0.9),
            _choices((0.0, 0.1, 0.2, 0.25, 0.3, 0.5)),
        ),
        Control(
            "batch_size",
            "Batch size",
            "Rows averaged into ONE gradient and ONE update: "
            "fit(batch_size=...). It is not a number of threads. Each epoch has "
            "ceil(training rows / batch size) updates; the last batch may be smaller. "
            + glossary.help("full batch"),
            _parse_int,
            lambda v, s: 1 <= v <= s.n_train,
            _batch_sizes,
        ),
        Control(
            "learning_rate",
            "Learning rate",
            "Step size η of SGD(learning_rate=...).",
            float,
            _in(1e-6, 100.0),
            _choices(LEARNING_RATES, lambda v: f"{v:g}"),
        ),
        Control(
            "decay",
            "Decay",
            "Keras's learning-rate decay: lr_t = lr / (1 + decay·t), "
            "where t counts updates (batches), not epochs, from 0, and never resets.",
            float,
            _in(0.0, 100.0),
            _choices(DECAYS, lambda v: f"{v:g}"),
        ),
        Control(
            "momentum",
            "Momentum",
            "μ in SGD(momentum=...): how much of the previous step carries into the next.",
            float,
            _in(0.0, 1.0),
            _choices(MOMENTUMS),
        ),
        Control(
            "nesterov",
            "Nesterov",
            glossary.help("Nesterov") + " Needs momentum > 0.",
            _parse_bool,
            _member((True, False)),
            _toggle,
        ),
        Control(
            "epochs",
            "Epochs",
            "Passes over the training rows.",
            _parse_int,
            _in(1, MAX_EPOCHS),
            _choices(EPOCHS),
        ),
        Control(
            "shuffle",
            "Shuffle",
            "Draw a new order of the training rows every epoch, as fit(shuffle=True) does.",
            _parse_bool,
            _member((True, False)),
            _toggle,
        ),
        Control(
            "seed",
            "Shuffle seed",
            "Seeds the order of the rows in each epoch.",
            _parse_int,
            _in(0, 2**31 - 1),
            _number(0, 2**31 - 1, 1),
        ),
        Control(
            "w0",
            "Start w",
            "Where the parameters start: the first parameter (w).",
            float,
            _in(-10.0, 10.0),
            _number(-10.0, 10.0, 0.1),
        ),
        Control(
            "b0",
            "Start b",
            "Where the parameters start: the second parameter (b, or a for the non-convex net).",
            float,
            _in(-10.0, 10.0),
            _number(-10.0, 10.0, 0.1),
        ),
        Control(
            "init_seed",
            "Start seed",
            "Where the network's weights start: Keras's default, Glorot-uniform kernels and zero "
            "biases, drawn from this seed. Another seed is another start.",
            _parse_int,
            _in(0, 2**31 - 1),
            _number(0, 2**31 - 1, 1),
        ),
        Control(
            "convention",
            "Convention",
            "How momentum is stored. Keras keeps lr inside "
            "the velocity; PyTorch multiplies its gradient buffer by the current lr. They "
            "agree while the learning rate is constant.",
            str,
            _member(CONVENTIONS),
            _select(CONVENTIONS),
        ),
    ]
}

DATA_KEYS = ("source", "model", "n", "noise", "x_mean", "x_std", "data_seed")
TRAINING_KEYS = (
    "validation_split",
    "batch_size",
    "learning_rate",
    "decay",
    "momentum",
    "nesterov",
    "epochs",
    "shuffle",
    "seed",
)
START_POINT = ("w0", "b0")  # link and widget keys of the start point, whatever the model
STARTS = (*START_POINT, "init_seed")  # where a run starts: the model draws those it uses
START_KEYS = (*STARTS, "convention")


def store() -> dict[str, Any]:
    """The session's settings, seeded from the address of its first page, then changed by
    the widgets, the stage, and the links the user follows (see ``arrive``); notices list
    rejected link values. While an uploaded file is the data, ``n`` is its rows, so
    ``Settings.n_train`` counts the rows that train."""
    values = _values()
    if st.session_state.get(PAGE) != _page():
        arrive()
    rows = st.session_state.get(UPLOADED_ROWS)
    if values["source"] == "csv" and rows is not None:
        values["n"] = rows  # the file's rows, whatever a link or the synthetic data had
    return values


def _values() -> dict[str, Any]:
    """The store, seeded once from the URL, without looking for a move to another page: for
    the callbacks, which run before ``st.navigation`` has named this run's page."""
    if STORE not in st.session_state:
        values, notices = read_link(st.query_params.to_dict())
        st.session_state[STORE] = values
        st.session_state[NOTICES] = notices
        st.session_state[PAGE] = _page()
    return st.session_state[STORE]


def _page() -> str:
    """The page this run draws (its script hash), "" outside a script run."""
    ctx = get_script_run_ctx()
    return ctx.page_script_hash if ctx is not None else ""


def arrive() -> None:
    """The session moved to another page: take the settings its address names.

    Streamlit keeps the session when the user moves between pages, and reruns with the
    address the move came with: a link's (``st.page_link``, ``st.switch_page``), none for
    the sidebar's navigation, the old one for the browser's Back and Forward. Until issue 16
    the store ignored every address after the first, so ``_write_link`` then rewrote a link's
    address to the session's settings and the page drew those: a clicked "Open in the
    Playground" lost its run. The rules, so that a link clicked in the app shows exactly
    what its address says, and moving between pages never loses a setting:

    1. A parameter the address names sets that setting; one it omits keeps the session's
       value. So a clicked link behaves like the same address typed into a new tab whenever
       the session is at the defaults, and the sidebar's navigation (no address) and a link
       that names only a cell's learning rate both keep everything else. (The other rule,
       "omitted means default", would make the sidebar reset every setting, as its address
       is empty.) The session's value, not the default, is also what a bad value falls back
       to, with the same notice as a shared link.
    2. A link this session drew (``link``) sets only what it was drawn to change: the rest of
       its address is the session's settings when it was drawn, there for copying and for a
       new tab, and may be stale by the click: a fragment's rerun (the Playground's stage
       commits a knob in one) redraws only the links inside it. So a change made since the
       link was drawn is never undone by following it.
    3. Back and Forward move between pages as the sidebar does: the settings stay the
       session's (the address in the history may be older than them), and the page then
       writes its address from them.
    """
    st.session_state[PAGE] = _page()
    ctx = get_script_run_ctx()
    if ctx is not None and ctx.is_history_navigation:
        return
    values = st.session_state[STORE]
    params = {k: v for k, v in st.query_params.to_dict().items() if k in CONTROLS}
    changes = st.session_state.get(LINKS, {}).get(_address(params))
    if changes is None:  # a link this session did not draw: take what it names
        linked, notices = read_link(params, Settings(**values))
        changes = {k: v for k, v in linked.items() if v != values[k]}
        st.session_state[NOTICES] = st.session_state.get(NOTICES, []) + notices
    set_values(**changes)


def _address(params: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """A link's settings parameters, in one order: the key of ``LINKS``."""
    return tuple(sorted((k, v) for k, v in params.items() if k in CONTROLS))


def link(settings: Settings | None = None) -> dict[str, str]:
    """The query parameters of an in-app link to ``settings`` (default: the session's).

    Every setting that differs from its default, as in a shared link, plus every setting
    that differs from the session's, default or not: the link opens exactly ``settings``
    under ``arrive``'s rules (a parameter a link omits keeps the session's value). The link
    is remembered with what it changes, so a click applies only that.
    """
    values = store()
    session = Settings(**values)
    target = session if settings is None else settings
    query = link_query(target, session)
    changes = {k: v for k, v in dataclasses.asdict(target).items() if v != values[k]}
    links = st.session_state.setdefault(LINKS, {})
    key = _address(query)
    links.pop(key, None)  # drawn again: the newest, kept longest
    links[key] = changes
    while len(links) > LINKS_KEPT:
        del links[next(iter(links))]
    return query


def link_query(target: Settings, session: Settings) -> dict[str, str]:
    """``target.url()`` and every setting where ``target`` differs from ``session``, in the
    fields' order (see ``link``).

    Example:
        >>> session = Settings(momentum=0.9, epochs=5)
        >>> cell = dataclasses.replace(session, learning_rate=0.1, momentum=0.0)
        >>> cell.url()  # not enough: the session's momentum 0.9 would stay
        {'learning_rate': '0.1', 'epochs': '5'}
        >>> link_query(cell, session)
        {'learning_rate': '0.1', 'momentum': '0.0', 'epochs': '5'}
    """
    named = target.url()
    return {
        f.name: named.get(f.name, _to_text(getattr(target, f.name)))
        for f in dataclasses.fields(Settings)
        if f.name in named or getattr(target, f.name) != getattr(session, f.name)
    }


def page_link(
    container: Any,
    page: str | Path | StreamlitPage,
    settings: Settings | None = None,
    *,
    label: str | None = None,
    icon: str | None = None,
    help: str | None = None,
) -> None:
    """A link to another page of the app that carries the settings: ``settings`` (a run the
    page wants to open, e.g. a map's cell), or by default the session's.

    The one way pages link to each other: its address holds the settings (``link``), so it
    can be copied or opened in a new tab, and a click shows them (``arrive``). ``container``
    is ``st`` or any container; ``label`` defaults to the page's title.
    """
    container.page_link(page, label=label, icon=icon, help=help, query_params=link(settings))


def open_page(page: str | Path | StreamlitPage, settings: Settings) -> None:
    """Go to another page of the app with ``settings``, as a click on ``page_link`` would (for
    a click that is not a link, e.g. on a heatmap's cell). Ends this run."""
    st.switch_page(page, query_params=link(settings))


def read_link(
    params: dict[str, str], base: Settings = DEFAULTS
) -> tuple[dict[str, Any], list[str]]:
    """Parse a link's query parameters over ``base`` (the defaults, for a new session; the
    session's settings, for a link followed inside it): what the link names replaces
    ``base``'s value, and a bad value falls back to ``base``'s with a notice.

    Example:
        >>> values, notices = read_link({"batch_size": "37", "momentum": "1.5", "epochs": "x"})
        >>> values["batch_size"], values["momentum"], values["epochs"]
        (37, 0.0, 20)
        >>> notices[0]
        'momentum=1.5 is out of range, so the default 0.0 is used.'
        >>> values, notices = read_link({"momentum": "1.5"}, Settings(momentum=0.9, epochs=5))
        >>> values["momentum"], values["epochs"], notices[0]
        (0.9, 5, 'momentum=1.5 is out of range, so the current 0.9 is kept.')
    """
    values = dataclasses.asdict(base)
    notices = []
    for key, control in CONTROLS.items():
        if key == "batch_size" or key not in params:
            continue  # batch_size is checked after n and validation_split are known
        values[key], notice = _parse(control, params[key], Settings(**values), base)
        notices += notice
    problem = split_problem(values["n"], values["validation_split"])
    if problem is not None:  # before batch_size, whose range depends on the training rows
        fallback = base.validation_split
        if split_problem(values["n"], fallback) is not None:
            fallback = DEFAULTS.validation_split  # 0 splits any n
        values["validation_split"] = fallback
        instead = "the default" if fallback == DEFAULTS.validation_split else "the current"
        notices.append(f"{problem} So {instead} validation_split={_to_text(fallback)} is used.")
    if "batch_size" in params:
        values["batch_size"], notice = _parse(
            CONTROLS["batch_size"], params["batch_size"], Settings(**values), base
        )
        notices += notice
    if values["nesterov"] and values["momentum"] == 0.0:
        values["nesterov"] = False
        if "nesterov" in params:
            notices.append("nesterov=true needs momentum > 0, so Nesterov is off.")
    return values, notices


def _parse(
    control: Control, text: str, current: Settings, base: Settings = DEFAULTS
) -> tuple[Any, list[str]]:
    fallback = getattr(base, control.key)
    if fallback == getattr(DEFAULTS, control.key):
        instead = f"so the default {_to_text(fallback)} is used."
    else:
        instead = f"so the current {_to_text(fallback)} is kept."
    shown = text if len(text) <= LIMIT else text[: LIMIT - 1] + "…"  # a link can be long
    try:
        value = control.parse(text)
    except ValueError:
        return fallback, [f"{control.key}={shown} is not a valid value, {instead}"]
    if not control.valid(value, current):  # NaN and inf fail every range check too
        return fallback, [f"{control.key}={shown} is out of range, {instead}"]
    return value, []


def sidebar(sections: dict[str, Sequence[str]]) -> Settings:
    """Draw the named sidebar sections of controls and return the full ``Settings``.

    Controls not drawn on this page keep the values the session already has, and the URL is
    rewritten to hold every setting that differs from its default.
    """
    values = store()
    for title, keys in sections.items():
        if title:
            st.sidebar.subheader(title)
        for key in keys:
            control = CONTROLS[key]
            current = Settings(**values)
            if key in STARTS and key not in current.spec.start_keys:
                continue  # the other models' start: kept, not drawn
            _sync_widget(control, values, current)
            values[key] = control.draw(st.sidebar, control, current)
    if values["momentum"] == 0.0:
        values["nesterov"] = False
    settings = Settings(**values)
    _write_link(settings)
    return settings


def _write_link(settings: Settings) -> None:
    """Put each setting that differs from its default in the URL, and only those.

    Only this module's keys are touched: a page's own view widgets keep their values in the URL
    through Streamlit's ``bind="query-params"``, and rewriting the whole query would drop them.
    """
    wanted = settings.url()
    current = st.query_params.to_dict()
    for key in CONTROLS:
        if key in wanted and current.get(key) != wanted[key]:
            st.query_params[key] = wanted[key]
        elif key not in wanted and key in current:
            del st.query_params[key]


def keep_in_link(key: str, value: object, default: object = None) -> None:
    """Keep one view value in the address, as ``_write_link`` keeps the settings: ``key=value``,
    and no ``key`` at all at its default (the stage's and the scrubber's ``update``)."""
    if value == default:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != str(value):
        st.query_params[key] = str(value)


def _sync_widget(control: Control, values: dict[str, Any], current: Settings) -> None:
    """Give the widget the stored value (the store is kept current by ``_remember``)."""
    key = control.key
    value = values[key]
    if not control.valid(value, current):
        if key == "batch_size":  # at least 1, even while the split leaves no training row
            value = max(1, min(value, current.n_train))
        else:
            value = getattr(DEFAULTS, key)
        values[key] = value
    st.session_state[key] = value


def _remember(key: str) -> None:
    """on_change callback: runs before the script, so the store always holds the user's value."""
    _values()[key] = st.session_state[key]


def current() -> Settings:
    """The session's settings as stored, with the URL brought up to date: for a fragment,
    which reruns without the sidebar."""
    settings = Settings(**store())
    _write_link(settings)
    if settings.split_problem is not None:  # lesson.start has said why; keep the last view
        return st.session_state.get(LAST_GOOD, settings)
    return settings


def commit(key: str, value: Any) -> bool:
    """Store a value set outside the sidebar (the live stage's knobs), if it is valid there.

    An invalid value (a hostile browser message) is ignored, and the settings stay as they were.
    Returns whether the sidebar shows the change too: its Nesterov switch is off and disabled
    at momentum 0, so a momentum that reaches or leaves 0 changes it.
    """
    values = _values()
    before = values["momentum"]
    if CONTROLS[key].valid(value, Settings(**values)):
        set_values(**{key: value})
        if key == "momentum" and value == 0.0:
            set_values(nesterov=False)
    return (before == 0.0) != (values["momentum"] == 0.0)


def set_values(**changes: Any) -> None:
    """Change settings from code (presets, links between pages): store and widgets both."""
    values = _values()
    for key, value in changes.items():
        values[key] = value
        st.session_state[key] = value


def _not_a_finite_number(text: str) -> bool:
    """True for a link value that reads as a number but not a finite one: "inf", "-inf",
    "nan", "1e400" (which Python reads as inf)."""
    try:
        return not math.isfinite(float(text))
    except ValueError:
        return False


def refuse_infinite_values() -> list[str]:
    """Drop from the address every value that reads as an infinite or missing number, before
    any widget bound to the link reads it; return a notice for each.

    The shared settings are checked by ``read_link``; this covers every other key a page binds
    to the link (a lesson's own number inputs, the stage's ``update``), which Streamlit would
    hand to the page as ``float("inf")`` (``int(inf)`` raised OverflowError).
    """
    notices = []
    for key, text in st.query_params.to_dict().items():
        if key not in CONTROLS and _not_a_finite_number(text):
            del st.query_params[key]
            notices.append(f"{key}={text} is not a finite number, so the default is used.")
    return notices


def link_notices() -> None:
    """Show, once, what a shared link asked for that could not be used."""
    store()
    st.session_state.setdefault(NOTICES, []).extend(refuse_infinite_values())
    for notice in st.session_state.pop(NOTICES, []):
        # The notice quotes the link's text: shown as text, never as Markdown (ui.text).
        st.warning(
            f"The link had a value that could not be used: {user_text(notice)}",
            icon=":material/link_off:",
        )
