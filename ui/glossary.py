"""Shared layer (every lesson): the one home of the app's jargon, each term with a short
explanation in words a Keras beginner knows.

A page explains a term where it first uses it: in the sentence, with ``first`` ("λmax (how
sharply …)") or ``explain``, or in the ``help=`` tooltip of the widget, card or heading that
shows it, with ``help`` (``help_for`` a text made elsewhere). Later uses on the same page are
plain. ``found`` tells which terms a text uses (its code spans left out), so a test can check
every page (``tests/test_glossary.py``).

Pure: no Streamlit here.

Example:
    >>> first("2/λmax")
    '2/λmax (the largest learning rate at which gradient descent on all the training rows does not blow up on this loss; λmax: how sharply the loss bends across the narrowest direction of its valley)'
    >>> help("Nesterov")
    'Nesterov: a form of momentum that takes the gradient where momentum is about to carry the weights.'
    >>> [term.term for term in found("Above the stability bound, `nesterov=True` ...")]
    ['stability bound']
"""  # noqa: E501

from __future__ import annotations

import functools
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """One term: as the pages write it, its explanation (one clause, no other term in it),
    and the other spellings the pages use for it (a symbol, a formula, its TeX)."""

    term: str  # e.g. "critical batch size"
    explanation: str  # e.g. "the batch size beyond which doubling the batch …"
    forms: tuple[str, ...] = ()  # e.g. ("B_crit", "B_\\text{crit}")

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.term, *self.forms)


TERMS = (
    Term("λmax", "how sharply the loss bends across the narrowest direction of its valley"),
    Term(
        "stability bound",
        "the largest learning rate at which gradient descent on all the training rows does not "
        "blow up on this loss",
        ("2/λmax", "2(1 + μ)/λmax", "2(1+μ)/λmax"),
    ),
    Term("divergence threshold", "the loss at which this app calls a run blown up and stops it"),
    Term(
        "full batch", "all the training rows in one batch, so one update per epoch", ("full-batch",)
    ),
    Term(
        "noise floor",
        "the loss level a mini-batch run at a constant learning rate jitters around and cannot "
        "settle below",
    ),
    Term("per-sample gradient", "each row's own gradient of the loss"),
    Term(
        "σ²",
        "how far single-row gradients spread around the gradient over all the rows, their mean "
        "squared distance from it",
        ("\\sigma^2",),
    ),
    Term(
        "tr Σ",
        "how far the rows' own gradients spread around their mean, the sum of their variances",
        ("\\operatorname{tr}\\Sigma",),
    ),
    Term(
        "gradient noise scale",
        "the batch size at which a batch's gradient noise is as large as the gradient itself",
        ("noise scale", "B_simple", "B_\\text{simple}"),
    ),
    Term(
        "critical batch size",
        "the batch size beyond which doubling the batch no longer nearly halves the updates needed",
        ("critical batch", "B_crit", "B_\\text{crit}"),
    ),
    Term("S_min", "the fewest updates any batch size needs to reach the target"),
    Term(
        "linear-scaling rule",
        "k times the batch, k times the learning rate",
        ("linear scaling",),
    ),
    Term(
        "heavy-ball momentum",
        "the classic momentum of SGD(momentum=μ), where each step adds μ times the previous one",
        ("heavy-ball", "heavy ball"),
    ),
    Term(
        "Nesterov",
        "a form of momentum that takes the gradient where momentum is about to carry the weights",
    ),
    Term("BLAS", "a compiled library of fast matrix arithmetic"),
    Term(
        "Hogwild!",
        "threads that each write their own update to shared weights, without waiting for the "
        "others",
        ("Hogwild",),
    ),
    Term(
        "DDP",
        "multi-GPU training in PyTorch: each GPU takes a share of the batch, and their gradients "
        "are averaged into one update",
    ),
)


