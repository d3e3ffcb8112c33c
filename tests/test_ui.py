"""Figure builders, links, presets and explanations, tested without Streamlit running."""

import numpy as np
import pytest

import gd
from gd import stability_bound
from ui import cache, charts, explain
from ui.controls import Settings, link_query, read_link
from ui.models import MODELS
from ui.playground import PRESETS


def small_run(validation_split=0.2):
    data = gd.datasets.linear(n=50, seed=0)
    training = gd.Training(epochs=3, validation_split=validation_split)
    run = gd.fit(gd.models.LinearRegression(), data.x, data.y, gd.SGD(0.1), training, batch_size=8)
    return data, run


def run_for(settings: Settings) -> gd.Run:
    data = gd.datasets.linear(
        n=settings.n, noise=settings.noise, x_mean=settings.x_mean, x_std=settings.x_std
    )
    opt = gd.SGD(settings.learning_rate, momentum=settings.momentum, decay=settings.decay)
    return gd.fit(
        gd.models.LinearRegression(),
        data.x,
        data.y,
        opt,
        gd.Training(epochs=settings.epochs, shuffle=settings.shuffle, init=settings.start),
        batch_size=settings.batch_size,
    )


def test_thin_keeps_start_end_and_epoch_boundaries():
    points = charts.thin(100_001, keep_every=1000, max_points=500)
    assert points[0] == 0 and points[-1] == 100_000
    assert set(range(0, 100_001, 1000)) <= set(points.tolist())
    assert points.size < 700


def test_contour_figure_marks_start_end_minimum_and_fixes_the_ranges():
    _, run = small_run()
    axis = np.linspace(-3, 3, 11)
    loss = np.ones((11, 11))
    fig = charts.contour_figure(
        axis, axis, loss, np.array([2.0, -1.0]), ("w", "b"), [charts.path_from_run(run, "batch 8")]
    )
    names = [trace.name for trace in fig.data]
    assert names == ["loss", "batch 8", "batch 8: epoch ends", "batch 8: end", "start", "minimum"]
    assert fig.layout.xaxis.title.text == "w" and fig.layout.yaxis.title.text == "b"
    assert tuple(fig.layout.xaxis.range) == (-3, 3)
    epoch_ends = fig.data[2]
    assert len(epoch_ends.x) == 3  # one open circle per completed epoch
    assert fig.data[4].x[0] == run.params[0, 0]


def test_figures_stay_small_for_a_million_updates():
    data = gd.datasets.linear(n=10_000, seed=0)
    run = gd.fit(
        gd.models.LinearRegression(),
        data.x,
        data.y,
        gd.SGD(0.01),
        gd.Training(epochs=100),
        batch_size=1,
    )
    assert run.updates == 1_000_000
    grid = np.linspace(0, 1, 81)  # the Playground's linear-regression grid (ui.cache.surface)
    figures = {
        "contour": charts.contour_figure(
            grid,
            grid,
            np.ones((81, 81)),
            np.zeros(2),
            ("w", "b"),
            [charts.path_from_run(run, "b1")],
        ),
        "data": charts.data_figure(MODELS["linear"], data.x, data.y, run.n_train, run.params[-1]),
    }
    for name, fig in figures.items():
        assert len(fig.to_json()) < 150_000, name  # the payload budget


def test_data_figure_highlights_a_batch_and_separates_validation_rows():
    data, run = small_run()
    fig = charts.data_figure(
        MODELS["linear"],
        data.x,
        data.y,
        run.n_train,
        run.params[-1],
        highlight=run.batch_rows(0),
    )
    names = [t.name for t in fig.data]
    assert names[:3] == ["training rows", "validation rows (the last ones)", "this mini-batch"]
    assert len(fig.data[1].x) == 10 and len(fig.data[2].x) == 8


