"""User text never becomes a link (issue 21), in real Chromium: Streamlit's Markdown links a
bare URL, a www. address or an e-mail address even when its punctuation is escaped, so a
shared link could plant a phishing link on the app's own page. ``ui.text.user_text`` breaks
each with a word joiner; here the rendered page is searched for any link to the planted host.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from harness.browser import assert_no_exception, goto

PLANTED = [
    ("maps", "learning_rate=" + quote("https://evil.example/a", safe="")),
    ("", "epochs=" + quote("[**Teacher: quiz answers**](https://evil.example/login)", safe="")),
    ("batch_sizes", "model=www.evil.example&seed=" + quote("quiz@evil.example", safe="")),
]
LINKS_JS = """
() => [...document.querySelectorAll('a')].map((a) => a.getAttribute('href') || '')
  .filter((href) => href.includes('evil'))
"""


@pytest.mark.parametrize(("path", "query"), PLANTED)
def test_a_planted_address_is_shown_but_links_nowhere(app_server, page, path, query):
    goto(page, app_server, path, query, timeout=90_000)
    assert_no_exception(page)
    notices = page.locator('[data-testid="stAlert"]').all_inner_texts()
    assert any("evil.example" in text.replace("\u2060", "") for text in notices), notices
    assert page.evaluate(LINKS_JS) == []
