"""The server settings a classroom depends on, and no path from user input to code."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [p for d in ("gd", "ui", "lessons") for p in (ROOT / d).rglob("*.py")] + [ROOT / "app.py"]


def config():
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())


def test_upload_limit_and_xsrf_protection_are_set():
    server = config()["server"]
    assert server["maxUploadSize"] == 5  # MB, as stated next to the uploader
    assert server["enableXsrfProtection"] is True


def test_post_script_gc_is_off_and_no_usage_statistics():
    assert config()["runner"]["postScriptGC"] is False
    assert config()["browser"]["gatherUsageStats"] is False


def test_no_user_input_reaches_eval_exec_pickle_or_raw_html():
    forbidden = re.compile(r"\b(eval|exec|pickle|unsafe_allow_html|components\.html)\b")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in SOURCES
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if forbidden.search(line.split("#")[0])
    ]
    assert offenders == []


def test_the_uploader_states_and_enforces_the_same_limit_as_the_config():
    from ui.upload import UPLOAD_BYTES, UPLOAD_MB

    # The browser's limit is maxUploadSize · 10⁶ bytes (· 2²⁰ on Windows), the server's
    # · 2²⁰: the app refuses anything above the smaller, so the stated limit is the one.
    assert config()["server"]["maxUploadSize"] == UPLOAD_MB
    assert UPLOAD_BYTES == UPLOAD_MB * 1_000_000 < UPLOAD_MB * 2**20


def test_the_config_comments_state_the_apps_own_row_limit():
    from ui.controls import MAX_SAMPLES

    text = (ROOT / ".streamlit" / "config.toml").read_text()
    stated = {int(n.replace(" ", "")) for n in re.findall(r"(\d[\d ]*\d) rows", text)}
    assert stated == {MAX_SAMPLES}