def test_read_link_parses_valid_values_and_explains_bad_ones():
    values, notices = read_link(
        {
            "learning_rate": "0.3",
            "nesterov": "true",
            "momentum": "0.9",
            "batch_size": "37",
            "n": "1e3",
        }
    )
    assert (values["learning_rate"], values["nesterov"], values["batch_size"]) == (0.3, True, 37)
    assert values["n"] == 1000 and notices == []
    values, notices = read_link({"nesterov": "true"})
    assert values["nesterov"] is False
    assert notices == ["nesterov=true needs momentum > 0, so Nesterov is off."]
    values, notices = read_link({"batch_size": "190", "validation_split": "0.2"})
    assert values["batch_size"] == 32  # 190 > floor(200 · 0.8) = 160 training rows
    assert notices == ["batch_size=190 is out of range, so the default 32 is used."]


def test_settings_url_lists_only_changed_values():
    assert Settings().url() == {}
    assert Settings(batch_size=1, nesterov=True, momentum=0.9).url() == {
        "batch_size": "1",
        "nesterov": "true",
        "momentum": "0.9",
    }


def test_a_link_followed_in_a_session_keeps_what_it_does_not_name():
    session = Settings(n=100, epochs=5, momentum=0.9, nesterov=True, validation_split=0.2)
    values, notices = read_link({"learning_rate": "0.2", "batch_size": "16"}, session)
    assert values == {**vars(session), "learning_rate": 0.2, "batch_size": 16}
    assert notices == []
    values, notices = read_link({"momentum": "2", "batch_size": "90"}, session)
    assert (values["momentum"], values["batch_size"]) == (0.9, 32)  # 90 > 80 training rows
    assert notices == [
        "momentum=2 is out of range, so the current 0.9 is kept.",
        "batch_size=90 is out of range, so the default 32 is used.",
    ]
    values, notices = read_link({"momentum": "0.0"}, session)  # Nesterov needs momentum
    assert (values["momentum"], values["nesterov"], notices) == (0.0, False, [])
    values, notices = read_link({"n": "5"}, session)  # floor(5 · 0.8) = 4 rows train: fine
    assert (values["n"], values["validation_split"], notices) == (5, 0.2, [])
    held_out = Settings(n=100, validation_split=0.9, batch_size=8)
    values, notices = read_link({"n": "5"}, held_out)  # floor(5 · 0.1) = 0 rows would train
    assert (values["n"], values["validation_split"]) == (5, 0.0)
    assert notices[0].endswith("So the default validation_split=0.0 is used.")


def test_a_link_names_every_setting_it_changes_defaults_included():
    session = Settings(momentum=0.9, nesterov=True, epochs=5)
    cell = Settings(learning_rate=0.1, epochs=5)  # momentum 0: a default, but not the session's
    assert link_query(cell, session) == {
        "learning_rate": "0.1",
        "momentum": "0.0",
        "nesterov": "false",
        "epochs": "5",
    }
    assert read_link(link_query(cell, session), session)[0] == vars(cell)
    assert link_query(session, session) == session.url()  # a link to the page's own settings


def test_presets_show_what_their_lessons_claim():
    runs = {  # the regressions' presets; the network's has its own (tests/test_network_stage.py)
        name: run_for(preset.settings())
        for name, preset in PRESETS.items()
        if preset.settings().model == "linear"
    }
    assert runs["Keras defaults"].updates == 7
    assert runs["Too large a learning rate"].diverged_at is not None
    assert runs["Full-batch gradient descent"].updates_per_epoch == 1
    assert runs["Full-batch gradient descent"].diverged_at is None
    noisy = runs["SGD noise floor"]
    last_epoch = noisy.loss[-noisy.updates_per_epoch :]
    assert last_epoch.std() > 0.01 * last_epoch.mean()  # it keeps jittering
    decayed = runs["Decay rescues a large learning rate"]
    assert decayed.diverged_at is None
    assert decayed.learning_rate[-1] < decayed.learning_rate[0] / 10
    swings = runs["Momentum overshoots a narrow valley"]
    w = swings.params[:, 0]
    assert np.sum(np.diff(np.sign(np.diff(w))) != 0) >= 4  # w changes direction repeatedly
    for name, run in runs.items():
        assert run.diverged_at is None or name == "Too large a learning rate", name


