"""Shared layer (every lesson): user text shown as text, never as Markdown.

Streamlit renders every string given to ``st.markdown``, ``st.warning``, ``st.error``,
``st.info``, ``st.caption`` and friends as Markdown with its own extensions: links and images,
``:red[colour]``, ``$LaTeX$``, emoji shortcodes, bare URLs turned into links. A value from a
shared link, an uploaded file's name or a cell of its CSV must not become a clickable link in a
classmate's warning box, nor an image every browser fetches. Every such string passes through
``user_text`` before it is shown: the one place where user text is made inert.

CommonMark lets a backslash escape any ASCII punctuation character, and Streamlit documents
``\\$`` and ``\\:`` for its own extensions. ``user_text`` escapes every character that can open
a construct anywhere in a line (``MARKUP``), a ``_`` unless it sits inside a word (where it can
neither open nor close emphasis), the ``.`` of ``www.`` (a bare link), and whatever could start
a block at the very beginning (``# - + > 1.``). It leaves prose punctuation (``. , ; ? ' " ( )
= / % -``) as typed, since nothing it could start survives without an escaped character, so
messages stay readable in the source. Line breaks become spaces: no text opens a new block.
"""

from __future__ import annotations

import re

# Characters that open or close an inline construct wherever they stand: code, emphasis,
# strikethrough, links and images, HTML and autolinks, entities, math, Streamlit's directives,
# emoji and icons (:…:), bare URLs (://) and e-mail autolinks (@), plus the backslash itself.
MARKUP = frozenset("\\`*~[]<>!&$:@|{}^#+")
# What starts a block at the beginning of a line: any punctuation (# - + > = …) or "12." / "12)".
_BLOCK_START = re.compile(r"[!-/:-@\[-`{-~]|\d+[.)]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")  # line breaks, control characters
# Invisible characters that can disguise text: zero-width spaces and joiners, the byte-order
# mark, and the bidirectional marks and overrides (a right-to-left override makes "gpj.exe"
# read "exe.jpg"). Quoted text drops them.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
# Streamlit's Markdown turns a bare "https://…", "www.…" or "name@host" into a link even when
# its punctuation is backslash-escaped (checked in Chromium, Streamlit 1.67). A word joiner
# (U+2060, invisible, never a break) after the scheme's colon, inside "www." and before "@"
# breaks the pattern, so the text reads the same and links nowhere; copied, it is no URL.
_LINK_STARTS = re.compile(r"(?i)(?<=:)(?=//)|(?<=www)(?=\.)|(?=@)")
JOINER = "\u2060"
LIMIT = 60  # characters of user text shown before it is cut with "…"


def user_text(text: object, limit: int | None = None) -> str:
    """``text`` made safe to put inside Markdown: it renders as exactly these characters.

    Args:
        text: anything a user controls (a query value, a file name, a CSV cell, or a message
            that quotes one); ``str()`` is taken first.
        limit: cut to this many characters (with "…") before escaping, or None for no cut.

    Returns:
        The text with every character that could start Markdown backslash-escaped, every run
        of line breaks or control characters replaced by one space, leading spaces dropped,
        invisible and bidirectional characters removed, and a word joiner (shown ⁀ below)
        breaking every bare URL, www. address and e-mail address.

    Example:
        >>> print(user_text("[**quiz answers**](https://evil.example)").replace(JOINER, "⁀"))
        \\[\\*\\*quiz answers\\*\\*\\](https\\:⁀//evil.example)
        >>> print(user_text("learning_rate=nan is out of range, so the default 0.05 is used."))
        learning_rate=nan is out of range, so the default 0.05 is used.
        >>> print(user_text("1. _see_ www.evil.example\\n# more", limit=30).replace(JOINER, "⁀"))
        1\\. \\_see\\_ www⁀.evil.example \\# m…
    """
    text = _CONTROL.sub(" ", _INVISIBLE.sub("", str(text))).lstrip(" ")
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    text = _LINK_STARTS.sub(JOINER, text)
    start = _BLOCK_START.match(text)
    marker = start.end() - 1 if start else -1  # the character that would make it a block
    shown = []
    for i, char in enumerate(text):
        if (
            char in MARKUP
            or i == marker
            or (char == "_" and not _inside_word(text, i))
            or (char == "." and text[max(i - 3, 0) : i].lower() == "www")
        ):
            shown.append("\\")
        shown.append(char)
    return "".join(shown)


def _inside_word(text: str, i: int) -> bool:
    """Whether ``text[i]`` has a letter or digit on both sides: then an ``_`` there can neither
    open nor close emphasis (CommonMark's flanking rules), as in ``learning_rate``."""
    return 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()
