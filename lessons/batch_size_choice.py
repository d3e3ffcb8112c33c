"""How big should my batch be? Steps to a target against batch size, measured on your data."""

import streamlit as st

from ui import batch_size_choice as choice
from ui import batch_size_choice_charts as views
from ui import controls, lesson

MAX_EPOCHS = "critical_max_epochs"
TARGET = "target_fraction"
MY_MS = "my_ms_per_step"
MY_BATCH = "my_batch_size"

st.title("How big should my batch be?")
st.markdown(views.QUESTION)
settings = lesson.start(
    omit=("batch_size", "learning_rate", "decay", "nesterov", "epochs", "shuffle", "seed")
)

st.sidebar.subheader("This page")
st.session_state.setdefault(TARGET, choice.DEFAULT_TARGET)
fraction = st.sidebar.select_slider(
    "Target: how far from the start loss down to the minimum",
    choice.TARGETS,
    key=TARGET,
    bind="query-params",
    format_func=choice.target_label,
    help="A run reaches the target when its full training loss is this far down, from the "
    "loss at the start to the lowest loss. Closer to 100 % asks for more precision.",
)
st.session_state.setdefault(MAX_EPOCHS, choice.DEFAULT_EPOCHS)
wanted_epochs = st.sidebar.select_slider(
    "Longest run (epochs)",
    choice.EPOCH_CHOICES,
    key=MAX_EPOCHS,
    bind="query-params",
    help="A batch size that does not reach the target within this many epochs counts as "
    "not reached.",
)

n_train = choice.training_rows(settings)
max_epochs = choice.epochs_within_budget(n_train, wanted_epochs)
if max_epochs < wanted_epochs:
    st.info(
        f"{wanted_epochs} epochs of every run on {n_train:,} rows exceed this page's work "
        f"budget, so the runs stop after {max_epochs} epochs, the most that fits."
    )

progress = st.progress(0.0, text="Training every batch size at every learning rate…")
with lesson.explained_errors():
    measured = choice.measure(
        settings,
        fraction,
        max_epochs,
        lambda done, total: progress.progress(
            done / total, text=f"Measured {done} of {total} batch sizes"
        ),
    )
progress.empty()
result = measured.result
cost = choice.server_cost(settings)

st.markdown(
    f"Target: a full training loss of **{result.target_loss:.4g}**, "
    f"{choice.target_label(fraction)} of the way from the start ({measured.start_loss:.4g}) "
    f"to the minimum ({measured.min_loss:.4g}). {result.learning_rates.size} learning rates "
    f"from {result.learning_rates.min():.2g} to {result.learning_rates.max():.2g} × "
    f"{result.batch_sizes.size} batch sizes × {result.seeds.size} seeds, up to "
    f"{result.max_epochs} epochs each."
)

st.subheader("Steps to the target")
st.plotly_chart(views.steps_figure(result), key="chart_steps")
st.markdown(views.fit_sentence(result))
note = views.edge_note(result)
if note:
    st.caption(note)
missing = result.batch_sizes[~result.reached]
if missing.size:
    st.caption(
        "Not reached within the longest run: batch size "
        + ", ".join(str(int(size)) for size in missing)
        + "."
    )

left, right = st.columns(2)
left.plotly_chart(views.epochs_figure(result), key="chart_epochs")
left.caption(views.EPOCHS_CAPTION)
right.plotly_chart(views.rate_figure(result), key="chart_rates")
right.markdown(views.rate_sentence(result))
controls.page_link(
    right,
    "lessons/maps.py",
    label="See every learning rate × batch size on the maps",
    icon=":material/grid_on:",
)

st.subheader("Gradient noise during training")
st.markdown(views.NOISE_SCALE)
along = choice.noise_along(settings, measured)
if along is None:
    st.info("No batch size reached the target, so there is no run to follow.")
else:
    left, right = st.columns([3, 2])
    left.plotly_chart(views.noise_figure(along, result.b_crit), key="chart_noise_scale")
    right.latex(r"B_\text{simple} = \frac{\operatorname{tr}\Sigma}{\lvert G\rvert^2}")
    right.markdown(views.noise_sentence(along))
    right.markdown(
        views.agreement_sentence(
            result, measured.b_simple_start, float(along.b_simple[along.marks[2]])
        )
    )

st.subheader("Time to the target")
left, right = st.columns([3, 2])
right.markdown(views.cost_sentence(cost))
right.markdown(
    "Keras's progress bar prints your cost per step, e.g. `32/32 ━━━━ 1s 3ms/step`. Enter it "
    "and the batch size it was printed at:"
)
mine, at = right.columns(2)
my_ms = mine.number_input(
    "Your ms/step", min_value=0.0, value=0.0, step=0.5, key=MY_MS, bind="query-params"
)
my_batch = at.number_input(
    "at batch size",
    min_value=1,
    max_value=n_train,
    value=min(32, n_train),
    key=MY_BATCH,
    bind="query-params",
)
learner = cost.scaled_to(my_ms, int(my_batch)) if my_ms > 0 else None
server_best = views.fastest(result, cost)
learner_best = views.fastest(result, learner) if learner is not None else None
left.plotly_chart(views.time_figure(result, cost, learner), key="chart_time")
right.markdown(views.time_sentence(server_best, learner_best, int(my_batch)))
right.caption(
    "One ms/step cannot split your cost into its fixed and per-row parts, so your curve keeps "
    "this server's split, scaled to your number. On a GPU the cost per row stays nearly flat "
    "up to a memory limit (the rows are processed in parallel), so the fixed cost dominates "
    "and the fastest batch size moves right, towards and past B_crit."
)

st.subheader("Takeaway")
st.markdown(views.takeaway(result, server_best, learner_best))
