"""The "From Keras to here" page in AppTest: it renders, follows the sidebar, never crashes."""

import base64
import csv
import functools
import io
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import gd
from tests.conftest import chart_specs
from ui import codegen, keras_to_here
from ui.controls import STORE, Settings
from ui.models import MODELS


@pytest.fixture
def page(app):
    """Open the lesson in the app (its links to the Playground need the navigation)."""
    return functools.partial(app, "lessons/keras_to_here.py")


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def codes(at: AppTest) -> list[str]:
    return [block.value for block in at.code]


def test_renders_scripts_history_and_seven_charts(page):
    at = page()
    assert_clean(at)
    scripts = codes(at)
    assert len(scripts) == 5  # three scripts, then the two update functions that ran
    assert "def keras_step(" in scripts[3] and "def pytorch_step(" in scripts[4]
    assert "keras.optimizers.SGD(" in scripts[0]
    assert "SGD(\n    lr=0.05,  # Keras 3 rejects lr=" in scripts[1]
    assert "DataLoader(" in scripts[2] and "sampler=PageOrder(n_train, 0)" in scripts[2]
    assert len(at.get("plotly_chart")) == 7
    assert at.dataframe, "history.history is shown as a table"
    assert at.get("download_button"), "the run can be downloaded"
    assert "exact numbers in Keras or PyTorch" in at.markdown[0].value
    assert "`batch_size=32` on 200 training rows" in at.markdown[-1].value


@pytest.mark.parametrize(("key", "value"), [("decay", 0.01), ("batch_size", 16), ("momentum", 0.9)])
def test_a_control_changes_the_charts_and_the_code(page, key, value):
    at = page()
    charts_before, code_before = chart_specs(at), codes(at)
    at.select_slider(key=key).set_value(value).run()
    assert_clean(at)
    assert chart_specs(at) != charts_before
    assert codes(at) != code_before
    if key == "decay":
        assert "InverseTimeDecay" in codes(at)[0] and "LambdaLR" in codes(at)[2]


def test_conventions_part_with_decay_and_momentum(page):
    at = page(decay="0.1", momentum="0.9", validation_split="0.2")
    assert_clean(at)
    captions = " ".join(c.value for c in at.caption)
    assert "Keras steps further" in captions
    assert "floor(200·(1 − 0.2)) = 160" in captions
    assert list(at.dataframe[0].value.columns) == ["epoch", "loss", "val_loss"]


def test_diverging_settings_show_a_message_and_no_exception(page):
    at = page(learning_rate="1.5")  # diverges at update 12, in epoch 2
    assert not at.exception, [e.value for e in at.exception]
    assert any("diverged at update 12" in w.value for w in at.warning)
    assert len(codes(at)) == 5 and len(at.get("plotly_chart")) == 7


def test_blowing_up_in_the_first_epoch_never_shows_a_traceback(page):
    at = page(learning_rate="10.0", momentum="0.9")
    assert not at.exception, [e.value for e in at.exception]
    assert at.warning or at.error


def test_the_lr_gotcha_quotes_keras_3s_error_with_this_runs_rate(page):
    at = page(learning_rate="0.1", decay="0.01")
    assert_clean(at)
    assert "Keras 3 rejects `lr=`" in [h.value for h in at.subheader]
    captions = " ".join(c.value for c in at.caption)
    assert "`ValueError: Argument(s) not recognized: {'lr': 0.1}`" in captions
    assert "InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.01)" in captions


def test_the_lr_gotcha_table_gives_each_keras_its_rate():
    s = Settings(learning_rate=0.05, decay=0.01, epochs=3, batch_size=50)
    data = gd.datasets.linear(n=s.n, seed=s.data_seed)
    run = gd.fit(
        gd.models.LinearRegression(),
        data.x,
        data.y,
        gd.SGD(0.05, decay=0.01),
        gd.Training(epochs=3),
        batch_size=50,
    )
    shown = keras_to_here.keras3_rejects_lr(s, run)
    (table,) = shown.figure.data
    keras, does, rate = table.cells.values
    assert keras[-1] == "Keras 3"
    assert does[-1] == "ValueError: Argument(s) not recognized: {'lr': 0.05}"
    legacy = 0.05 / (1 + 0.01 * 11)  # the last of 3 epochs of ceil(200/50) = 4 updates
    assert rate[0] == rate[1] == f"0.05 / (1 + 0.01·t): {legacy:.4g} at the last update (t = 11)"
    assert "0.01 with lr= alone" in rate[2]  # tf.keras 2.11-2.15 drops lr= and keeps 0.01
    assert "`SGD(lr=0.05)` raises" in shown.caption


