"""User text is shown as text, never as Markdown: link values on every page, upload names and
the CSV cells a message quotes, all through the one helper ``ui.text.user_text``."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import open_at
from ui.text import JOINER, LIMIT, user_text

PAGES = [
    None,  # the Playground, the default page
    "lessons/batch_sizes.py",
    "lessons/inside_a_batch.py",
    "lessons/keras_to_here.py",
    "lessons/maps.py",
]
TITLES = dict(
    zip(
        PAGES,
        [
            "Playground",
            "Batch, mini-batch, stochastic",
            "Inside one mini-batch",
            "From Keras to here",
            "Hyperparameter maps",
        ],
        strict=True,
    )
)
HOSTILE = [
    "[**Teacher: quiz answers**](https://evil.example)",
    "![x](http://evil.example/p.png)",
    "<script>alert(1)</script>",
    "$\\$x^2$ and $$y$$",
    "``code`` `x`",
    ":red[WRONG] :material/warning: :smile:",
    "<https://evil.example> www.evil.example",
    "# Heading\n- list\n> quote",
]
# Zero-width and bidirectional characters, which quoted text drops (a right-to-left override
# makes "gpj.exe" read "exe.jpg").
INVISIBLE = r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")
NOTICE = "The link had a value that could not be used: "
FILE_ERROR = "That file could not be used, so nothing changed. "


def shown_as(markdown: str) -> str:
    """What CommonMark renders ``markdown`` as, provided it is inert; fails otherwise.

    Inert: no line break; no unescaped character that opens an inline construct (code,
    emphasis, links, images, HTML, entities, math, Streamlit's directives and shortcodes,
    URLs, e-mail links); no unescaped ``_`` outside a word, nor ``www.``; and no unescaped
    block marker (``#``, ``-``, ``>``, ``1.``) at the start.
    """
    assert "\n" not in markdown and "\r" not in markdown
    tokens, i = [], 0  # (character, escaped)
    while i < len(markdown):
        if markdown[i] == "\\":
            assert PUNCTUATION.fullmatch(markdown[i + 1]), markdown
            tokens.append((markdown[i + 1], True))
            i += 2
        else:
            tokens.append((markdown[i], False))
            i += 1
    shown = "".join(char for char, _ in tokens)
    for k, (char, escaped) in enumerate(tokens):
        if escaped:
            continue
        assert char not in "\\`*~[]<>!&$:@|{}^#+", (char, markdown)
        if char == "_":
            assert 0 < k < len(shown) - 1, markdown
            assert shown[k - 1].isalnum() and shown[k + 1].isalnum(), markdown
        if char == ".":
            assert shown[max(k - 3, 0) : k].lower() != "www", markdown
    start = re.match(r"[!-/:-@\[-`{-~]|\d+[.)]", shown)
    if start:
        assert tokens[start.end() - 1][1], ("block marker", markdown)
    # Streamlit links a bare URL, www. address or e-mail address even when escaped: a word
    # joiner must break each (issue 21); it is invisible, so the text reads without it.
    assert not re.search(r"(?i)://|www\.|@", shown.replace(JOINER + "@", "")), markdown
    return shown.replace(JOINER, "")


@given(st.text() | st.text(st.sampled_from(list("aé1 _.wW:/[]()*#-+>!\\`<$&@~\n12\u202e\u200b"))))
def test_user_text_renders_exactly_the_text_with_line_breaks_as_spaces(text):
    visible = re.sub(INVISIBLE, "", text)
    flat = re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+", " ", visible).lstrip(" ")
    assert shown_as(user_text(text)) == flat


@given(st.text(st.characters(exclude_categories=("Cc", "Zl", "Zp", "Zs")), min_size=LIMIT + 1))
def test_long_user_text_is_cut_with_an_ellipsis(text):
    shown = shown_as(user_text(text, limit=LIMIT))
    assert len(shown) <= LIMIT and shown.endswith("…")


@pytest.mark.parametrize("text", HOSTILE)
def test_every_hostile_string_is_inert(text):
    assert shown_as(user_text(text)) == " ".join(text.split("\n"))


def test_hidden_characters_are_dropped_and_links_broken():
    assert user_text("invoice\u202egpj.exe\u200b") == "invoicegpj.exe"
    for text in ("https://evil.example/a", "www.evil.example", "quiz@evil.example"):
        assert JOINER in user_text(text)
        assert shown_as(user_text(text)) == text


def test_prose_punctuation_and_names_stay_readable():
    text = "Row 3, column y: 'x' (5 > 4) is learning_rate=0.5; 50% off? a/b - ok."
    assert user_text(text) == text.replace(":", "\\:").replace(">", "\\>")


@pytest.mark.parametrize("page", PAGES)
def test_hostile_link_values_are_shown_as_text_on_every_page(page):
    keys = ["epochs", "momentum", "learning_rate", "seed", "model", "convention", "n", "w0"]
    at = open_at(page, **dict(zip(keys, HOSTILE, strict=True)))
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == TITLES[page]  # the link opened this page first
    notices = [w.value for w in at.warning if w.value.startswith(NOTICE)]
    assert len(notices) == len(HOSTILE)
    shown = sorted(shown_as(notice.removeprefix(NOTICE)) for notice in notices)
    expected = sorted(
        f"{key}={' '.join(text.split(chr(10)))} " for key, text in zip(keys, HOSTILE, strict=True)
    )
    for notice, start in zip(shown, expected, strict=True):
        assert notice.startswith(start) and notice.endswith("is used."), (notice, start)


@pytest.mark.parametrize("page", PAGES)
def test_a_hostile_file_name_is_shown_as_text_on_every_page(app, page):
    at = app(page, source="csv")
    name = HOSTILE[0] + HOSTILE[1] + ".csv"
    at.file_uploader(key="csv_file").set_value((name, b"", "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    (error,) = [e.value for e in at.error]
    shown = shown_as(error.removeprefix(FILE_ERROR))
    assert shown.startswith("…") and ".csv: The file is empty." in shown
    assert name[-(LIMIT - 1) :] in shown  # the end of a long name, with its extension


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ((HOSTILE[0] + ",y\n").encode(), "but no data rows"),  # the header is quoted
        (f"x,y\n1,2\n{HOSTILE[1]},3\n".encode(), "is not a number"),  # a cell
        (f"x,y\n1,2\n3,4,{HOSTILE[5]}\n".encode(), "Row 3 has 3 columns"),  # a whole row
        (f"x;y\n1;2\n{HOSTILE[2]}\n".encode(), "looks semicolon-separated"),
        (f"x,y\n1,2\n{HOSTILE[3]},{HOSTILE[4]}\n".encode(), "is not a number"),
    ],
)
def test_csv_cells_quoted_in_an_error_are_shown_as_text(app, content, message):
    at = app(source="csv")
    at.file_uploader(key="csv_file").set_value(("cells.csv", content, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    (error,) = [e.value for e in at.error]
    shown = shown_as(error.removeprefix(FILE_ERROR))
    assert shown.startswith("cells.csv: ") and message in shown
