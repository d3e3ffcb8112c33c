"""Shared layer (every lesson): user text shown as text, never as Markdown.

Streamlit renders every string given to ``st.markdown``, ``st.warning``, ``st.error``,
``st.info``, ``st.caption`` and friends as Markdown with its own extensions: links and images,
``:red[colour]``, ``$LaTeX$``, emoji shortcodes. A value from a shared link, an uploaded file's
name or a cell of its CSV must not become a clickable link in a classmate's warning box, nor an
image every browser fetches. Every such string passes through ``user_text`` before it is shown:
the one place where user text is made inert.

CommonMark lets a backslash escape any ASCII punctuation character, and Streamlit documents
``\\$`` and ``\\:`` for its own extensions, so escaping all of them leaves no construct to
start: no link, image, emphasis, code span, HTML tag, directive, math or bare URL (its ``://``
becomes ``\\:\\/\\/``). Line breaks become spaces, so the text cannot open a heading or a list.
"""

from __future__ import annotations

import re

# Every ASCII punctuation character: !"#$%&'()*+,-./ :;<=>?@ [\]^_` {|}~
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Line breaks and other control characters (C0, DEL, C1, and Unicode's line separators).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
LIMIT = 60  # characters of user text shown before it is cut with "…"


def user_text(text: object, limit: int | None = None) -> str:
    """``text`` made safe to put inside Markdown: it renders as exactly these characters.

    Args:
        text: anything a user controls (a query value, a file name, a CSV cell, or a message
            that quotes one); ``str()`` is taken first.
        limit: cut to this many characters (with "…") before escaping, or None for no cut.

    Returns:
        The text with each ASCII punctuation character backslash-escaped and every run of line
        breaks or control characters replaced by one space.

    Example:
        >>> user_text("[**quiz answers**](https://evil.example)")
        '\\\\[\\\\*\\\\*quiz answers\\\\*\\\\*\\\\]\\\\(https\\\\:\\\\/\\\\/evil\\\\.example\\\\)'
        >>> user_text("line one\\nline two", limit=12)
        'line one li…'
    """
    text = _CONTROL.sub(" ", str(text))
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return _PUNCTUATION.sub(r"\\\1", text)