def links(at: AppTest) -> list[str]:
    return [link.proto.query_string for link in at.get("page_link")]


def test_moot_gotchas_draw_their_own_illustration_and_link_it(page):
    at = page(n="192")  # decay 0, no split, momentum 0, and 32 divides 192: all five are moot
    assert_clean(at)
    captions = [c.value for c in at.caption]
    illustrated = [c for c in captions if c.startswith("**Illustration:** your ")]
    assert len(illustrated) == 5, captions
    assert "decay = 0.1" in illustrated[0] and "lr_t = 0.05 / (1 + 0.1·t)" in illustrated[0]
    assert "⌈192 / 10⌉ = 20 (the last batch has 2 rows)" in illustrated[2]
    assert "floor(192·(1 − 0.2)) = 153" in illustrated[3]
    assert "decay and momentum are 0" in illustrated[4] and "Keras steps further" in illustrated[4]
    assert links(at) == [
        "n=192&decay=0.1",
        "n=192&decay=0.1",
        "n=192&batch_size=10",
        "n=192&validation_split=0.2",
        "n=192&decay=0.1&momentum=0.8",
    ]
    paths = json.loads(at.get("plotly_chart")[-1].proto.spec)["data"]
    keras, pytorch = (p for p in paths if p.get("name") in ("Keras / TensorFlow", "PyTorch"))
    assert keras["x"] != pytorch["x"], "the illustrated conventions part"


def test_gotchas_the_settings_show_are_drawn_from_the_settings(page):
    at = page(decay="0.1", momentum="0.9", validation_split="0.2")  # 160 rows: 32 and 10 leave 0
    assert_clean(at)
    illustrated = [c.value for c in at.caption if c.value.startswith("**Illustration:**")]
    assert len(illustrated) == 1 and "batch_size = 32 divides the 160" in illustrated[0]
    assert links(at) == ["batch_size=7&decay=0.1&momentum=0.9&validation_split=0.2"]


def test_only_the_zero_knob_is_illustrated():
    s = Settings(decay=0.01)
    example = keras_to_here.conventions_example(s)
    assert (example.decay, example.momentum) == (0.01, keras_to_here.EXAMPLE_MOMENTUM)
    assert keras_to_here.conventions_example(Settings(decay=0.01, momentum=0.5)) is None
    assert keras_to_here.decay_example(s) is None
    assert keras_to_here.split_example(Settings(), n=1) is None  # 1 row cannot split
    assert keras_to_here.uneven_example(Settings(batch_size=1), n_train=2) is None
    assert keras_to_here.uneven_example(Settings(batch_size=4), n_train=6) is None


def test_no_illustrative_pair_when_a_third_run_would_break_the_budget(page):
    # 41 M units a run (6,400 training rows), 17 M for the loss surface: two runs fit, not three
    at = page(model="tanh", n="8000", batch_size="1", epochs="100")
    assert_clean(at)
    assert not [w.value for w in at.warning if "Too much work" in w.value]  # two runs fit
    captions = " ".join(c.value for c in at.caption)
    assert "paths coincide" in captions and "too much work for one request" in captions
    assert "momentum=0.8" not in links(at)[-1]  # the other illustrations still link


def test_the_momentum_contours_follow_a_blow_up(page):
    def window(at: AppTest) -> float:
        x = json.loads(at.get("plotly_chart")[-1].proto.spec)["data"][0]["x"]
        if isinstance(x, dict):  # Plotly's typed array: {"dtype", "bdata"}
            x = np.frombuffer(base64.b64decode(x["bdata"]), dtype=x["dtype"])
        return float(x[-1] - x[0])

    calm = window(page(decay="0.01", momentum="0.5"))
    blown = window(page(decay="0.01", momentum="0.5", learning_rate="1.5"))
    assert blown > 2 * calm  # the window widened to hold the first swings of the blow-up


# ---- issue 16: the links open what they show; the code reads whole at 1280x720 ----


def test_an_illustration_link_opens_exactly_its_settings(page):
    at = page(n="192", epochs="5")
    (first, *_) = at.get("page_link")
    assert first.proto.query_string == "n=192&decay=0.1&epochs=5"
    at.query_params.clear()
    for pair in first.proto.query_string.split("&"):
        key, value = pair.split("=")
        at.query_params[key] = value
    at.switch_page("lessons/playground.py").run()  # what a click does
    assert_clean(at)
    stored = at.session_state[STORE]
    assert (stored["n"], stored["decay"], stored["epochs"]) == (192, 0.1, 5)
    assert dict(at.query_params) == {"n": "192", "decay": "0.1", "epochs": "5"}


