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