def lookup(written: str) -> Term:
    """The term ``written`` names: its own spelling or one of its forms, in any case, or
    their plural.

    Example:
        >>> lookup("B_crit").term, lookup("Heavy-ball momentum").term
        ('critical batch size', 'heavy-ball momentum')
        >>> lookup("per-sample gradients").term
        'per-sample gradient'
    """
    spelling = written.lower()
    for singular in (spelling, spelling.removesuffix("s"), spelling.removesuffix("es")):
        if singular in _by_spelling():
            return _by_spelling()[singular]
    raise KeyError(f"{written!r} is not in ui.glossary.TERMS; add it there.")


def explain(written: str) -> str:
    """The explanation of a term, one clause, to weave into a sentence.

    Example:
        >>> explain("S_min")
        'the fewest updates any batch size needs to reach the target'
    """
    return lookup(written).explanation


def first(written: str) -> str:
    """A term's first use in a sentence: ``written`` as given, its explanation in brackets, and
    the explanation of any other term inside ``written`` (λmax in "2/λmax").

    Example:
        >>> first("B_crit")
        'B_crit (the batch size beyond which doubling the batch no longer nearly halves the updates needed)'
    """  # noqa: E501
    own = lookup(written)
    inner = [f"{t.term}: {t.explanation}" for t in found(written) if t != own]
    return f"{written} ({'; '.join([own.explanation, *inner])})"


def help(*written: str) -> str:
    """The ``help=`` tooltip of an element that first shows these terms: one sentence each.

    Example:
        >>> help("per-sample gradient", "σ²")
        "Per-sample gradient: each row's own gradient of the loss. σ²: how far single-row gradients spread around the gradient over all the rows, their mean squared distance from it."
    """  # noqa: E501
    return " ".join(f"{_sentence_start(w)}: {explain(w)}." for w in written)


def help_for(text: str) -> str:
    """The tooltip of an element whose text is made elsewhere (a status from a record): every
    term ``text`` uses, explained; "" when it uses none.

    Example:
        >>> help_for("Rate 2 is above the stability bound 0.949.")[:60]
        'Stability bound: the largest learning rate at which gradient'
        >>> help_for("converged")
        ''
    """
    return help(*(term.term for term in found(text)))


def found(text: str) -> tuple[Term, ...]:
    """The terms ``text`` uses, in the order of ``TERMS``; its `code spans` do not count
    (``nesterov=True`` is an argument, not a word).

    Example:
        >>> [t.term for t in found("The critical batch (B_crit) and the full-batch bound.")]
        ['full batch', 'critical batch size']
        >>> found("`SGD(lr, decay, momentum, nesterov)`"), found("a Hogwild thread")[0].term
        ((), 'Hogwild!')
    """
    prose = _CODE.sub(" ", text)
    # IGNORECASE also matches "i" to "ı" and "İ", which casefold to "ı" and "i" + U+0307.
    folded = prose.casefold().replace("\u0131", "i").replace("\u0307", "")
    return tuple(
        term
        for term, pattern, folds in _patterns()
        if any(fold in folded for fold in folds) and pattern.search(prose)
    )


_CODE = re.compile(r"`[^`]*`")


def _sentence_start(written: str) -> str:
    """A plain-word term capitalized to start a sentence; a symbol ("λmax", "tr Σ") as is."""
    return written[0].upper() + written[1:] if written.isascii() else written


@functools.cache
def _by_spelling() -> dict[str, Term]:
    return {spelling.lower(): term for term in TERMS for spelling in term.spellings}


@functools.cache
def _patterns() -> tuple[tuple[Term, re.Pattern[str], tuple[str, ...]], ...]:
    """One pattern per term: any spelling, a plural allowed, not inside a longer word; with
    its spellings casefolded, which a text must contain for the pattern to match. The live
    stage looks for terms in every status of every knob position on each release: checking
    those first is about 6× faster than searching every term's pattern."""

    def pattern(term: Term) -> re.Pattern[str]:
        spellings = sorted(term.spellings, key=len, reverse=True)
        either = "|".join(re.escape(spelling) for spelling in spellings)
        return re.compile(rf"(?<!\w)(?:{either})(?:e?s)?(?!\w)", re.IGNORECASE)

    return tuple(
        (term, pattern(term), tuple(s.casefold() for s in term.spellings)) for term in TERMS
    )
