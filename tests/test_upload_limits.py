"""The upload limit is one number, 5 000 000 bytes, whichever browser or client sends the file."""

from ui.upload import UPLOAD_BYTES


def upload(at, content: bytes):
    at.file_uploader(key="csv_file").set_value(("big.csv", content, "text/csv")).run()
    return at


def test_a_file_over_the_stated_limit_is_refused_even_below_the_servers_mib(app):
    at = app(source="csv")
    rows = b"x,y\n" + b"1,2\n" * 20
    content = rows + b" " * (UPLOAD_BYTES + 1 - len(rows))  # 5 000 001 bytes < 5 MiB
    upload(at, content)
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert "5,000,001 bytes, more than the limit of 5 MB (5,000,000 bytes)" in error
    assert at.session_state["_settings"]["source"] == "csv"
    assert at.session_state["_settings"]["n"] == 200  # the synthetic data stay


def test_a_file_at_the_limit_is_read(app):
    at = app(source="csv")
    rows = b"x,y\n" + b"1,2\n3,5\n"
    upload(at, rows + b"\n" * (UPLOAD_BYTES - len(rows)))  # blank lines are skipped
    assert not at.exception and not at.error
    assert at.session_state["_settings"]["n"] == 2


def test_the_sidebar_states_the_limit(app):
    at = app(source="csv")
    assert any("and 5 MB." in c.value for c in at.sidebar.caption)