def test_updates_arithmetic_and_status_sentences():
    _, run = small_run(validation_split=0.0)
    text = explain.updates_arithmetic(run.n_train, run.batch_size)
    assert text == "⌈50 / 8⌉ = 7 (the last batch has 2 rows)"
    label, why = explain.status(run, explain.Landscape(min_loss=run.loss.min() - 10))
    assert label == "still moving" and "above the minimum" in why
    label, _ = explain.status(run, explain.Landscape(min_loss=run.loss[-1]))
    assert label == "converged"


def test_divergence_advice_uses_the_hessian_bound():
    data = gd.datasets.linear(n=200, seed=0)
    settings = Settings(learning_rate=2.0, momentum=0.0)
    run = run_for(settings)
    bound = stability_bound(data.x, data.y, 0.0)
    text = explain.divergence_advice(settings, data, run)
    assert f"below {bound:.3g}" in text
    assert 0.7 < bound < 1.3  # x ~ N(0, 1): λmax ≈ 2, so 2/λmax ≈ 1
    assert "Try a learning rate of 0.3." in text  # largest preset rate under 0.997 / 2
    assert stability_bound(data.x, data.y, 0.9) == pytest.approx(1.9 * bound)


def test_update_rule_latex_carries_the_numbers_and_the_convention():
    keras = explain.update_rule_latex(Settings(learning_rate=0.05, momentum=0.9, decay=0.01), 32)
    assert r"\frac{0.05}{1 + 0.01\,t}" in keras and "0.9\\, v_t" in keras
    assert r"\frac{1}{32}" in keras
    torch = explain.update_rule_latex(Settings(momentum=0.9, convention="pytorch"), 8)
    assert "b_0 = g_0" in torch
    nesterov = explain.update_rule_latex(Settings(momentum=0.5, nesterov=True), 8)
    assert r"0.5\, v_{t+1} - \eta_t\, g_t" in nesterov


def test_schedule_caption_uses_the_rate_one_epoch_in():
    _, run = small_run(validation_split=0.0)  # 7 updates per epoch
    caption = explain.schedule_caption(Settings(learning_rate=0.1, decay=0.5), run)
    assert "one epoch in (t = 7) the rate is 0.02222" in caption  # 0.1 / (1 + 0.5·7)


def test_every_model_is_one_registry_entry_with_facts_from_gd():
    """Names come from the gd model, the scripts' true values from the generator's defaults."""
    for key, spec in MODELS.items():
        assert spec.key == key
        model = spec.build()
        assert spec.parameters == model.param_names(1)
        values = [value for _, value in spec.truth]
        stated = spec.generator(n=20, seed=0, **dict(zip(spec.true_values, values, strict=True)))
        np.testing.assert_array_equal(stated.y, spec.generator(n=20, seed=0).y)
        assert spec.closed_form == (key == "linear")
    assert Settings(model="tanh", w0=0.5, b0=-1.0).start.tolist() == [0.5, -1.0]
    assert MODELS["tanh"].start_labels == ("Start w", "Start a")


def test_a_release_reads_one_shared_data_and_surface_not_copies():
    """The data, the loss surface and its widened windows come from resource caches: every
    call gets the same object, read-only (a data cache unpickled a copy for each call)."""
    s = Settings(data_seed=4321)
    calls = [
        lambda: cache.dataset_for(s, None),
        lambda: cache.surface_for_data(s, None),
        lambda: cache.widened_for_data(s, None, (2.0, 4.0), 21),
    ]
    for call in calls:
        value = call()
        assert call() is value
    assert not cache.surface_for_data(s, None).loss.flags.writeable
    assert not cache.widened_for_data(s, None, (2.0, 4.0), 21).loss.flags.writeable
