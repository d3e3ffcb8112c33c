"""Uploading the learner's own CSV on the Playground: every bad file explains itself, and
nothing that worked before is lost."""

from pathlib import Path

import pytest

from tests.conftest import chart_specs

DATA = Path(__file__).parent / "data"

BAD_FILES = {
    "empty.csv": "The file is empty",
    "header_only.csv": "but no data rows",
    "binary_garbage.csv": "does not look like a text CSV file",
    "semicolon.csv": "looks semicolon-separated",
    "one_column.csv": "Row 1 has 1 column",
    "three_columns.csv": "Row 1 has 3 columns",
    "non_numeric.csv": "'abc' is not a number",
    "nan_cells.csv": "a missing (NaN) or infinite value",
    "inf_cells.csv": "infinite value",
    "huge_values.csv": "Rescale the column",
    "single_row.csv": "at least 2 are needed",
}


def upload(at, name: str, content: bytes):
    at.file_uploader(key="csv_file").set_value((name, content, "text/csv")).run()
    return at


def metrics(at):
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize(("name", "message"), BAD_FILES.items())
def test_a_malformed_file_shows_why_and_keeps_the_previous_data(app, name, message):
    at = app(source="csv")
    upload(at, "good.csv", (DATA / "crlf_no_header.csv").read_bytes())
    before = (chart_specs(at), metrics(at))
    upload(at, name, (DATA / name).read_bytes())
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and message in errors[0] and name in errors[0]
    assert "nothing changed" in errors[0]
    assert (chart_specs(at), metrics(at)) == before


@pytest.mark.parametrize(
    "name", ["utf8_bom.csv", "latin1_header.csv", "scientific_spaces_no_final_newline.csv"]
)
def test_a_good_file_replaces_the_data(app, name):
    at = app(source="csv")
    before = chart_specs(at)
    upload(at, name, (DATA / name).read_bytes())
    assert not at.exception and not at.error
    assert chart_specs(at) != before
    rows = {"utf8_bom.csv": 2, "latin1_header.csv": 2}.get(name, 3)
    assert at.session_state["_settings"]["batch_size"] == rows  # min(32, rows): one batch
    assert at.session_state["_settings"]["n"] == rows


def test_too_many_rows_are_refused_with_the_limit(app):
    at = app(source="csv")
    content = "x,y\n" + "1,2\n" * 10_001
    upload(at, "big.csv", content.encode())
    assert "more than the limit of 10000" in at.error[0].value


def test_values_whose_loss_overflows_diverge_with_an_explanation(app):
    at = app(source="csv")
    content = "x,y\n" + "".join(f"{i}e100,{2 * i}e100\n" for i in range(1, 6))
    upload(at, "huge.csv", content.encode())
    assert not at.exception and not at.error
    warning = " ".join(w.value for w in at.warning)
    assert "Diverged at update" in warning and "Try a learning rate of" in warning
    assert chart_specs(at)  # the charts still draw, up to the blow-up


def test_the_sample_csv_is_offered_and_parses():
    import io

    import gd

    data = gd.datasets.from_csv(io.BytesIO(gd.datasets.sample_csv()))
    assert data.n == 50


def test_the_rows_that_train_are_the_files_whatever_n_the_synthetic_data_had(app):
    """A file held while the learner visits the synthetic data and changes its size: back on
    the file, ``n`` is the file's rows again, so the work budget and the batch-size slider count
    the rows that train (a 300-row file once counted as 20)."""
    at = app("lessons/inside_a_batch.py", source="csv")
    upload(at, "rows.csv", ("x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(300))).encode())
    at.selectbox(key="source").set_value("synthetic").run()
    at.select_slider(key="n").set_value(20).run()
    at.selectbox(key="source").set_value("csv").run()
    assert not at.exception and not at.error
    assert at.session_state["_settings"]["n"] == 300
    assert at.select_slider(key="batch_size").options[-1] == "300 (full batch)"


def lost_upload(at, name: str, content: bytes):
    """What a reconnect to a new process sends: the browser's uploader still lists a file, but
    this server never received its bytes (AppTest hands the bytes over before each run)."""
    register = at._register_uploaded_files
    at._register_uploaded_files = lambda runner: None
    try:
        return upload(at, name, content)
    finally:
        at._register_uploaded_files = register


def test_a_file_lost_with_its_process_is_said_once_and_the_uploader_is_emptied(app):
    """Issue 21: after a reconnect the page said "No file yet" beside the old file's name and
    drew the synthetic data silently; now it says the file is gone, and one short run without
    the uploader makes the browser forget the stale entry before the page shows it empty."""
    fresh = app(source="csv")
    at = app(source="csv")
    lost_upload(at, "rows.csv", (DATA / "crlf_no_header.csv").read_bytes())
    assert not at.exception and not at.error
    warnings = [w.value for w in at.warning if "file is gone" in w.value]
    assert len(warnings) == 1 and "Upload it again" in warnings[0]
    assert "synthetic data" in warnings[0]
    assert not [i for i in at.sidebar.info if "No file yet" in i.value]
    assert len(at.file_uploader) == 0  # off this short run: the browser drops the entry
    at.run()  # the fragment's rerun: the uploader is back, empty, and the notice stays
    assert len(at.file_uploader) == 1 and not at.exception
    assert chart_specs(at) == chart_specs(fresh)  # the synthetic data, as the notice says
    assert [w.value for w in at.warning if "file is gone" in w.value] == warnings
    assert not [i for i in at.sidebar.info if "No file yet" in i.value]


def test_uploading_again_after_a_lost_file_replaces_the_data_and_ends_the_notice(app):
    at = app(source="csv")
    lost_upload(at, "rows.csv", (DATA / "crlf_no_header.csv").read_bytes())
    at.run()
    upload(at, "rows.csv", (DATA / "crlf_no_header.csv").read_bytes())
    assert not at.exception and not at.error
    assert not [w for w in at.warning if "file is gone" in w.value]
    assert at.session_state["_settings"]["n"] == 3


def test_a_fresh_link_to_the_upload_is_no_lost_file(app):
    """A link with source=csv and no file sent: today's "No file yet", no notice."""
    at = app(source="csv")
    assert any("No file yet" in i.value for i in at.sidebar.info)
    assert not [w for w in at.warning if "file is gone" in w.value]


def test_leaving_the_upload_for_the_synthetic_data_ends_the_lost_file_notice(app):
    at = app(source="csv")
    lost_upload(at, "rows.csv", (DATA / "crlf_no_header.csv").read_bytes())
    at.selectbox(key="source").set_value("synthetic").run()
    assert not [w for w in at.warning if "file is gone" in w.value]
    at.selectbox(key="source").set_value("csv").run()
    assert not [w for w in at.warning if "file is gone" in w.value]
    assert any("No file yet" in i.value for i in at.sidebar.info)
