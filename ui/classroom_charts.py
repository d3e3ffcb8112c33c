"""Classroom mode's pictures (``ui.classroom``): the class's answers to one question, as a bar
per option or, for a number question, as a distribution. Pure Plotly: records in, figures out.

The option texts are the teacher's: Plotly.js renders a little HTML in its labels (``<a
href>`` among it), so every text from a class goes through ``html.escape`` first.
"""

from __future__ import annotations

import html
import itertools

import numpy as np
import plotly.graph_objects as go

from classroom import Question, Tally
from ui import charts
from ui.words import plural

NUMBER_BINS = 12  # at most this many bars for the answers to a number question
BAR_HEIGHT = 300  # px: the chart beside the question, on a student's screen and the projector


def answer_words(question: Question, value: float) -> str:
    """One answer as the class reads it: the option's text, or the number.

    Example:
        >>> answer_words(Question("Which?", ("1", "32", "200")), 1.0)
        '32'
        >>> answer_words(Question("How many updates?"), 7.0)
        '7'
    """
    if question.options:
        return question.options[int(value)]
    return f"{value:.6g}"


def title(tally: Tally, revealed: bool) -> str:
    """The chart's title: how many answered, and whose answer is marked."""
    counted = plural(tally.answers, "answer")
    return f"The class: {counted}" + (" · green: the run's answer" if revealed else "")


def answers_figure(
    question: Question, tally: Tally, *, revealed: bool, mine: float | None = None
) -> go.Figure:
    """The class's answers: one bar per option, or the numbers binned; the run's answer in
    green once ``revealed``, the others blue; ``mine`` (this student's answer) named below.

    Args:
        question: the question as asked.
        tally: its answers (``classroom.Store.tally``).
        revealed: mark the right answer (the teacher has revealed it).
        mine: this session's answer, named on the x axis, or None.

    Returns:
        A bar chart, ``BAR_HEIGHT`` px high.
    """
    right = question.answer if revealed else None
    if question.options:
        labels = [html.escape(text) for text in question.options]
        if mine is not None:
            labels[int(mine)] += " (you)"
        colours = [
            charts.GREEN if right is not None and i == int(right) else charts.BLUE
            for i in range(len(labels))
        ]
        fig = go.Figure(
            go.Bar(
                x=labels,
                y=list(tally.counts),
                marker_color=colours,
                text=list(tally.counts),
                textposition="outside",
                hovertemplate="%{x}: %{y}<extra></extra>",
            )
        )
        fig.update_xaxes(type="category", title="answer")
        top = max(tally.counts, default=0)
    else:
        fig, top = _numbers(tally, right, mine)
    charts.layout(fig, title(tally, revealed), legend=False)
    top = max(top, 1)
    fig.update_yaxes(  # whole students: a tick every 1, 2, 5, 10... of them
        title="students", range=[0, top * 1.25], dtick=_whole_step(top), tickformat="d"
    )
    fig.update_layout(height=BAR_HEIGHT, margin={"t": 10, "b": 50})
    return fig


def _whole_step(top: int) -> int:
    """A tick step of 1, 2 or 5 times a power of ten giving at most about five ticks to ``top``.

    Example:
        >>> [_whole_step(t) for t in (1, 4, 12, 30, 100)]
        [1, 1, 5, 10, 20]
    """
    step, factors = 1, itertools.cycle((2, 2.5, 2))  # 1, 2, 5, 10, 20, 50, ...
    while top / step > 5:
        step = round(step * next(factors))
    return step


def _binned(
    values: tuple[float, ...], right: float | None, mine: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Bin edges and counts for a number question's answers, over a range that also holds
    the right answer and this student's; whole numbers get one bin each when they fit."""
    # The store keeps answers within ±1e12; float64 spans of that size stay finite.
    points = np.array([*values, *(v for v in (right, mine) if v is not None)], dtype=float)
    if points.size == 0:
        return np.array([0.0, 1.0]), np.zeros(1, dtype=int)
    low, high = float(points.min()), float(points.max())
    whole = np.all(points == np.round(points)) and high - low < NUMBER_BINS
    if whole:
        edges = np.arange(low - 0.5, high + 1.5)
    else:
        span = high - low or max(abs(high), 1.0)
        edges = np.linspace(low - span * 0.05, high + span * 0.05, NUMBER_BINS + 1)
    counts, _ = np.histogram(np.array(values, dtype=float), bins=edges)
    return edges, counts


def _numbers(tally: Tally, right: float | None, mine: float | None) -> tuple[go.Figure, int]:
    """The number question's bars and their highest count."""
    edges, counts = _binned(tally.values, right, mine)
    centres = (edges[:-1] + edges[1:]) / 2
    fig = go.Figure(
        go.Bar(
            x=centres.tolist(),
            y=counts.tolist(),
            width=(np.diff(edges) * 0.9).tolist(),
            marker_color=charts.BLUE,
            text=[str(c) if c else "" for c in counts],
            textposition="outside",
            hovertemplate="%{x:.4g}: %{y}<extra></extra>",
        )
    )
    if right is not None:
        fig.add_vline(
            x=right,
            line_color=charts.GREEN,
            line_width=4,
            annotation_text=f"the run: {right:.6g}",
            annotation_position="top",
            annotation_font_color=charts.GREEN,
        )
    if mine is not None:
        fig.add_vline(
            x=mine,
            line_color=charts.BLACK,
            line_dash="dash",
            annotation_text=f"you: {mine:.6g}",
            annotation_position="bottom right",
        )
    fig.update_xaxes(title="answer")
    return fig, int(counts.max())


def large(fig: go.Figure) -> go.Figure:
    """The figure for a projector: every text at least 20 px."""
    fig.update_layout(font={"size": 22}, title_font_size=24, height=BAR_HEIGHT)
    fig.update_xaxes(tickfont_size=22, title_font_size=22)
    fig.update_yaxes(tickfont_size=20, title_font_size=22)
    fig.update_traces(textfont_size=24, selector={"type": "bar"})
    fig.update_annotations(font_size=22)
    return fig