def test_the_update_functions_span_the_page_and_no_code_is_cut_off(page):
    at = page()
    assert_clean(at)
    for column in at.columns:  # not beside the chart, in a 320 px column
        assert not [c for c in column.code if "_step(" in c.value]
    blocks = at.code
    assert "def keras_step(" in blocks[3].value and "def pytorch_step(" in blocks[4].value
    assert all(block.proto.wrap_lines for block in blocks)  # a long line wraps, not hides


# ---- issue 18: the network, 49 weights and no (w, b) ----


def network_ends(s: Settings) -> tuple[np.ndarray, np.ndarray]:
    """The final weights of ``s`` in Keras's and in PyTorch's momentum convention."""
    data = gd.datasets.curve(n=s.n, noise=s.noise, seed=s.data_seed)
    return tuple(
        gd.fit(
            gd.models.MLP(),
            data.x,
            data.y,
            gd.SGD(s.learning_rate, momentum=s.momentum, decay=s.decay, convention=convention),
            s.training,
            batch_size=s.batch_size,
        ).params[-1]
        for convention in ("keras", "pytorch")
    )


def test_the_network_gets_its_scripts_its_start_and_its_losses(page):
    at = page(model="network", decay="0.1", momentum="0.9", init_seed="5")
    assert_clean(at)
    s = Settings(model="network", decay=0.1, momentum=0.9, init_seed=5)
    keras3, keras2, torch, *_ = codes(at)  # as shown: the final line end dropped
    assert keras3 == codegen.keras3_code(s).rstrip() and 'Dense(16, activation="tanh")' in keras3
    assert keras2 == codegen.keras2_code(s).rstrip()
    assert torch == codegen.pytorch_code(s).rstrip() and "torch.tensor(W1.T)" in torch
    words = " ".join(m.value for m in at.markdown)
    assert "starts at the same 49 weights (Keras's default start" in words
    assert "drawn from seed 5" in words and "(w, b)" not in words
    captions = " ".join(c.value for c in at.caption)
    assert "the 49 weights (W1[0,0] … b2) after it" in captions
    assert "49 weights have no plane of their own" in captions
    keras, pytorch = network_ends(s)
    assert f"Their final weights differ by up to {np.max(np.abs(keras - pytorch)):.3g}." in captions
    assert len(at.get("plotly_chart")) == 7
    figure = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert [trace["name"] for trace in figure["data"]] == ["Keras / TensorFlow", "PyTorch"]
    assert figure["layout"]["xaxis"]["title"]["text"] == "update"


def test_the_network_download_has_a_column_per_weight_and_stays_small():
    s = Settings(model="network", n=200, batch_size=1, epochs=60)  # 12 000 updates
    data = gd.datasets.curve(n=s.n, noise=s.noise, seed=s.data_seed)
    run = gd.fit(gd.models.MLP(), data.x, data.y, gd.SGD(0.01), s.training, batch_size=s.batch_size)
    names = MODELS["network"].parameters
    header, *table = csv.reader(io.StringIO(keras_to_here.run_csv(run, names).decode()))
    assert header[5:-1] == list(names)  # after update, epoch, batch_size, rate, batch loss
    rows = keras_to_here.csv_updates(run)
    most = keras_to_here.CSV_VALUES // (3 + len(names))  # 9 615 rows of 52 numbers
    assert rows.size <= most + s.epochs and rows[-1] == run.updates < keras_to_here.CSV_ROWS
    last = [float(cell) for cell in table[-1][5:-1]]
    np.testing.assert_array_equal(last, run.params[-1])


# ---- issue 19: the heaviest page, visited again, trains nothing ----


def test_a_second_visit_at_the_heaviest_settings_trains_nothing(page, monkeypatch):
    # The run and both conventions of its illustrative pair: three runs of ~56 MB each, which
    # the run cache's largest tier must hold at once, or every visit evicts what the next needs.
    at = page(n="10000", batch_size="1", epochs="100")
    assert_clean(at)
    fits = []
    fit = gd.fit
    monkeypatch.setattr(gd, "fit", lambda *args, **kw: fits.append(args) or fit(*args, **kw))
    at.run()
    assert_clean(at)
    assert fits == []
